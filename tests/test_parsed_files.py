"""Parsed policy files are kept in the user's cache folder (engine.language.parsed_files): a process start loads the nodes
instead of parsing every chunk through Lark. A kept file gives the very nodes the parser gives; a syntax error is
never kept; a corrupt, foreign or unusable cache costs the parse, never an answer or a message."""
import json
import pickle
from pathlib import Path

import pytest
from conftest import python_with_cache

from engine.language import parsed_files
from engine.language.errors import PolicyError
from engine.language.parse import parse
from engine.language.registry import Registry, check_texts, parse_files
from engine.language.source import SourceFile

CLEAN = SourceFile.from_text("x/a.policy", "region x\nvalue y: 元\n  from 2014-07-01 70.00 cite a\n")
BROKEN = SourceFile.from_text("x/b.policy", "region x\nvalue y: 元\n  70.00 cite a\n")  # no "from"


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "jubao" / "parsed"


def kept_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle"))


def test_a_clean_file_is_kept_and_loaded_as_the_parser_gives_it(cache_home):
    calls = []

    def counting_parse(source):
        calls.append(source.name)
        return parse(source)

    first = parsed_files.parse_kept(CLEAN, counting_parse)
    assert calls == ["x/a.policy"] and len(kept_files(cache_home)) == 1
    assert (cache_home.stat().st_mode & 0o777) == 0o700  # pickles: the user's own folder
    again = parsed_files.parse_kept(CLEAN, counting_parse)
    assert calls == ["x/a.policy"]  # loaded, not parsed
    assert again == first == parse(CLEAN)


def test_the_name_and_the_text_both_make_the_key(cache_home):
    parsed_files.parse_kept(CLEAN, parse)
    renamed = SourceFile.from_text("y/a.policy", CLEAN.text)  # spans carry the file's name
    edited = SourceFile.from_text(CLEAN.name, CLEAN.text.replace("70.00", "75.00"))
    assert parsed_files.parse_kept(renamed, parse).name == "y/a.policy"
    assert parsed_files.parse_kept(edited, parse) == parse(edited) != parse(CLEAN)
    assert len(kept_files(cache_home)) == 3


def test_a_syntax_error_is_never_kept_and_says_the_same(cache_home):
    with pytest.raises(PolicyError) as direct:
        parse(BROKEN)
    files, diagnostics = parse_files({BROKEN.name: BROKEN})
    assert files == [] and diagnostics == direct.value.diagnostics
    assert kept_files(cache_home) == []
    assert parse_files({BROKEN.name: BROKEN})[1] == direct.value.diagnostics


def test_a_corrupt_or_foreign_kept_file_is_parsed_again_and_replaced(cache_home):
    parsed_files.parse_kept(CLEAN, parse)
    [path] = kept_files(cache_home)
    for junk in (b"not a pickle", pickle.dumps({"a": "dict"}), pickle.dumps(parse(SourceFile.from_text(
            "other.policy", CLEAN.text)))):
        path.write_bytes(junk)
        assert parsed_files.parse_kept(CLEAN, parse) == parse(CLEAN)
        assert pickle.loads(path.read_bytes()) == parse(CLEAN)


def test_no_usable_folder_still_parses(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert parsed_files.parse_kept(CLEAN, parse) == parse(CLEAN)


def test_drafts_are_not_kept(cache_home):
    draft = {"x/a.policy": CLEAN.text + "value z: 元\n  from 2015-01-01 1.00 cite a\n"}
    assert parse_files({n: SourceFile.from_text(n, t) for n, t in draft.items()}, keep=False)[0]  # it parses
    check_texts(draft)
    assert kept_files(cache_home) == []


def test_the_cache_is_pruned_past_its_bound(cache_home, monkeypatch):
    monkeypatch.setattr(parsed_files, "KEEP_AT_MOST", 6)
    for n in range(7):
        parsed_files.parse_kept(SourceFile.from_text(f"x/{n}.policy", CLEAN.text), parse)
    assert len(kept_files(cache_home)) == 3  # past 6: the oldest removed down to half


PROBE = """
import json, sys
from engine import Registry
from engine.core.render import decision_json
from engine import evaluate, read_person
policy = Registry().policy("ningxia")
person = json.load(open("examples/ningxia-tier500-2011-2025.json", encoding="utf-8"))
import datetime as dt
decision = evaluate(policy, read_person(policy, person, dt.date(2026, 3, 1)), dt.date(2026, 3, 1))
print(json.dumps({"lark": "lark" in sys.modules, "answer": decision_json(decision)}, ensure_ascii=False,
                 default=str))
"""


def _probe(cache_home: Path) -> dict:
    return json.loads(python_with_cache(PROBE, cache_home))


def test_a_second_process_answers_the_same_without_the_parser(tmp_path):
    parsed = _probe(tmp_path)
    assert parsed["lark"]  # the first process parsed the files
    kept = _probe(tmp_path)
    assert not kept["lark"]  # the second loaded every file: Lark was never imported
    assert kept["answer"] == parsed["answer"]


def test_a_registry_over_kept_files_checks_the_same(cache_home):
    first = Registry().policy("ningxia")
    assert kept_files(cache_home)
    assert Registry().policy("ningxia").digest == first.digest
