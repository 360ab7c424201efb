"""A language server for policy files (LSP over stdio, on pygls): diagnostics, hover, definition,
completion and formatting.

A document is checked with its region folder, as `jubao check <folder>` checks it: the region's other
files (open ones as the editor holds them, the rest as on disk) and the bases beneath it (`national`,
from the same policy folder, or the engine's own when that folder has none). Diagnostics carry the
codes, messages and hints of `jubao check`; positions are converted from jubao's 1-based lines and
character columns to LSP's 0-based lines and code units (UTF-16 unless the client negotiated another).

`serve_stdio()` runs the server; `server` is the pygls server object.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import attrs
from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from engine.language import check as checker
from engine.language import model, nodes
from engine.language.errors import Diagnostic, PolicyError
from engine.language.parse import BLOCK_KINDS, keywords
from engine.language.registry import BASE_REGION, DEFAULT_POLICY_DIR, Registry, check_texts, extends_of, parse_files
from engine.language.source import SourceFile, Span
from engine.language.units import describe
from engine.tools.fmt import format_text

NAME = re.compile(r"(?![0-9])\w+(\.(?![0-9])\w+)*")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
DEBOUNCE_SECONDS = 0.2
KIND_WORDS = {"value": "数值", "tiers": "缴费档次表", "subsidy": "补贴表", "floor": "补贴下限", "daijiao": "代缴表",
              "reward": "奖励表", "bonus": "加发", "raise": "待遇调整", "early_start": "提前领取途径", "table": "表",
              "component": "养老金组成", "let": "中间量", "group": "人员类别", "fact": "事实", "source": "文献",
              "region": "地区"}
STATUS_WORDS = model.STATUS_LABELS
COMPLETION_KINDS = {"value": types.CompletionItemKind.Constant, "component": types.CompletionItemKind.Function,
                    "let": types.CompletionItemKind.Function, "group": types.CompletionItemKind.EnumMember,
                    "fact": types.CompletionItemKind.Field, "source": types.CompletionItemKind.Reference,
                    "region": types.CompletionItemKind.Module}


# --- positions ---------------------------------------------------------------------------------------------------

def code_units(text: str, encoding: str = types.PositionEncodingKind.Utf16) -> int:
    """How many code units of the client's position encoding `text` takes (UTF-16 by default)."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def char_index(line: str, units: int, encoding: str = types.PositionEncodingKind.Utf16) -> int:
    """The index in `line` of the character at `units` code units (clamped to the line)."""
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += code_units(ch, encoding)
    return len(line)


def lines_of(text: str) -> list[str]:
    return LINE_BREAK.split(text)


def lsp_range(span: Span, source: SourceFile | None, encoding: str = types.PositionEncodingKind.Utf16) -> types.Range:
    """A jubao span (1-based line, 1-based character column) as an LSP range on the span's first line.

    The range ends where the span ends when that is on the same line, else at the end of the word at the
    start (or one character), so that a definition-wide span does not underline its whole block.
    """
    line_text = source.line_text(span.line) if source is not None else ""
    line = max(span.line - 1, 0)
    start = min(max(span.column - 1, 0), len(line_text))
    if span.end_line == span.line and span.end_column is not None and span.end_column - 1 > start:
        end = min(span.end_column - 1, len(line_text))
    else:
        word = NAME.match(line_text, start)
        end = word.end() if word else min(start + 1, len(line_text))
    return types.Range(start=types.Position(line, code_units(line_text[:start], encoding)),
                       end=types.Position(line, code_units(line_text[:end], encoding)))


def lsp_diagnostic(d: Diagnostic, source: SourceFile | None, lang: str = "zh",
                   encoding: str = types.PositionEncodingKind.Utf16) -> types.Diagnostic:
    """A jubao diagnostic for the editor: code, message and hint as `jubao check` shows them."""
    shown = d.in_lang(lang)
    message = shown.message
    if shown.hint:
        message += f"\n{'hint' if lang == 'en' else '提示'}: {shown.hint}"
    severity = types.DiagnosticSeverity.Warning if d.severity == "warning" else types.DiagnosticSeverity.Error
    return types.Diagnostic(range=lsp_range(d.span, source, encoding), message=message, severity=severity,
                            code=d.code, source="jubao",
                            data={"message": shown.message, "hint": shown.hint, "line": d.span.line,
                                  "column": d.span.column, "file": d.span.file})


# --- what a document belongs to ----------------------------------------------------------------------------------

@attrs.frozen
class Place:
    """A document's region folder: the policy folder above it, the region, and the file's display name."""

    policy_dir: Path
    region: str
    display: str

    @property
    def root(self) -> Path:
        return self.policy_dir.parent


def place_of(uri: str) -> Place | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if not path:
        return None
    path = Path(path).resolve()
    policy_dir = path.parent.parent
    return Place(policy_dir, path.parent.name, path.relative_to(policy_dir.parent).as_posix())


@attrs.frozen
class Definition:
    """Where a name is defined, as written: its kind, labels, span and region."""

    name: str
    kind: str
    labels: nodes.Labels
    span: Span
    region: str


@attrs.define
class Analysis:
    """One check of a region with the editor's texts: diagnostics, the policy when it checks clean,
    and every definition of the region and its bases as written (also when it does not)."""

    place: Place | None
    sources: dict[str, SourceFile]  # display name → text, of every file read
    paths: dict[str, Path]  # display name → file on disk
    diagnostics: list[Diagnostic]
    policy: model.Policy | None
    definitions: dict[str, list[Definition]]  # name and Chinese label → definitions, the region's first
    region_files: list[str]  # display names of the files of the document's region folder

    def source(self, display: str) -> SourceFile | None:
        return self.sources.get(display)

    def uri(self, display: str) -> str | None:
        path = self.paths.get(display)
        return from_fs_path(str(path)) if path else None


def _read_folder(policy_dir: Path) -> tuple[dict[str, dict[str, str]], dict[str, Path], list[Diagnostic]]:
    """Texts of every region of a policy folder, and where each file is (display names as the registry's)."""
    texts, paths, unreadable = {}, {}, []
    if policy_dir.is_dir():
        registry = Registry(policy_dir)
        texts = registry.texts()
        for region in registry.regions:
            unreadable += registry.unreadable(region)
        for files in texts.values():
            for display in files:
                paths[display] = policy_dir.parent / display
    return texts, paths, unreadable


def analyse(uri: str, overlays: dict[str, str]) -> Analysis:
    """Check the region of the document `uri`; `overlays` maps open documents' URIs to their texts."""
    place = place_of(uri)
    if place is None:  # not a file on disk: check the text alone on the engine's policy folder
        name = uri
        diags = check_texts({name: overlays[uri]}, base=Registry(DEFAULT_POLICY_DIR))
        return Analysis(None, {name: SourceFile.from_text(name, overlays[uri])}, {}, diags, None, {}, [name])
    texts, paths, unreadable = _read_folder(place.policy_dir)
    texts.setdefault(place.region, {})
    for other, text in overlays.items():
        where = place_of(other)
        if where is not None and where.policy_dir == place.policy_dir:
            texts.setdefault(where.region, {})[where.display] = text
            paths[where.display] = where.root / where.display
    if BASE_REGION not in texts and place.region != BASE_REGION:  # a folder of its own: the engine's national
        base_texts, base_paths, _ = _read_folder(DEFAULT_POLICY_DIR)
        if BASE_REGION in base_texts:
            texts[BASE_REGION] = base_texts[BASE_REGION]
            paths.update({d: base_paths[d] for d in base_texts[BASE_REGION]})
    registry = Registry.from_sources(texts, place.policy_dir)
    diagnostics = [d for d in unreadable if d.span.file.startswith(f"{place.policy_dir.name}/{place.region}/")
                   or d.span.file in texts[place.region]]
    policy = None
    try:
        policy = registry.policy(place.region)
    except PolicyError as exc:
        diagnostics += exc.diagnostics
    sources = {name: src for files in registry.sources.values() for name, src in files.items()}
    return Analysis(place, sources, paths, diagnostics, policy, definitions_of(registry, place.region),
                    sorted(texts[place.region]))


def definitions_of(registry: Registry, region: str) -> dict[str, list[Definition]]:
    """Every definition of the region and its bases, parsed file by file (a file that does not parse is left
    out), by name and by Chinese label; the region's own come first."""
    found: dict[str, list[Definition]] = {}
    seen = set()
    name: str | None = region
    while name is not None and name not in seen and name in registry.sources:
        seen.add(name)
        files, _ = parse_files(registry.sources[name])
        for f in files:
            for d in f.definitions:
                kind = d.kind if isinstance(d, (nodes.Block, nodes.Component)) else type(d).__name__.lower()
                entry = Definition(d.name, kind, d.labels, d.span, name)
                if isinstance(d, nodes.Region):
                    continue
                for word in dict.fromkeys((d.name, d.labels.zh)):
                    if word:
                        found.setdefault(word, []).append(entry)
        name = extends_of(files) or (BASE_REGION if name != BASE_REGION else None)
    return found


# --- hover ---------------------------------------------------------------------------------------------------------

def word_at(line: str, index: int) -> str | None:
    """The name under (or just before) character `index` of a line, outside comments."""
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"':
            in_string = not in_string
        elif ch == "#" and not in_string:
            if index >= i:
                return None
            break
    for m in NAME.finditer(line):
        if m.start() <= index <= m.end():
            return m.group()
    return None


def figure_text(figure, unit: str | None) -> str:
    if isinstance(figure, bool):
        return "是" if figure else "否"
    if isinstance(figure, Decimal) and unit and unit.startswith("%"):
        return f"{(figure * 100).normalize():f}%" + unit[1:]
    if isinstance(figure, Decimal):
        return f"{figure:.2f}" if figure == figure.quantize(Decimal("0.01")) else f"{figure}"
    if isinstance(figure, dt.date):
        return figure.isoformat()
    if isinstance(figure, model.AmountRange):
        return figure.text()
    return str(figure)


def _cite_text(cite: model.Cite) -> str:
    status = "" if cite.status == "law" else f"（{STATUS_WORDS.get(cite.status, cite.status)}）"
    return f"{cite.source.name}：{cite.text}{status}"


def _version_lines(version: model.Version, sources: dict[str, SourceFile]) -> list[str]:
    """The version as written: its line and its table rows."""
    source = sources.get(version.span.file)
    if source is None:
        return []
    last = version.span.line
    for row in version.rows:
        last = max(last, row.span.line)
    return [source.line_text(n).strip() for n in range(version.span.line, last + 1)
            if source.line_text(n).strip() and not source.line_text(n).strip().startswith("#")]


def hover_text(word: str, analysis: Analysis, policy: model.Policy | None, today: dt.date) -> str | None:
    """Markdown for a name: its label, kind, unit, the value in force `today` with its citation, where defined."""
    name = policy.resolve(word) if policy else word
    written = analysis.definitions.get(word) or analysis.definitions.get(name) or []
    parts: list[str] = []
    if policy is not None and name in policy.definitions:
        d = policy.definitions[name][0]
        head = f"**{d.label()}** `{d.name}` — {KIND_WORDS.get(d.kind, d.kind)}"
        if d.labels.en:
            head += f" ({d.labels.en})"
        parts.append(head)
        facts = []
        if d.unit:
            facts.append(f"单位：{d.unit}")
        if d.paid_by:
            facts.append(f"出资：{model.LEVEL_LABELS.get(d.paid_by, d.paid_by)}")
        if d.basis:
            facts.append(f"依据：{d.basis}")
        if facts:
            parts.append("；".join(facts))
        versions = policy.versions_at(name, today)
        if not versions:
            parts.append(f"{today.isoformat()} 无有效版本")
        for v in versions:
            period = f"{v.start.isoformat() if v.start else '始终'} 起" + (f"，至 {v.end.isoformat()}" if v.end else "")
            when = f"（{v.condition[0]} = {v.condition[1]}）" if v.condition else ""
            value = f"{figure_text(v.figure, d.unit)} {d.unit or ''}".strip() if v.figure is not None else ""
            parts.append(f"{today.isoformat()} 现行{when}：{value or '见下表'}（{period}）")
            parts.append(f"引用：{_cite_text(v.cite)}" + (f"；{v.cite.note}" if v.cite.note and v.cite.note not in
                                                          v.cite.text else ""))
            lines = _version_lines(v, policy.files)
            if v.rows and lines:
                parts.append("```\n" + "\n".join(lines) + "\n```")
    elif policy is not None and name in policy.formulas:
        f = policy.formulas[name]
        head = f"**{f.label()}** `{f.name}` — {KIND_WORDS.get(f.kind, f.kind)}"
        if f.labels.en:
            head += f" ({f.labels.en})"
        parts.append(head)
        source = policy.files.get(f.span.file)
        if source is not None:
            parts.append("```\n" + source.line_text(f.span.line).strip() + "\n```")
        if f.kind == "component":
            parts.append("单位：元/月")
        if f.start or f.end:
            parts.append(f"有效期：{f.start or '…'}–{f.end or ''}")
        in_force = "" if f.covers(today) else f"（{today.isoformat()} 不在有效期内，为 0.00）"
        if f.cite:
            parts.append(f"引用：{_cite_text(f.cite)}{in_force}")
    elif policy is not None and name in policy.groups:
        g = policy.groups[name]
        parts.append(f"**{g.labels.zh or g.name}** `{g.name}` — 人员类别" + (f" ({g.labels.en})" if g.labels.en else ""))
        if g.required_key:
            parts.append(f"须注明 {g.required_key}：{', '.join(g.choices)}")
    elif policy is not None and name in policy.facts:
        f = policy.facts[name]
        parts.append(f"**{f.labels.zh or f.name}** `{f.name}` — 事实" + (f" ({f.labels.en})" if f.labels.en else ""))
        kind = "one of " + ", ".join(c + (f" {zh}" if zh else "") for c, zh in f.choices) if f.choices else f.type
        parts.append(f"类型：{kind}" + ("；必填" if f.required else ""))
    elif policy is not None and name in policy.sources:
        s = policy.sources[name]
        parts.append(f"**{s.title}** `{s.name}` — 文献")
        parts.append(s.text)
        if s.issued:
            parts.append(f"发布：{s.issued.isoformat()}")
        parts.append(f"状态：{STATUS_WORDS.get(s.status, s.status)}")
    elif checker.BUILTIN_ALIASES.get(word, word) in checker.BUILTINS:
        builtin = checker.BUILTIN_ALIASES.get(word, word)
        label, unit = checker.BUILTINS[builtin]
        parts.append(f"**{label}** `{builtin}` — 内置量")
        parts.append(f"单位：{describe(unit)}")
    elif word in checker.FUNCTIONS:
        parts.append(f"`{word}` — 函数 {checker.FUNCTIONS[word]}")
    elif word in model.LEVEL_NAMES:
        level = model.LEVEL_NAMES[word]
        parts.append(f"`{word}` — 出资层级：{model.LEVEL_LABELS[level]}（{level}）")
    elif written:
        d = written[0]
        parts.append(f"**{d.labels.zh or d.name}** `{d.name}` — {KIND_WORDS.get(d.kind, d.kind)}")
    if not parts:
        return None
    places = [f"{d.span.file}:{d.span.line}" for d in written]
    if places:
        parts.append("定义：" + "，".join(dict.fromkeys(places)))
    return "\n\n".join(parts)


# --- completion ----------------------------------------------------------------------------------------------------

def completion_items(analysis: Analysis, policy: model.Policy | None) -> list[types.CompletionItem]:
    items: dict[str, types.CompletionItem] = {}

    def add(label: str, kind, detail: str | None = None) -> None:
        if label and label not in items:
            items[label] = types.CompletionItem(label=label, kind=kind, detail=detail)

    for word, defs in analysis.definitions.items():
        d = defs[0]
        kind = COMPLETION_KINDS.get(d.kind, types.CompletionItemKind.Variable)
        detail = f"{KIND_WORDS.get(d.kind, d.kind)} {d.labels.zh or ''}".strip()
        add(word, kind, detail if word == d.name else f"{KIND_WORDS.get(d.kind, d.kind)} {d.name}")
    if policy is not None:
        for g in policy.groups.values():
            add(g.name, types.CompletionItemKind.EnumMember, f"人员类别 {g.labels.zh or ''}".strip())
        for name, layers in policy.definitions.items():
            add(name, types.CompletionItemKind.Constant, f"{KIND_WORDS.get(layers[0].kind)} {layers[0].label()}")
        for name, f in policy.formulas.items():
            add(name, types.CompletionItemKind.Function, f"{KIND_WORDS.get(f.kind)} {f.label()}")
    for name, (label, _) in checker.BUILTINS.items():
        add(name, types.CompletionItemKind.Variable, f"内置量 {label}")
        add(label, types.CompletionItemKind.Variable, f"内置量 {name}")
    for word, fn in checker.FUNCTIONS.items():
        add(word, types.CompletionItemKind.Function, f"函数 {fn}")
    for word, level in model.LEVEL_NAMES.items():
        add(word, types.CompletionItemKind.EnumMember, f"出资层级 {model.LEVEL_LABELS[level]}")
    for word in checker.WHILE_WORDS:
        add(word, types.CompletionItemKind.EnumMember, "发放状态 while")
    for word in model.STATUS_NAMES:
        add(word, types.CompletionItemKind.EnumMember, "引用状态")
    for word in (*keywords(), *BLOCK_KINDS):
        add(word, types.CompletionItemKind.Keyword, "关键字")
    return list(items.values())


# --- the server ----------------------------------------------------------------------------------------------------

class PolicyServer(LanguageServer):
    """The pygls server with the state the handlers share."""

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version
        try:
            release = version("jubao")
        except PackageNotFoundError:
            release = "0"
        super().__init__("jubao-policy", release)
        self.lang = "zh"
        self.today: dt.date | None = None  # None: the date of each request
        self.analyses: dict[str, Analysis] = {}  # uri → the latest analysis of its region
        self.last_policy: dict[tuple[str, str], model.Policy] = {}  # (policy folder, region) → last that checked
        self.published: dict[str, set[str]] = {}  # uri of the checked document → uris given diagnostics

    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or types.PositionEncodingKind.Utf16

    def overlays(self) -> dict[str, str]:
        return {uri: doc.source for uri, doc in self.workspace.text_documents.items()}

    def analysis(self, uri: str) -> Analysis:
        found = self.analyses.get(uri)
        if found is None:
            found = self.refresh(uri, publish=False)
        return found

    def policy_for(self, analysis: Analysis, uri: str) -> model.Policy | None:
        """The analysis's policy; while the text does not check clean, the last that did (or the files on disk)."""
        if analysis.policy is not None or analysis.place is None:
            return analysis.policy
        key = (str(analysis.place.policy_dir), analysis.place.region)
        if key not in self.last_policy:
            on_disk = analyse(uri, {})
            if on_disk.policy is not None:
                self.last_policy[key] = on_disk.policy
        return self.last_policy.get(key)

    def refresh(self, uri: str, publish: bool = True) -> Analysis:
        """Check the document's region again; publish diagnostics to each file of the region (and any other
        file a diagnostic points at), clearing files that no longer have any."""
        overlays = self.overlays()
        if uri not in overlays and place_of(uri) is None:  # neither open nor on disk: nothing to read
            return Analysis(None, {}, {}, [], None, {}, [])
        found = analyse(uri, overlays)
        self.analyses[uri] = found
        if found.place is not None and found.policy is not None:
            self.last_policy[(str(found.place.policy_dir), found.place.region)] = found.policy
        if publish:
            self.publish(uri, found)
        return found

    def publish(self, uri: str, found: Analysis) -> None:
        by_uri: dict[str, list[types.Diagnostic]] = {}
        for display in found.region_files:
            target = found.uri(display) or (uri if found.place is None else None)
            if target:
                by_uri.setdefault(target, [])
        for d in found.diagnostics:
            target = found.uri(d.span.file) or (uri if found.place is None else None)
            if target is None:
                continue
            by_uri.setdefault(target, []).append(lsp_diagnostic(d, found.source(d.span.file), self.lang,
                                                                self.encoding))
        for stale in self.published.get(uri, set()) - set(by_uri):
            by_uri[stale] = []
        self.published[uri] = {u for u, ds in by_uri.items() if ds}
        documents = self.workspace.text_documents
        for target, diags in by_uri.items():
            version = documents[target].version if target in documents else None
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=target, diagnostics=diags,
                                                                                  version=version))


server = PolicyServer()


@server.feature(types.INITIALIZE)
def initialize(ls: PolicyServer, params: types.InitializeParams) -> None:
    """initializationOptions: {"lang": "zh"|"en", "asOf": "YYYY-MM-DD"} (the date hover shows values for)."""
    options = params.initialization_options or {}
    if isinstance(options, dict):
        ls.lang = "en" if options.get("lang") == "en" else "zh"
        if options.get("asOf"):
            try:
                ls.today = dt.date.fromisoformat(str(options["asOf"]))
            except ValueError:  # a bad option must not fail the editor's start: hover shows today's figures
                pass


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PolicyServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PolicyServer, params: types.DidChangeTextDocumentParams) -> None:
    """Checked once typing pauses: a change followed by another within DEBOUNCE_SECONDS is not checked."""
    uri, version = params.text_document.uri, params.text_document.version
    await asyncio.sleep(DEBOUNCE_SECONDS)
    document = ls.workspace.text_documents.get(uri)
    if document is not None and document.version == version:
        ls.refresh(uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: PolicyServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PolicyServer, params: types.DidCloseTextDocumentParams) -> None:
    """The file is checked again as on disk, through another open document of its region if there is one."""
    uri = params.text_document.uri
    ls.analyses.pop(uri, None)
    stale = ls.published.pop(uri, set())
    place = place_of(uri)
    sibling = next((u for u in ls.workspace.text_documents if u != uri and place is not None and
                    (p := place_of(u)) is not None and (p.policy_dir, p.region) == (place.policy_dir, place.region)),
                   None)
    if sibling is not None:
        ls.refresh(sibling)
        return
    for target in stale | {uri}:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=target, diagnostics=[]))


def _word(ls: PolicyServer, uri: str, position: types.Position) -> str | None:
    document = ls.workspace.get_text_document(uri)
    lines = lines_of(document.source)
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    return word_at(line, char_index(line, position.character, ls.encoding))


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: PolicyServer, params: types.HoverParams) -> types.Hover | None:
    word = _word(ls, params.text_document.uri, params.position)
    if word is None:
        return None
    found = ls.analysis(params.text_document.uri)
    text = hover_text(word, found, ls.policy_for(found, params.text_document.uri), ls.today or dt.date.today())
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PolicyServer, params: types.DefinitionParams) -> list[types.Location] | None:
    """Every definition of the name: the region's first, then its bases' (national)."""
    word = _word(ls, params.text_document.uri, params.position)
    if word is None:
        return None
    found = ls.analysis(params.text_document.uri)
    policy = ls.policy_for(found, params.text_document.uri)
    defs = found.definitions.get(word) or (found.definitions.get(policy.resolve(word)) if policy else None) or []
    locations = []
    for d in defs:
        target = found.uri(d.span.file)
        if target is not None:
            locations.append(types.Location(uri=target, range=lsp_range(d.span, found.source(d.span.file),
                                                                        ls.encoding)))
    return locations or None


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["(", " "]))
def completion(ls: PolicyServer, params: types.CompletionParams) -> types.CompletionList:
    found = ls.analysis(params.text_document.uri)
    items = completion_items(found, ls.policy_for(found, params.text_document.uri))
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: PolicyServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    """The whole document as `jubao fmt` writes it; no edits when the text is already formatted or cannot be
    formatted (a syntax error: the diagnostics say where)."""
    text = ls.workspace.get_text_document(params.text_document.uri).source
    try:
        formatted = format_text(text)
    except PolicyError:
        return []
    if formatted == text:
        return []
    lines = lines_of(text)
    end = types.Position(len(lines) - 1, code_units(lines[-1], ls.encoding))
    return [types.TextEdit(range=types.Range(types.Position(0, 0), end), new_text=formatted)]


def serve_stdio() -> None:
    """Run the language server on stdin/stdout until the client asks it to exit."""
    server.start_io()


if __name__ == "__main__":
    serve_stdio()
