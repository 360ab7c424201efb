"""docs/language.md, the officers' reference, stays true to the language: every `policy` block parses, every
keyword of the grammar is in it, and every diagnostic code the engine can raise has its section, with the
catalogue's title (`jubao check --explain CODE` prints the same entry)."""
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.language.catalogue import CATALOGUE
from engine.language.parse import keywords, parse
from engine.language.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```policy\n(.*?)```", DOC, flags=re.S)


def test_the_reference_has_examples():
    assert len(BLOCKS) >= 15


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_every_example_parses(i):
    parse(SourceFile.from_text(f"docs/language.md#example-{i + 1}", BLOCKS[i]))


def test_every_keyword_of_the_grammar_is_in_the_reference():
    missing = [k for k in keywords() if not re.search(rf"`[^`]*\b{re.escape(k)}\b[^`]*`|\b{re.escape(k)}\b", DOC)]
    assert not missing, missing


def codes_the_engine_raises() -> set[str]:
    found = set()
    for path in list((ROOT / "engine").glob("*.py")) + list((ROOT / "web").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'(?:error|Diagnostic)\(\s*"([a-z][a-z-]+)"', text))
    return found


def test_every_code_the_engine_raises_is_in_the_catalogue():
    assert codes_the_engine_raises() - set(CATALOGUE) == set()


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_has_its_section_with_the_catalogue_title(code):
    match = re.search(rf"^### `{re.escape(code)}`\n(.+)$", DOC, flags=re.M)
    assert match, f"docs/language.md has no section ### `{code}`"
    assert CATALOGUE[code].title_zh in match.group(1)


def test_check_explain_prints_the_entry():
    result = CliRunner().invoke(main, ["check", "--explain", "bad-range"])
    assert result.exit_code == 0
    assert "缴费区间有误" in result.output and "1000-9000" in result.output
    unknown = CliRunner().invoke(main, ["check", "--explain", "no-such-code"])
    assert unknown.exit_code == 2 and "bad-range" in unknown.output


def keys_the_engine_names() -> set[str]:
    found = set()
    for path in list((ROOT / "engine").glob("*.py")) + list((ROOT / "web").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'(?:c\.error|diagnostic)\(\s*"[a-z-]+",\s*"([a-z.-]+)"', text))
        found |= set(re.findall(r'"([a-z-]+\.hint)"', text))
    return found


def test_every_text_the_engine_names_is_in_the_catalogue_in_both_languages():
    from engine.language.catalogue import TEXTS

    assert keys_the_engine_names() - set(TEXTS) == set()
    for key, (zh, en) in TEXTS.items():
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: the Chinese text has no Chinese: {zh}"
        assert re.search(r"[A-Za-z]{2,}", en) or "{" in en, f"{key}: the English text has no English: {en}"


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "broken").glob("*.policy")), ids=lambda p: p.stem)
def test_every_diagnostic_reads_in_chinese_and_in_english(path, registry):
    from engine.language.registry import check_texts

    for d in check_texts({path.name: path.read_text(encoding="utf-8")}, base=registry):
        assert re.search(r"[\u4e00-\u9fff]", d.message), d
        assert d.message_en and d.message_en != d.message, d
        assert d.in_lang("en").message == d.message_en
