"""Which engine modules run compiled, and the rule that keeps a compiled module from outliving its source.

setup.py compiles the hot path with Cython into extensions beside the .py files and records, in
compiled-sources.json, the digest of each .py it compiled. Python would import an extension before its .py
whatever the .py now says; the finder installed here lets it only while the .py is the very text the extension
was built from, so an edited (or checked-out) module runs as written until `pip install -e .` compiles it again.
JUBAO_PURE_PYTHON=1 runs every module as Python (to profile with py-spy, or to compare the two).

This module is never compiled itself, and imports nothing of the engine (setup.py loads it by path for `digest`
and the manifest's name).
"""
from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "compiled-sources.json"
PURE = os.environ.get("JUBAO_PURE_PYTHON") == "1"


def _built() -> dict[str, str]:
    try:
        return json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def source_of(name: str) -> Path:
    """The .py of a module named from the package down (`core.one_person` → engine/core/one_person.py)."""
    return HERE.joinpath(*name.split(".")).with_suffix(".py")


def _extensions() -> frozenset[str]:
    """The modules with an extension file here or in a subpackage, named from the package down (`core.one_person`);
    a stray one, not in the manifest, counts too."""
    found = set()
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for path in HERE.rglob(f"*{suffix}"):
            stem = path.name[:-len(suffix)]
            if "." not in stem:
                found.add(".".join((*path.parent.relative_to(HERE).parts, stem)))
    return frozenset(found)


class _SourceWhenStale:
    """A meta-path finder for `engine.<room>.<module>`: the .py itself where its extension must not run."""

    def __init__(self, names: frozenset[str]):
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.partition(".")
        if package != "engine" or name not in self.names:
            return None
        source = source_of(name)
        return importlib.util.spec_from_loader(
            fullname, importlib.machinery.SourceFileLoader(fullname, str(source)), origin=str(source))


BUILT = _built()
EXTENSIONS = _extensions()
# Run as Python: every extension without a manifest entry, or whose .py is no longer the text it was built from.
STALE = EXTENSIONS if PURE else frozenset(
    name for name in EXTENSIONS if BUILT.get(name) is None or digest(source_of(name)) != BUILT[name])


def install() -> None:
    """Put the finder first, once (engine/__init__.py calls it before importing any other engine module)."""
    if STALE and not any(isinstance(f, _SourceWhenStale) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceWhenStale(STALE))


def status() -> dict[str, str]:
    """Each module with an extension here, and how it runs: "compiled", or "python" with why."""
    out = {}
    for name in sorted(EXTENSIONS):
        module = sys.modules.get(f"engine.{name}")
        if module is not None:
            running_compiled = isinstance(getattr(module, "__loader__", None),
                                          importlib.machinery.ExtensionFileLoader)
        else:
            running_compiled = name not in STALE
        out[name] = "compiled" if running_compiled else f"python ({_why(name)})"
    return out


def summary() -> str:
    """One line for `jubao version`, the server's start and the benchmarks."""
    if not EXTENSIONS:
        return "pure Python (no compiled modules: pip install -e . with a C compiler builds them)"
    if PURE:
        return f"pure Python (JUBAO_PURE_PYTHON=1; {len(EXTENSIONS)} compiled modules not used)"
    states = status()
    compiled = sum(1 for s in states.values() if s == "compiled")
    if compiled == len(states):
        return f"compiled ({compiled} modules, Cython)"
    python = sorted(name for name, s in states.items() if s != "compiled")
    return f"{compiled} of {len(states)} modules compiled; as Python: " + ", ".join(
        f"{name} ({_why(name)})" for name in python)


def _why(name: str) -> str:
    if PURE:
        return "JUBAO_PURE_PYTHON=1"
    if name not in BUILT:
        return f"not in {MANIFEST.name}: pip install -e . to compile again"
    return "edited since it was compiled: pip install -e . to compile again"
