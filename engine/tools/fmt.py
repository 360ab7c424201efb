"""`jubao fmt`: the canonical layout of a policy file; the meaning never changes.

Layout rules (close to how the files under policies/ are written by hand):

* A definition's first line starts in column 0; every other line of it (version lines, table rows,
  source fields, formula lines, comments between them) is indented two spaces.
* A table (the rows under one version line) is aligned by display width: a wide or fullwidth character
  (`unicodedata.east_asian_width` W or F) takes two columns. Each cell is `| ` + content + padding + ` |`;
  the words of a cell are one space apart. A cell holding a single number or percentage is right-aligned
  against the other numbers of its column (the header row excepted); a cell holding only `-` is written
  ` -`, as every current file writes it; anything else is left-aligned.
* A version line is `period  [for fact = value]  [figure [step N]]  [cite …]`: two spaces between its
  parts, one inside them; the figures of one block are right-aligned (`from 2023-01-01  103.00`).
* Blank lines: a run of them becomes one; blank lines inside a definition, at the start and at the end
  of the file go. Where the author put no blank line between two definitions (a group of `fact`
  lines, a `value` and the `component` that uses it) none is added.
* Trailing whitespace goes; the file ends with exactly one newline; line ends become `\\n`.
* Comments keep their text and their place. A comment line takes the indentation of the line below it
  inside the same definition; one right after a definition's last line keeps whether it was indented.
  A comment at the end of a line stays at the end of it (two spaces before `#` on rows and version lines).
* Dated versions of one block are put in date order when every version of the block is dated (stable:
  versions on the same date keep their order); each moves with the comments directly above it and its
  rows. The checker orders versions by date anyway, so the order written never changes the model.
* Header lines, source fields and formula lines keep their inner spacing: only their indentation and
  trailing whitespace change.

Safety: the text is parsed before formatting and the result after; unless both give the same definitions
(spans aside, versions compared in date order), the formatter falls back to whitespace-only changes and,
failing that too, refuses. `format_text` raises `FormatError` (a `PolicyError`, so the CLI prints its
diagnostics as it prints `jubao check`'s) for text that does not parse; `format_paths` writes nothing
when any file does not parse.
"""
from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from pathlib import Path

import attrs

from engine.language import nodes
from engine.language.catalogue import Text, diagnostic
from engine.language.errors import PolicyError
from engine.language.parse import BLOCK_KINDS, TOP_KEYWORDS, parse
from engine.language.source import SourceFile, Span

INDENT = "  "
_SPACE = " \t\u3000"  # what the grammar ignores between tokens
_HEADER = re.compile(rf"({'|'.join(TOP_KEYWORDS)})\b")

# The grammar's terminals, in its priority order (DATE > BAND > PERCENT > the rest).
_TOKEN = re.compile(r"""
    (?P<ws>[\t \u3000]+)
  | (?P<STRING>"[^"\n]*")
  | (?P<COMMENT>\#.*)
  | (?P<DATE>[0-9]{4}-[0-9]{2}-[0-9]{2})
  | (?P<BAND>[0-9]+\s*[–~]\s*[0-9]+|[0-9]+\+|[0-9]+-[0-9]+(?![0-9-]))
  | (?P<PERCENT>[0-9]+(\.[0-9]+)?%)
  | (?P<NUMBER>[0-9]+(\.[0-9]+)?)
  | (?P<NAME>(?![0-9])\w+(\.(?![0-9])\w+)*)
  | (?P<PUNCT>.)
""", re.VERBOSE)
_NUMERIC_CELL = re.compile(r"[-−]?[0-9]+(\.[0-9]+)?%?")


class FormatError(PolicyError):
    """Text the formatter will not touch: it does not parse (the diagnostics say where), or formatting it
    would change what it says."""


def width(text: str) -> int:
    """Display width: East Asian wide and fullwidth characters take two columns, combining marks none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def format_text(text: str, name: str = "<text>") -> str:
    """The canonical layout of one policy file's text (see the module docstring); idempotent.

    Raises FormatError when the text does not parse, or (a formatter bug, never expected) when no layout
    it can produce reads the same as the text.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    before = _meaning(text, name)
    for full in (True, False):
        result = _layout(text, full)
        try:
            if _meaning(result, name) == before:
                return result
        except FormatError:
            pass
    raise FormatError([diagnostic("fmt-unsafe", Text("格式化会改变文件的含义：文件未改动",
                                                     "formatting would change what the file says: it is left as it is"),
                                  Span(name, 1, 1))])


def format_paths(paths: list[Path], check: bool) -> list[Path]:
    """Format the given files and every `*.policy` file under the given folders; return the files whose
    text changes. With `check`, nothing is written. When any file does not parse, nothing is written
    and FormatError carries every such file's diagnostics."""
    files: list[Path] = []
    for path in map(Path, paths):
        found = sorted(path.rglob("*.policy")) if path.is_dir() else [path]
        files += [f for f in found if f not in files]
    changed, new_texts, problems = [], {}, []
    for f in files:
        raw = f.read_bytes()
        try:
            original = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems.append(diagnostic("encoding", "encoding", Span(str(f), 1, 1), "encoding.hint"))
            continue
        try:
            formatted = format_text(original, str(f))
        except FormatError as exc:
            problems.extend(exc.diagnostics)
            continue
        if formatted.encode("utf-8") != raw:
            changed.append(f)
            new_texts[f] = formatted
    if problems:
        raise FormatError(problems)
    if not check:
        for f, formatted in new_texts.items():
            f.write_text(formatted, encoding="utf-8", newline="\n")
    return changed


# ── meaning ──────────────────────────────────────────────────────────────────────────────────────────

def _meaning(text: str, name: str) -> tuple:
    """The definitions the text says, spans aside (nodes compare without them), versions in date order."""
    try:
        parsed = parse(SourceFile.from_text(name, text))
    except PolicyError as exc:
        raise FormatError(exc.diagnostics) from None
    except RecursionError:
        raise FormatError([diagnostic("too-deep", "too-deep", Span(name, 1, 1), "too-deep.hint")]) from None
    return tuple(attrs.evolve(d, versions=tuple(sorted(d.versions, key=_version_key)))
                 if isinstance(d, nodes.Block) else d for d in parsed.definitions)


def _version_key(v: nodes.Version):
    return (v.period.start or dt.date.min, str(v.condition and (v.condition.fact, v.condition.value)))


# ── layout ───────────────────────────────────────────────────────────────────────────────────────────

@attrs.define
class _Line:
    kind: str  # blank, comment, header, body
    text: str  # stripped of indentation and trailing whitespace
    indented: bool = False
    definition: int = -1  # index of the definition a code line belongs to


def _classify(text: str) -> list[_Line]:
    lines, definition = [], -1
    for raw in text.split("\n"):
        stripped = raw.strip(_SPACE)
        indented = raw[:1] in tuple(_SPACE)
        if not stripped:
            lines.append(_Line("blank", ""))
        elif stripped.startswith("#"):
            lines.append(_Line("comment", stripped, indented))
        elif _HEADER.match(stripped):
            definition += 1
            lines.append(_Line("header", stripped, indented, definition))
        else:
            lines.append(_Line("body", stripped, indented, definition))
    return lines


def _layout(text: str, full: bool) -> str:
    lines = _classify(text)
    code = [i for i, line in enumerate(lines) if line.kind in ("header", "body")]
    out: list[tuple[str, int]] = []  # (line, definition it belongs to; -1 at top level)
    for i, line in enumerate(lines):
        at = bisect.bisect_left(code, i)
        prev_code = code[at - 1] if at > 0 else None
        next_code = code[at] if at < len(code) and code[at] != i else \
            (code[at + 1] if at + 1 < len(code) else None)
        inside = next_code is not None and lines[next_code].kind == "body"
        if line.kind == "blank":
            if inside or not out:
                continue  # inside a definition, or at the start of the file
            if out[-1][0] != "":
                out.append(("", -1))
        elif line.kind == "comment":
            if inside:
                indent = INDENT
            elif prev_code is not None and out[-1][0] != "":
                indent = INDENT if line.indented else ""  # right after a definition: as written
            else:
                indent = ""
            out.append((indent + line.text, lines[next_code].definition if inside else -1))
        elif line.kind == "header":
            out.append((line.text, line.definition))
        else:
            out.append((INDENT + line.text, line.definition))
    while out and out[-1][0] == "":
        out.pop()
    if full:
        out = _blocks(out, lines)
    return "".join(text + "\n" for text, _ in out)


def _blocks(out: list[tuple[str, int]], lines: list[_Line]) -> list[tuple[str, int]]:
    """Lay out the version lines and tables of each dated block and put its versions in date order."""
    kinds = {line.definition: line.text.split(None, 1)[0] for line in lines if line.kind == "header"}
    result, i = [], 0
    while i < len(out):
        text, owner = out[i]
        if owner < 0 or not text or text[0] in _SPACE or kinds.get(owner) not in BLOCK_KINDS:
            result.append((_formula_period(text) if kinds.get(owner) in ("component", "let") else text, owner))
            i += 1
            continue
        j = i + 1
        while j < len(out) and out[j][1] == owner and out[j][0][:1] in tuple(_SPACE):
            j += 1
        body = [t[len(INDENT):] for t, _ in out[i + 1:j]]
        result.append((text, owner))
        result += [(t, owner) for t in _block_body(body)]
        i = j
    return result


def _formula_period(line: str) -> str:
    """A formula's `from … until …` / `always` line, spaced as a version's period is."""
    if not line.startswith(INDENT) or not line[len(INDENT):].startswith(("from", "always")):
        return line
    parts = _version_parts(line[len(INDENT):])
    if parts is None or any(parts.get(k) for k in ("condition", "figure", "cite")):
        return line
    return INDENT + _version_line(parts, 0)


def _block_body(body: list[str]) -> list[str]:
    """The lines under a block's header (indentation removed) → laid out, indented."""
    units: list[list[str]] = []  # each: comments directly above, version line, rows (and comments among them)
    head: list[str] = []  # lines before the first version line that are not comments above it
    pending: list[str] = []
    for line in body:
        if line.startswith("#"):
            pending.append(line)
        elif line.startswith("|"):
            if units:
                units[-1] += pending + [line]
            else:
                head += pending + [line]
            pending = []
        else:
            units.append(pending + [line])
            pending = []
    versions = [_version_parts(next(x for x in u if not x.startswith("#"))) for u in units]
    figure_width = max((width(p["figure"]) for p in versions if p and p.get("figure")), default=0)
    numbers = _number_widths([[x for x in unit if x.startswith("|")] for unit in units])
    laid = []
    for unit, parts in zip(units, versions):
        lines, k = [], 0
        while k < len(unit):
            line = unit[k]
            if line.startswith("|"):
                table = []
                while k < len(unit) and (unit[k].startswith("|") or unit[k].startswith("#")):
                    table.append(unit[k])
                    k += 1
                trailing = []
                while table and table[-1].startswith("#"):
                    trailing.insert(0, table.pop())
                lines += _table(table, numbers) + trailing
                continue
            if not line.startswith("#") and parts is not None:
                line = _version_line(parts, figure_width)
            lines.append(line)
            k += 1
        laid.append(lines)
    starts = [p["start"] if p else None for p in versions]
    if laid and all(isinstance(s, dt.date) for s in starts):
        laid = [unit for _, unit in sorted(zip(starts, laid), key=lambda pair: pair[0])]
    return [INDENT + line for line in head + [x for unit in laid for x in unit] + pending]


def _tokens(line: str) -> list[tuple[str, str]] | None:
    out = []
    for m in _TOKEN.finditer(line):
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def _version_parts(line: str) -> dict | None:
    """A version line's parts as text, or None when it is not one this formatter knows how to lay out."""
    tokens = _tokens(line)
    comment = tokens.pop()[1] if tokens and tokens[-1][0] == "COMMENT" else None
    words = [t for _, t in tokens]
    kinds = [k for k, _ in tokens]
    parts: dict = {"comment": comment}
    i = 0

    def take(*expected) -> bool:
        nonlocal i
        if i < len(tokens) and (tokens[i][1] in expected or tokens[i][0] in expected):
            i += 1
            return True
        return False

    if take("always"):
        parts["period"], parts["start"] = "always", None
    elif take("from") and take("DATE"):
        start = words[i - 1]
        if take("until"):
            if not take("DATE"):
                return None
        parts["period"] = " ".join(words[:i])
        try:
            parts["start"] = dt.date.fromisoformat(start)
        except ValueError:
            return None
    else:
        return None
    if i < len(tokens) and words[i] == "for":
        if not (take("for") and take("NAME") and take("=") and take("NAME")):
            return None
        parts["condition"] = "for {} = {}".format(words[i - 3], words[i - 1])
    if i < len(tokens) and words[i] != "cite" and kinds[i] in ("NUMBER", "DATE", "PERCENT", "STRING", "NAME",
                                                                "BAND"):
        parts["figure"] = words[i]
        i += 1
        if i < len(tokens) and words[i] in ("step", "步长"):
            if not (take("step", "步长") and take("NUMBER")):
                return None
            parts["step"] = " ".join(words[i - 2:i])
    if i < len(tokens) and words[i] == "cite":
        j = i
        if not (take("cite") and take("NAME")):
            return None
        take("NAME")
        take("STRING")
        parts["cite"] = " ".join(words[j:i])
    if i != len(tokens):
        return None
    return parts


def _version_line(parts: dict, figure_width: int) -> str:
    out = [parts["period"]]
    if parts.get("condition"):
        out.append(parts["condition"])
    if parts.get("figure"):
        figure = " " * (figure_width - width(parts["figure"])) + parts["figure"]
        out.append(figure + (" " + parts["step"] if parts.get("step") else ""))
    if parts.get("cite"):
        out.append(parts["cite"])
    if parts.get("comment"):
        out.append(parts["comment"])
    return "  ".join(out)


def _cells(line: str) -> tuple[list[str], str | None] | None:
    """A row's cells (words one space apart) and its end-of-line comment; None if it is not a plain row."""
    cells, current, comment, spaced = [], "", None, False
    for m in _TOKEN.finditer(line):
        kind, word = m.lastgroup, m.group()
        if kind == "COMMENT":
            comment = word
            break
        if word == "|":
            cells.append(current)
            current, spaced = "", False
        elif kind == "ws":
            spaced = True
        else:  # words one space apart; tokens written touching (`-5`) stay touching
            current += (" " if spaced and current else "") + word
            spaced = False
    if current or len(cells) < 2 or cells[0]:
        return None
    return cells[1:], comment


def _number_widths(tables: list[list[str]]) -> dict[int, int]:
    """Per column, the widest single number below the header rows of a block's tables: the numbers of
    one column line up across the block's versions, as its figures do."""
    numbers: dict[int, int] = {}
    for table in tables:
        for row in table[1:]:
            found = _cells(row)
            for c, cell in enumerate(found[0] if found else ()):
                if _NUMERIC_CELL.fullmatch(cell):
                    numbers[c] = max(numbers.get(c, 0), width(cell))
    return numbers


def _table(rows: list[str], numbers: dict[int, int]) -> list[str]:
    """Rows of one table (comments among them kept in place), aligned by display width."""
    parsed = [None if r.startswith("#") else _cells(r) for r in rows]
    if any(p is None for r, p in zip(rows, parsed) if not r.startswith("#")):
        return rows
    data = [p for p in parsed if p is not None]
    columns = max(len(cells) for cells, _ in data)
    texts = []
    for n, (cells, comment) in enumerate(data):
        shown = []
        for c, cell in enumerate(cells):
            if n and _NUMERIC_CELL.fullmatch(cell):
                cell = " " * (numbers.get(c, 0) - width(cell)) + cell
            elif n and cell in ("-", "−"):
                cell = " " + cell
            shown.append(cell)
        texts.append((shown, comment))
    widths = [0] * columns
    for shown, _ in texts:
        for c, cell in enumerate(shown):
            widths[c] = max(widths[c], width(cell))
    out, k = [], 0
    for r, p in zip(rows, parsed):
        if p is None:
            out.append(r)
            continue
        shown, comment = texts[k]
        k += 1
        line = "| " + " | ".join(cell + " " * (widths[c] - width(cell)) for c, cell in enumerate(shown)) + " |"
        out.append(line + ("  " + comment if comment else ""))
    return out
