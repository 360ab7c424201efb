"""The built parser is kept in the user's cache folder (Lark's cache): a process start loads it instead of
building the LALR tables. A missing, corrupt or unusable cache costs the build, never an answer or a message."""
import json
from pathlib import Path

from conftest import python_with_cache

# A syntax error (the curated "missing-period" message, found by Lark's match_examples on the parser) and a clean
# file, so that the parser's states and its error matching are both exercised.
PROBE = """
import json
from engine import check_texts
bad = check_texts({"x.policy": "region x\\nvalue y: 元\\n  70.00 cite a\\n"})
print(json.dumps([[d.code, d.span.line, d.span.column, str(d.message)] for d in bad], ensure_ascii=False))
from engine.language import parse
print(parse._grammar_cache())
"""


def _probe(cache_home: Path) -> tuple[list, str]:
    diagnostics, where = python_with_cache(PROBE, cache_home).splitlines()
    return json.loads(diagnostics), where


def test_the_parser_is_kept_and_loaded_with_the_same_messages(tmp_path):
    built, where = _probe(tmp_path)
    cache = Path(where)
    assert cache.parent == tmp_path / "jubao" and cache.exists()
    assert (cache.parent.stat().st_mode & 0o777) == 0o700  # a pickle: the user's own folder
    assert built and built[0][0] == "syntax"
    stamp = cache.stat().st_mtime_ns
    loaded, _ = _probe(tmp_path)
    assert loaded == built
    assert cache.stat().st_mtime_ns == stamp  # loaded, not built again


def test_a_corrupt_cache_is_built_again(tmp_path):
    built, where = _probe(tmp_path)
    Path(where).write_bytes(b"not a parser\n")
    again, _ = _probe(tmp_path)
    assert again == built
    assert Path(where).read_bytes() != b"not a parser\n"


def test_no_usable_cache_folder_still_parses(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    built, where = _probe(blocker)  # the cache folder would have to be inside a file
    assert where == "None" and built and built[0][0] == "syntax"
