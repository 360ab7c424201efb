"""Parsed policy files kept between processes, in the user's cache folder (engine.language.cache_folder).

Parsing is the largest part of a process's fixed cost (`jubao batch`, `eval`, `check`, each server worker):
every chunk of every file through Lark, and a lexer per parser state built on first use — 70–130 ms for a
region and its `national` base, where loading the kept nodes takes about 5 ms and spares importing Lark's
parser. A file is kept under a digest of its name and text and of the code that turns text into nodes (the
grammar, parse.py, grammar.py, nodes.py, source.py, Lark's and Python's versions): any change to one of them is a miss, and
the file is parsed again. Only files that parse clean are kept; a file with a syntax error is parsed every time,
so its diagnostics are always the parser's own. A kept file that cannot be read back (corrupt, truncated, from an
older jubao) is parsed again and overwritten; a folder that cannot be used costs the parse, never an answer.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from engine.language import nodes
from engine.language.bundled import bundled
from engine.language.cache_folder import cache_folder
from engine.language.source import SourceFile

KEEP_AT_MOST = 400  # files kept; past it the least recently written half is removed (edits leave old versions)


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """What the nodes of a text depend on besides the text."""
    here = Path(__file__).resolve().parent
    lark = Path(importlib.util.find_spec("lark").origin)  # its __init__ names its version; not imported here
    digest = hashlib.sha256(f"python {sys.version_info[:2]}\0".encode())
    for path in (lark, bundled("grammar") / "policy.lark", here / "parse.py", here / "grammar.py",
                 here / "nodes.py", here / "source.py"):
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.digest()


def _folder() -> Path | None:
    base = cache_folder()
    if base is None:
        return None
    folder = base / "parsed"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder


def _key(source: SourceFile) -> str:
    digest = hashlib.sha256(_code_digest())
    digest.update(source.name.encode("utf-8", "surrogatepass") + b"\0" + source.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def parse_kept(source: SourceFile, parse) -> nodes.PolicyFile:
    """`parse(source)`, or the nodes it gave for this very text and name in an earlier process."""
    folder = _folder()
    if folder is None:
        return parse(source)
    path = folder / f"{_key(source)}.pickle"
    try:
        kept = pickle.loads(path.read_bytes())
        if isinstance(kept, nodes.PolicyFile) and kept.name == source.name:
            return kept
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError,
            ValueError):  # missing or unreadable, corrupt, or written by code that no longer exists: parse it again
        pass
    parsed = parse(source)  # a syntax error raises here: nothing is kept
    _keep(folder, path, parsed)
    return parsed


def _keep(folder: Path, path: Path, parsed: nodes.PolicyFile) -> None:
    try:
        blob = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
        fd, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(temporary, path)  # whole or not at all, for a process reading it at the same moment
        _prune(folder)
    except (OSError, pickle.PicklingError, RecursionError):
        pass


def _prune(folder: Path) -> None:
    kept = list(folder.glob("*.pickle"))
    if len(kept) <= KEEP_AT_MOST:
        return
    def written(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0
    for old in sorted(kept, key=written)[:len(kept) - KEEP_AT_MOST // 2]:
        try:
            old.unlink()
        except OSError:
            pass
