"""Finding regions under `policies/`, reading, parsing and checking each once.

"Prepare once, evaluate many": a Registry keeps every region's checked model.
"""
from __future__ import annotations

from pathlib import Path

from engine.language import check as checker
from engine.language import model, nodes
from engine.language.bundled import bundled
from engine.language.catalogue import diagnostic
from engine.language.errors import Diagnostic, PolicyError
from engine.language.parsed_files import parse_kept
from engine.language.source import SourceFile, Span

DEFAULT_POLICY_DIR = bundled("policies")
BASE_REGION = "national"


def read_source(path: Path, display: str) -> SourceFile:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PolicyError([diagnostic("encoding", "encoding", Span(display, 1, 1), "encoding.hint")]) from None
    return SourceFile.from_text(display, text)


def parse(source: SourceFile) -> nodes.PolicyFile:
    from engine.language.parse import (
        parse as parse_text,  # Lark is imported only when a file is not kept (parsed_files)
    )

    return parse_text(source)


def parse_files(sources: dict[str, SourceFile], keep: bool = True
                ) -> tuple[list[nodes.PolicyFile], list[Diagnostic]]:
    """Every file parsed, or its syntax diagnostics. `keep`: files that parse clean are kept for the next process
    (engine.language.parsed_files) — not for texts being edited (drafts, the editor), whose versions would crowd the cache."""
    files, diagnostics = [], []
    for name in sorted(sources):
        try:
            files.append(parse_kept(sources[name], parse) if keep else parse(sources[name]))
        except PolicyError as exc:
            diagnostics.extend(exc.diagnostics)
        except RecursionError:
            diagnostics.append(too_deep(sources[name]))
    return files, diagnostics


def too_deep(source: SourceFile) -> Diagnostic:
    """An expression nested past what the checker follows: pointed at the longest line, where it most likely is."""
    lines = source.text.splitlines() or [""]
    line = max(range(len(lines)), key=lambda i: len(lines[i])) + 1
    return diagnostic("too-deep", "too-deep", Span(source.name, line, 1), "too-deep.hint")


def _check(layers: list) -> model.Policy:
    try:
        return checker.check(layers)
    except RecursionError:
        sources = layers[-1].sources.values()
        worst = max(sources, key=lambda s: max(map(len, s.text.splitlines() or [""])))
        raise PolicyError([too_deep(worst)]) from None


def extends_of(files: list[nodes.PolicyFile]) -> str | None:
    for f in files:
        for d in f.definitions:
            if isinstance(d, nodes.Region) and d.extends:
                return d.extends
    return None


class Registry:
    """The checked policies of every region in one folder."""

    def __init__(self, policy_dir: Path | str = DEFAULT_POLICY_DIR, display_root: Path | str | None = None):
        self.policy_dir = Path(policy_dir)
        root = Path(display_root) if display_root else self.policy_dir.parent
        self.sources: dict[str, dict[str, SourceFile]] = {}
        self._models: dict[str, model.Policy] = {}
        self._errors: dict[str, list[Diagnostic]] = {}
        self._unreadable: dict[str, list[Diagnostic]] = {}
        for folder in sorted(p for p in self.policy_dir.iterdir() if p.is_dir()):
            paths = sorted(folder.glob("*.policy"))
            if paths:
                self.sources[folder.name] = {}
                for p in paths:
                    try:
                        self.sources[folder.name][_display(p, root)] = read_source(p, _display(p, root))
                    except PolicyError as exc:  # a file that is not text: the region reports it, others go on
                        self._unreadable.setdefault(folder.name, []).extend(exc.diagnostics)
        self._errors.update(self._unreadable)

    @classmethod
    def from_sources(cls, sources: dict[str, dict[str, str]], policy_dir: Path | str = DEFAULT_POLICY_DIR) -> "Registry":
        """A registry from source texts (region → file name → text), e.g. shipped to a cluster worker."""
        registry = cls.__new__(cls)
        registry.policy_dir = Path(policy_dir)
        registry.sources = {region: {name: SourceFile.from_text(name, text) for name, text in files.items()}
                            for region, files in sources.items()}
        registry._models, registry._errors = {}, {}
        return registry

    def unreadable(self, region: str) -> list[Diagnostic]:
        """Files of the region's folder that could not be read as text (left out of `sources`)."""
        return list(getattr(self, "_unreadable", {}).get(region, ()))

    def texts(self) -> dict[str, dict[str, str]]:
        return {region: {name: src.text for name, src in files.items()} for region, files in self.sources.items()}

    @property
    def regions(self) -> list[str]:
        return sorted(self.sources)

    def policy(self, region: str) -> model.Policy:
        if region not in self._models and region not in self._errors:
            self._build(region)
        if region in self._errors:
            raise PolicyError(self._errors[region])
        return self._models[region]

    def diagnostics(self, region: str) -> list[Diagnostic]:
        try:
            self.policy(region)
        except PolicyError as exc:
            return exc.diagnostics
        return []

    def _build(self, region: str) -> None:
        try:
            layers = self._layers(region)
            self._models[region] = _check(layers)
        except PolicyError as exc:
            self._errors[region] = exc.diagnostics

    def _layers(self, region: str) -> list[checker.Layer]:
        chain, seen, diagnostics = [], set(), []
        name: str | None = region
        while name is not None:
            if name in seen or name not in self.sources:
                span = Span(next(iter(self.sources.get(chain[-1].region, {"?": None}))), 1, 1) if chain else \
                    Span(str(self.policy_dir / region), 1, 1)
                raise PolicyError([diagnostic("unknown-region", "unknown-region", span, "unknown-region.hint",
                                              a=name)])
            seen.add(name)
            files, errs = parse_files(self.sources[name])
            diagnostics.extend(errs)
            chain.append(checker.Layer(name, files, self.sources[name]))
            name = extends_of(files) if name != BASE_REGION else None
            if name is None and chain[-1].region != BASE_REGION and BASE_REGION in self.sources and not errs:
                name = BASE_REGION
        if diagnostics:
            raise PolicyError(diagnostics)
        return list(reversed(chain))


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def policy_from_texts(files: dict[str, str], base: Registry | None = None) -> model.Policy:
    """Build a region's policy from sources given as text (the API and the editor): name → source.

    When the files belong to a region the registry knows, they replace the live files of the same
    name and the region's other live files are used with them, on the region's bases.
    Raises PolicyError with every diagnostic.
    """
    given = {name: SourceFile.from_text(name, text) for name, text in files.items()}
    parsed, diagnostics = parse_files(given, keep=False)
    if diagnostics:
        raise PolicyError(diagnostics)
    region = next((d.name for f in parsed for d in f.definitions if isinstance(d, nodes.Region)), None)
    if region is None:
        raise PolicyError([diagnostic("missing-region", "no-region", Span(next(iter(given), "?"), 1, 1),
                                      "no-region.hint")])
    sources = dict(given)
    if base is not None and region in base.sources:
        names = {n.rsplit("/", 1)[-1] for n in given}
        live = {n: s for n, s in base.sources[region].items() if n.rsplit("/", 1)[-1] not in names}
        live_parsed, _ = parse_files(live)
        parsed += live_parsed
        sources.update(live)
    layers = [checker.Layer(region, parsed, sources)]
    base_name = extends_of(parsed) or BASE_REGION
    while base is not None and layers[0].region != BASE_REGION and base_name in base.sources:
        base_files, _ = parse_files(base.sources[base_name])
        layers.insert(0, checker.Layer(base_name, base_files, base.sources[base_name]))
        base_name = extends_of(base_files) or BASE_REGION
    return _check(layers)


def check_texts(files: dict[str, str], base: Registry | None = None) -> list[Diagnostic]:
    """Every diagnostic of sources given as text (see policy_from_texts); [] when they check clean."""
    try:
        policy_from_texts(files, base)
    except PolicyError as exc:
        return exc.diagnostics
    return []

