"""Policy text → nodes. The only module that imports lark; no Lark object escapes it."""
from __future__ import annotations

import datetime as dt
import difflib
import re
import sys
import unicodedata
from decimal import Decimal
from functools import lru_cache

import attrs
from lark import Lark, Token, Transformer, v_args
from lark import __version__ as LARK_VERSION
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from engine.language import nodes
from engine.language.cache_folder import cache_folder
from engine.language.catalogue import Text, diagnostic, say
from engine.language.errors import Diagnostic, PolicyError
from engine.language.grammar import BLOCK_KINDS, GRAMMAR_PATH, TOP_KEYWORDS, keywords  # noqa: F401 (the parser's words)
from engine.language.source import SourceFile, Span

# Terminal names in the words of a policy author (Jinja's describe_token idea): (Chinese, English).
TERMINAL_WORDS = {
    "NAME": ("一个名称", "a name"), "NUMBER": ("如 30 或 2.50 的数", "a number like 30 or 2.50"),
    "DATE": ("如 2014-07-01 的日期", "a date like 2014-07-01"),
    "STRING": ('双引号中的文字 "…"', 'text in "double quotes"'), "_NL": ("行尾", "the end of the line"),
    "$END": ("文件结尾", "the end of the file"), "BAND": ("如 65-69 或 80+ 的分段", "a band like 65-69 or 80+"),
    "PERCENT": ("如 2.25% 的百分比", "a percentage like 2.25%"), "DASH": ("'-'", "'-'"),
    "VBAR": ("'|'", "'|'"), "COLON": ("':'", "':'"), "EQUAL": ("'='", "'='"), "LPAR": ("'('", "'('"),
    "RPAR": ("')'", "')'"), "COMMA": ("','", "','"),
    "BLOCK_KIND": ("块关键字（value、tiers、subsidy、daijiao、reward、bonus…）",
                   "a block keyword (value, tiers, subsidy, daijiao, reward, bonus, …)"),
    "COMPARE": ("比较符", "a comparison"), "PLUS": ("'+'", "'+'"), "SLASH": ("'/'", "'/'"), "STAR": ("'*'", "'*'"),
}

# Curated messages for the common mistakes, matched by parser state (Lark's match_examples); the texts are
# engine.language.catalogue's `syntax.<label>` and `syntax.<label>.hint`.
CURATED = {
    "missing-period": ["value x: 元\n  70.00 cite a\n", "value x: 元\n  2019-01-01 22 cite a\n"],
    "unclosed-row": ["tiers t\n  from 2011-07-01 cite a\n  | 100 | 30\n",
                     "tiers t\n  from 2011-07-01 cite a\n  | 档次 | 省 |\n  | 100 | 30\n"],
    "missing-versions": ["value x: 元\nvalue y: 元\n", "value x: 元\n"],
    "bad-date": ["value x: 元\n  from 2014-7-1 1 cite a\n", "value x: 元\n  from 2014 1 cite a\n"],
    "missing-expression": ["component c = a +\n", "component c =\n", "component c = max(a, )\n"],
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # Building the LALR tables takes 0.1 s of every process start (`jubao batch`, `eval`, `check`, each server
    # worker); Lark's own cache keeps them in a file, rebuilt when the grammar, the options or Lark change (it
    # checks a digest) and ignored when unreadable.
    return Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr",
                propagate_positions=True, maybe_placeholders=False, cache=_grammar_cache() or False)


def _grammar_cache() -> str | None:
    """Where the built parser is kept (engine.language.cache_folder), one file per Lark and Python version; None where it
    cannot be kept."""
    folder = cache_folder()
    if folder is None:
        return None
    return str(folder / f"policy-grammar.lark{LARK_VERSION}.py{sys.version_info[0]}{sys.version_info[1]}.cache")


def parse(source: SourceFile) -> nodes.PolicyFile:
    """Parse one file; raise PolicyError with every syntax diagnostic found."""
    diagnostics: list[Diagnostic] = []
    definitions: list[nodes.Definition] = []
    for offset, chunk_text in _chunks(source.text):
        deep = _too_deep(chunk_text)
        if deep is not None:  # refused before parsing: Lark takes seconds to fail on such a line
            diagnostics.append(diagnostic("too-deep", "too-deep", Span(source.name, offset + deep, 1), "too-deep.hint"))
            continue
        try:
            tree = _parser().parse(chunk_text)
            definitions.extend(_ToNodes(_Where(source.name, offset)).transform(tree).children)
        except UnexpectedInput as exc:
            diagnostics.append(_syntax_diagnostic(source, chunk_text, exc, offset))
        except VisitError as exc:  # a value error raised inside a transformer method
            inner = exc.orig_exc
            if isinstance(inner, _NodeError):
                diagnostics.append(inner.diagnostic)
            else:
                raise
    if diagnostics:
        raise PolicyError(diagnostics)
    return nodes.PolicyFile(name=source.name, definitions=tuple(definitions))


MAX_OPERATORS = 2000  # per formula line: far past any real rule, well before the parser or checker runs deep
_FORMULA_LINE = re.compile(r"\s*(let|component|when)\b")
_OPERATOR = re.compile(r"[-+*/×÷−(]|\bnot\b")


def _too_deep(chunk: str) -> int | None:
    """The line (1-based in the chunk) of a formula with more operators than anyone writes, or None."""
    for number, line in enumerate(chunk.split("\n"), start=1):
        if len(line) > MAX_OPERATORS and _FORMULA_LINE.match(line) and \
                len(_OPERATOR.findall(line.split("#", 1)[0])) > MAX_OPERATORS:
            return number
    return None


@attrs.frozen
class _Where:
    """The file a chunk comes from and how many lines of it come before the chunk's first line."""

    name: str
    offset: int


def _chunks(text: str) -> list[tuple[int, str]]:
    """Split at top-level keyword lines: (lines before the chunk, the chunk's text).

    Parsing block by block reports each real error once, instead of the cascade that error recovery
    produces. A chunk after the first starts with one newline (the parser state the curated syntax
    examples were written for); spans add the offset, so the text is never padded to its line (which
    made parsing quadratic in the number of blocks).
    """
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if re.match(rf"({'|'.join(TOP_KEYWORDS)})\b", line)]
    if not starts or starts[0] != 0:
        starts = [0] + starts
    chunks = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = "\n".join(lines[start:end])
        chunks.append((start - 1, "\n" + body + "\n") if start else (0, body + "\n"))
    return chunks


class _NodeError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


def _syntax_diagnostic(source: SourceFile, chunk: str, exc: UnexpectedInput, offset: int) -> Diagnostic:
    line, column = max(exc.line, 1) + offset, max(exc.column, 1)
    if isinstance(exc, UnexpectedEOF) or exc.line < 1:
        lines = chunk.rstrip("\n").split("\n")
        line, column = len(lines) + offset, len(lines[-1]) + 1
    span = Span(source.name, line, column)
    if isinstance(exc, UnexpectedCharacters):
        ch = source.line_text(line)[column - 1: column] or " "
        return diagnostic("syntax", say("syntax.character", a=ch), span, _character_hint(ch))
    # Lark compares parser states by stack depth too: give the examples the same leading newline
    # that line-number padding (or a comment) gives the chunk.
    guess = _keyword_guess(exc)
    if guess:  # a misspelt keyword says more than the curated message for the state it leaves
        return diagnostic("syntax", _unexpected_message(exc), span, guess)
    lead = "\n" if chunk.lstrip(" \t\u3000")[:1] in ("\n", "#") else ""
    label = exc.match_examples(_parser().parse, {k: [lead + e for e in v] for k, v in CURATED.items()},
                               use_accepts=True)
    if label:
        return diagnostic("syntax", say(f"syntax.{label}"), span, say(f"syntax.{label}.hint"))
    return diagnostic("syntax", _unexpected_message(exc), span, _expected_hint(exc))


def _keyword_guess(exc: UnexpectedInput) -> Text | None:
    """A misspelt keyword (`form` for `from`): the closest keyword the parser would take here."""
    token = getattr(exc, "token", None)
    if token is None or token.type != "NAME":
        return None
    words = []
    for name in getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ():
        if name == "BLOCK_KIND":
            words += BLOCK_KINDS
            continue
        try:
            pattern = _parser().get_terminal(name).pattern
        except KeyError:
            continue
        if pattern.type == "str" and pattern.value.isidentifier():
            words.append(pattern.value)
    close = difflib.get_close_matches(str(token), words, n=1, cutoff=0.6)
    if not close:
        return None
    expected = _expected_hint(exc)
    guess = say("did-you-mean", a=close[0])
    return Text(f"{guess.zh} {expected.zh}", f"{guess.en} {expected.en}") if expected else guess


def _character_hint(ch: str) -> Text:
    if ch in "“”‘’":
        return say("syntax.curly-quote.hint")
    if unicodedata.east_asian_width(ch) == "F":
        return say("syntax.full-width.hint", a=ch, b=unicodedata.normalize("NFKC", ch))
    return say("syntax.character.hint")


def _unexpected_message(exc: UnexpectedInput) -> Text:
    token = getattr(exc, "token", None)
    if token is None or token.type == "$END":
        return say("syntax.file-ends")
    if token.type == "_NL":
        return say("syntax.line-ends")
    zh, en = TERMINAL_WORDS.get(token.type, (token.type.lower(), token.type.lower()))
    return say("syntax.unexpected", a=str(token), b=Text(zh, en))


def _expected_hint(exc: UnexpectedInput) -> Text | None:
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    words = []
    for name in expected:
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
        else:
            try:
                pattern = _parser().get_terminal(name).pattern
                word = f"'{pattern.value}'" if pattern.type == "str" else name.lower()
            except KeyError:
                word = name.lower()
            words.append((word, word))
    words = list(dict.fromkeys(words))
    if not words:
        return None
    return say("syntax.expected", a=Text("、".join(zh for zh, _ in words), ", ".join(en for _, en in words)))


def _span(where: _Where, meta) -> Span:
    return Span(where.name, meta.line + where.offset, meta.column, _plus(meta.end_line, where.offset),
                meta.end_column)


def _tspan(where: _Where, token: Token) -> Span:
    return Span(where.name, token.line + where.offset, token.column, _plus(token.end_line, where.offset),
                token.end_column)


def _plus(line: int | None, offset: int) -> int | None:
    return None if line is None else line + offset


def _unquote(token: Token) -> str:
    return str(token)[1:-1]


def _date(file: str, token: Token) -> dt.date:
    try:
        return dt.date.fromisoformat(str(token))
    except ValueError:
        raise _NodeError(diagnostic("bad-date", say("bad-date", a=str(token)), _tspan(file, token),
                                     say("bad-date.hint"))) from None


@v_args(meta=True)
class _ToNodes(Transformer):
    """One short method per grammar rule, building `engine.language.nodes`."""

    def __init__(self, where: _Where):
        super().__init__()
        self.file = where  # spans are built with it (engine.language.source.Span wants the name and file lines)

    def _labels(self, items) -> nodes.Labels:
        texts = [_unquote(i) for i in items if isinstance(i, Token) and i.type == "STRING"]
        return nodes.Labels(zh=texts[0] if texts else None, en=texts[1] if len(texts) > 1 else None)

    def label(self, meta, items):
        return items[0]

    def region(self, meta, items):
        names = [i for i in items if isinstance(i, Token) and i.type == "NAME"]
        return nodes.Region(str(names[0]), self._labels(items), str(names[1]) if len(names) > 1 else None,
                            _span(self.file, meta))

    def source(self, meta, items):
        fields = {k: v for k, v in (i for i in items if isinstance(i, tuple))}
        return nodes.Source(str(items[0]), self._labels(items), fields.get("number"), fields.get("issued"),
                            fields.get("status", (None,))[0], fields.get("seed"), fields.get("url"),
                            _span(self.file, meta), fields.get("status", (None, None))[1])

    def source_number(self, meta, items):
        return ("number", _unquote(items[0]))

    def source_issued(self, meta, items):
        return ("issued", _date(self.file, items[0]))

    def source_status(self, meta, items):
        return ("status", (str(items[0]), _tspan(self.file, items[0])))

    def source_seed(self, meta, items):
        return ("seed", _unquote(items[0]))

    def source_url(self, meta, items):
        return ("url", _unquote(items[0]))

    def group(self, meta, items):
        requires = next((i for i in items if isinstance(i, tuple)), (None, ()))
        return nodes.Group(str(items[0]), self._labels(items), requires[0], tuple(c for c, _ in requires[1]),
                           _span(self.file, meta), requires[1])

    def requires(self, meta, items):
        return (str(items[0]), tuple(items[1:]))  # the key, then (value, label or None) per choice

    def fact(self, meta, items):
        _, type_name, choices = next(i for i in items if isinstance(i, tuple) and i[0] == "type")
        flags = [i for i in items if isinstance(i, tuple) and i[0] in ("required", "unless")]
        required = any(f[0] == "required" for f in flags)
        unless = next((f[1] for f in flags if f[0] == "unless"), None)
        return nodes.Fact(str(items[0]), self._labels(items[1:]), type_name, choices, required, unless,
                          _span(self.file, meta))

    def simple_type(self, meta, items):
        return ("type", str(items[0]), ())

    def choice_type(self, meta, items):
        return ("type", "choice", tuple(items))

    def choice(self, meta, items):
        return (str(items[0]), _unquote(items[1]) if len(items) > 1 else None)

    def required_flag(self, meta, items):
        return ("required", None)

    def required_unless(self, meta, items):
        return ("unless", str(items[0]))

    def block(self, meta, items):
        clauses = tuple(i for i in items if isinstance(i, nodes.Clause))
        versions = tuple(i for i in items if isinstance(i, nodes.Version))
        return nodes.Block(str(items[0]), str(items[1]), self._labels(items[2:]), clauses, versions,
                           _span(self.file, meta))

    def unit_clause(self, meta, items):
        return nodes.Clause("unit", (items[0],), _span(self.file, meta))

    def paid_by_clause(self, meta, items):
        return nodes.Clause("paid_by", (str(items[0]),), _span(self.file, meta))

    def by_clause(self, meta, items):
        return nodes.Clause("by", tuple(str(i) for i in items), _span(self.file, meta))

    def per_clause(self, meta, items):
        return nodes.Clause("per", (str(items[0]), str(items[1])), _span(self.file, meta))

    def cap_clause(self, meta, items):
        return nodes.Clause("cap", (str(items[0]),), _span(self.file, meta))

    def for_clause(self, meta, items):
        return nodes.Clause("for", tuple(str(i) for i in items), _span(self.file, meta))

    def unit(self, meta, items):
        words = [str(i) for i in items if i.type in ("NAME", "PERCENT_SIGN")]
        return "/".join(words)

    def version(self, meta, items):
        period = items[0]
        condition = next((i for i in items if isinstance(i, nodes.Condition)), None)
        citation = next((i for i in items if isinstance(i, nodes.Citation)), None)
        figure = next((self._atom(i) for i in items[1:] if isinstance(i, Token)), None)
        step = next((i for i in items if isinstance(i, nodes.Atom)), None)
        rows = tuple(i for i in items if isinstance(i, nodes.Row))
        return nodes.Version(period, condition, figure, citation, rows, _span(self.file, meta), step)

    def step(self, meta, items):
        return self._atom(items[-1])

    def dated_period(self, meta, items):
        return nodes.Period(_date(self.file, items[0]), _date(self.file, items[1]) if len(items) > 1 else None,
                            _span(self.file, meta))

    def always_period(self, meta, items):
        return nodes.Period(None, None, _span(self.file, meta))

    def condition(self, meta, items):
        return nodes.Condition(str(items[0]), str(items[1]), _span(self.file, meta))

    def citation(self, meta, items):
        names = [str(i) for i in items if i.type == "NAME"]
        note = next((_unquote(i) for i in items if i.type == "STRING"), None)
        return nodes.Citation(names[0], names[1] if len(names) > 1 else None, note, _span(self.file, meta))

    def row(self, meta, items):
        return nodes.Row(tuple(items), _span(self.file, meta))

    def cell(self, meta, items):
        return tuple(self._atom(i) for i in items)

    def _atom(self, token: Token) -> nodes.Atom:
        text = _unquote(token) if token.type == "STRING" else str(token)
        return nodes.Atom(token.type, text, _tspan(self.file, token))

    def component(self, meta, items):
        return self._formula("component", meta, items)

    def let(self, meta, items):
        return self._formula("let", meta, items)

    def _formula(self, kind, meta, items):
        lines = [i for i in items if isinstance(i, tuple)]
        expr = next(i for i in items[1:] if not isinstance(i, (tuple, Token)))
        get = lambda k: next((v for key, v in lines if key == k), None)  # noqa: E731
        paid_while, while_span = get("while") or ("receiving", None)
        paid_by, paid_by_span = get("paid_by") or (None, None)
        return nodes.Component(kind, str(items[0]), self._labels(items[1:]), expr, get("cite"), get("when"),
                               paid_while, paid_by, get("period"), _span(self.file, meta),
                               while_span=while_span, paid_by_span=paid_by_span)

    def component_citation(self, meta, items):
        return ("cite", items[0])

    def component_when(self, meta, items):
        return ("when", items[0])

    def component_while(self, meta, items):
        return ("while", (str(items[0]), _tspan(self.file, items[0])))

    def component_period(self, meta, items):
        return ("period", items[0])

    def component_paid_by(self, meta, items):
        return ("paid_by", (str(items[0]), _tspan(self.file, items[0])))

    def number(self, meta, items):
        return nodes.Number(Decimal(str(items[0])), _span(self.file, meta))

    def percent(self, meta, items):
        return nodes.Number(Decimal(str(items[0])[:-1]) / 100, _span(self.file, meta), percent=True)

    def ref(self, meta, items):
        return nodes.Ref(str(items[0]), _span(self.file, meta))

    def call(self, meta, items):
        return nodes.Call(str(items[0]), tuple(i for i in items[1:] if i is not None), _span(self.file, meta))

    def _binary(self, op, meta, items):
        return nodes.Binary(op, items[0], items[-1], _span(self.file, meta))

    def add(self, meta, items):
        return self._binary("+", meta, items)

    def sub(self, meta, items):
        return self._binary("-", meta, items)

    def mul(self, meta, items):
        return self._binary("*", meta, items)

    def div(self, meta, items):
        return self._binary("/", meta, items)

    def comparison(self, meta, items):
        return nodes.Binary(str(items[1]), items[0], items[2], _span(self.file, meta))

    def equals(self, meta, items):  # `when hukou.type = rural` reads as a comparison, as officers write it
        return nodes.Binary("==", items[0], items[-1], _span(self.file, meta))

    def and_expr(self, meta, items):
        return self._fold("and", meta, items)

    def or_expr(self, meta, items):
        return self._fold("or", meta, items)

    def _fold(self, op, meta, items):
        result = items[0]
        for item in items[1:]:
            result = nodes.Binary(op, result, item, _span(self.file, meta))
        return result

    def negation(self, meta, items):
        return nodes.Unary("not", items[0], _span(self.file, meta))

    def neg(self, meta, items):
        return nodes.Unary("-", items[-1], _span(self.file, meta))
