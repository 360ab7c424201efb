"""The checker's diagnostics: one broken policy file per code (tests/broken/*.policy, expectations in
jlox-style header comments), the CLI's rendering, and the parser under arbitrary text."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import PolicyError, check_texts
from engine.language.parse import parse
from engine.language.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
BROKEN = sorted((ROOT / "tests" / "broken").glob("*.policy"))
EXPECT = re.compile(r"^# expect: error\[([a-z-]+)\] (\d+):(\d+)$", re.M)


def test_every_checker_code_has_a_broken_example():
    codes = {m.group(1) for p in BROKEN for m in EXPECT.finditer(p.read_text(encoding="utf-8"))}
    check_source = "".join(p.read_text(encoding="utf-8")
                           for p in sorted((ROOT / "engine" / "language" / "check").glob("*.py")))
    emitted = set(re.findall(r'c\.error\(\s*"([a-z-]+)"', check_source))
    # region-mismatch needs a folder (covered in test_folder_and_region_mismatch); unknown-region likewise.
    assert emitted - codes <= {"region-mismatch"}, emitted - codes
    assert {"syntax", "bad-date"} <= codes


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_gives_exactly_its_diagnostics(path, registry):
    text = path.read_text(encoding="utf-8")
    expected = {(code, int(line), int(col)) for code, line, col in EXPECT.findall(text)}
    got = check_texts({path.name: text}, base=registry)
    assert {(d.code, d.span.line, d.span.column) for d in got} == expected
    for d in got:
        assert d.message and d.hint, d


def test_did_you_mean_the_chinese_label(registry):
    text = (ROOT / "tests" / "broken" / "unknown-group.policy").read_text(encoding="utf-8")
    [d] = check_texts({"unknown-group.policy": text}, base=registry)
    assert d.message == "未知的群体 '低保户'" and d.hint == "是否想写 '低保对象'？"
    assert d.message_en == "unknown group '低保户'" and d.hint_en == "did you mean '低保对象'?"


def test_curated_syntax_messages(registry):
    cases = {"syntax-missing-period": ("版本行须以 `from <日期>` 或 `always` 开始",
                                       "a version line must start with `from <date>` or `always`"),
             "syntax-unclosed-row": ("这一表格行没有以 '|' 结尾", "this table row does not end with '|'"),
             "syntax-curly-quote": ("意外的字符 '“'", "unexpected character '“'"),
             "syntax-fullwidth": ("意外的字符 '（'", "unexpected character '（'")}
    for name, (zh, en) in cases.items():
        text = (ROOT / "tests" / "broken" / f"{name}.policy").read_text(encoding="utf-8")
        [d] = check_texts({name: text}, base=registry)
        assert (d.message, d.message_en) == (zh, en)
    [d] = check_texts({"f": (ROOT / "tests" / "broken" / "syntax-fullwidth.policy").read_text()}, base=registry)
    assert d.hint == "全角字符 '（'：请改用半角 '('" and d.hint_en == "full-width '（': use '('"


def test_three_errors_in_three_blocks_are_all_reported(registry):
    text = "\n".join([
        "region broken extends national",
        "source 文件 \"测试\"", "  status seed",
        "value a: 元/月", "  from 2019-01-01 22.00 cite 文件 (",  # 5: stray '('
        "value b: 元/月", "  22.00 cite 文件",                       # 7: no period
        "value c: 元/月", "  from 2019-13-01 22.00 cite 文件", ""])  # 9: month 13
    got = check_texts({"three.policy": text}, base=registry)
    assert sorted((d.span.line, d.code) for d in got) == [(5, "syntax"), (7, "syntax"), (9, "bad-date")]


def test_cli_prints_location_caret_and_hint():
    path = ROOT / "tests" / "broken" / "unknown-group.policy"
    run = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(path)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    head = next(i for i, l in enumerate(lines) if "error[unknown-name]" in l)
    assert lines[head] == "tests/broken/unknown-group.policy:10:5: error[unknown-name]: 未知的群体 '低保户'"
    assert lines[head + 1] == "  | 低保户 | 100 |"
    assert lines[head + 2] == "    ^"
    assert lines[head + 3] == "提示: 是否想写 '低保对象'？"
    english = subprocess.run([sys.executable, "-m", "engine.cli", "check", "--lang", "en", str(path)],
                             capture_output=True, text=True, cwd=ROOT, timeout=60).stdout.splitlines()
    assert english[head] == "tests/broken/unknown-group.policy:10:5: error[unknown-name]: unknown group '低保户'"
    assert english[head + 3] == "hint: did you mean '低保对象'?"


def test_cli_check_of_the_shipped_policies_is_clean():
    run = subprocess.run([sys.executable, "-m", "engine.cli", "check"], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert run.returncode == 0, run.stdout
    listed = subprocess.run([sys.executable, "-m", "engine.cli", "check", "--list-provisional"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "policies/anhui/contributions.policy:5: provisional: anhui 制度启动日 2012-01-01" in listed.stdout
    assert "proposal: yuxi" in listed.stdout


def test_folder_and_region_mismatch(tmp_path):
    (tmp_path / "national").mkdir()
    for f in (ROOT / "policies" / "national").glob("*.policy"):
        (tmp_path / "national" / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "gansu").mkdir()
    (tmp_path / "gansu" / "a.policy").write_text("region qinghai extends national\n", encoding="utf-8")
    from engine import Registry

    [d] = Registry(tmp_path).diagnostics("gansu")
    assert d.code == "region-mismatch" and d.hint == "写 `region gansu`" and d.hint_en == "write `region gansu`"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_policy_error_or_nodes(text):
    try:
        parse(SourceFile.from_text("fuzz.policy", text))
    except PolicyError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.code in ("syntax", "bad-date") and d.span.line >= 1 and d.span.column >= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["region ", "value ", "from ", "2019-01-01 ", "22.00 ", "cite ", "文件 ", "| ",
                                 "100 ", "\n", "  ", "tiers ", "component ", "= ", "+ ", "(", ")", "#x", '"s" ',
                                 "until ", "always ", "%", "元/月 ", ": ", "by ", "age "]), max_size=40))
def test_policy_like_text_never_crashes_the_checker(registry, words):
    text = "region fuzz extends national\nsource 文件 \"t\"\n  status seed\n" + "".join(words)
    for d in check_texts({"fuzz.policy": text}, base=registry):
        assert d.span.line >= 1 and d.code
