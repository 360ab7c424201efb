"""`jubao fmt` (engine.tools.fmt): canonical layout, idempotent, never a change of meaning."""
import random
import re
import shutil
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.language.registry import Registry
from engine.tools.cases import load_cases, run_case
from engine.tools.fmt import FormatError, format_paths, format_text, width

ROOT = Path(__file__).resolve().parent.parent
POLICY_FILES = sorted(ROOT.glob("policies/*/*.policy")) + sorted(ROOT.glob("tests/regions/*/*.policy"))
IDS = [p.relative_to(ROOT).as_posix() for p in POLICY_FILES]
TEXTS = {p: p.read_text(encoding="utf-8") for p in POLICY_FILES}


def test_the_real_files_are_found():
    assert len(POLICY_FILES) >= 20
    assert any("tests/regions" in i for i in IDS) and any(i.startswith("policies/national/") for i in IDS)


@pytest.mark.parametrize("path", POLICY_FILES, ids=IDS)
def test_formatting_is_idempotent(path):
    once = format_text(TEXTS[path])
    assert format_text(once) == once
    assert once.endswith("\n") and not once.endswith("\n\n")
    assert all(line == line.rstrip() for line in once.split("\n"))
    assert "\n\n\n" not in once


@pytest.mark.parametrize("path", POLICY_FILES, ids=IDS)
def test_formatting_keeps_every_word_and_comment(path):
    """Only whitespace and the order of whole version units change: the same words, the same comments."""
    before, after = TEXTS[path], format_text(TEXTS[path])
    assert sorted(before.split()) == sorted(after.split())
    def comments(text):
        return sorted(line.strip() for line in text.split("\n") if line.strip().startswith("#"))

    assert comments(before) == comments(after)


def _plain(value):
    """A checked model without source positions (spans), source texts or what is derived from them (the digest, the
    indexes built with the model): what the policy says."""
    if attrs.has(type(value)):
        return (type(value).__name__, tuple((f.name, _plain(getattr(value, f.name))) for f in attrs.fields(type(value))
                                            if f.init and f.name != "files" and not f.name.endswith("span")))
    if isinstance(value, dict):
        return tuple(sorted(((str(k), _plain(v)) for k, v in value.items()), key=lambda kv: kv[0]))
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def _formatted_copy(source: Path, into: Path) -> Path:
    shutil.copytree(source, into)
    changed = format_paths([into], check=False)
    assert all(p.suffix == ".policy" for p in changed)
    assert format_paths([into], check=True) == []  # written once, nothing left to change
    return into


@pytest.fixture(scope="module")
def policy_folders(tmp_path_factory):
    """(original, formatted) policy folders: policies/ and the construct regions under tests/regions/ on national."""
    tmp = tmp_path_factory.mktemp("fmt")
    constructs = tmp / "constructs"
    shutil.copytree(ROOT / "policies" / "national", constructs / "national")
    for region in (ROOT / "tests" / "regions").iterdir():
        if region.is_dir():
            shutil.copytree(region, constructs / region.name)
    return [(ROOT / "policies", _formatted_copy(ROOT / "policies", tmp / "policies")),
            (constructs, _formatted_copy(constructs, tmp / "constructs_fmt"))]


def test_formatted_regions_check_to_the_same_model(policy_folders):
    compared = 0
    for original, formatted in policy_folders:
        before, after = Registry(original), Registry(formatted)
        assert before.regions == after.regions
        for region in before.regions:
            a, b = before.policy(region), after.policy(region)
            assert _plain(a) == _plain(b), region
            # the same versions in the same order, with the same figures and rows
            for name, layers in a.definitions.items():
                def figures(layers):
                    return [[(v.start, v.end, v.condition, v.figure, _plain(v.rows)) for v in d.versions]
                            for d in layers]

                assert figures(layers) == figures(b.definitions[name]), (region, name)
            compared += 1
    assert compared >= 8


def test_formatted_regions_pass_their_own_cases(policy_folders):
    ran = 0
    for original, formatted in policy_folders:
        registry = Registry(formatted)
        for region in registry.regions:
            for case in load_cases(formatted / region, region, formatted.parent):
                outcome = run_case(registry.policy(region), case)
                assert outcome.passed, f"{region} {case.name}: {outcome.failures}"
                ran += 1
    assert ran >= 50


def test_the_dry_run_leaves_files_alone(tmp_path):
    folder = shutil.copytree(ROOT / "policies" / "yuxi", tmp_path / "yuxi")
    province = folder / "province.policy"
    province.write_text(province.read_text(encoding="utf-8").replace("| 新平 ", "|  新平  "), encoding="utf-8")
    before = {p: p.read_bytes() for p in folder.glob("*.policy")}
    changed = format_paths([folder], check=True)
    assert changed and set(changed) <= set(before)
    assert {p: p.read_bytes() for p in folder.glob("*.policy")} == before
    assert format_paths([folder], check=False) == changed
    assert format_paths([folder], check=True) == []


# ── random layout edits ─────────────────────────────────────────────────────────────────────────────

_BODY = re.compile(r"[ \t\u3000]+(from|always|\||cite|number|issued|status|seed|url|when|while|paid)\b|[ \t\u3000]+\|")


def _outside_quotes(line: str, edit) -> str:
    parts = line.split('"')
    return '"'.join(edit(p) if i % 2 == 0 else p for i, p in enumerate(parts))


def _scramble(text: str, rnd: random.Random) -> str:
    """Layout-only edits: spaces around table bars, spacing and indentation of body lines, extra blank
    lines (in existing runs or inside a definition), trailing whitespace."""
    out = []
    for line in text.split("\n"):
        stripped = line.strip()
        if _BODY.match(line) and not stripped.startswith("#"):
            if rnd.random() < 0.5 and out:
                out.append(rnd.choice(["", "  ", "\t"]))  # a blank line inside the definition
            if stripped.startswith("|"):
                stripped = re.sub(r" *\| *", lambda m: " " * rnd.randint(0, 3) + "|" + " " * rnd.randint(0, 3),
                                  stripped)
            elif stripped.startswith(("from", "always")):
                stripped = _outside_quotes(stripped, lambda p: re.sub(r" +", lambda m: " " * rnd.randint(1, 4), p))
            line = rnd.choice([" ", "  ", "    ", "\t", "\u3000", "   "]) + stripped
        elif not stripped and rnd.random() < 0.5:
            out += [""] * rnd.randint(1, 3)
        if rnd.random() < 0.3:
            line += rnd.choice([" ", "   ", "\t", "\u3000 "])
        out.append(line)
    return "\n".join(out) + "\n" * rnd.randint(0, 3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking a Random takes minutes and says little
@given(st.sampled_from(POLICY_FILES), st.randoms(use_true_random=False))
def test_layout_edits_format_back_to_the_same_text(path, rnd):
    scrambled = _scramble(TEXTS[path], rnd)
    assert format_text(scrambled) == format_text(TEXTS[path])


def test_the_scramble_does_change_the_layout():
    rnd = random.Random(7)
    text = TEXTS[ROOT / "policies" / "ningxia" / "contributions.policy"]
    assert _scramble(text, rnd) != text


# ── the layout rules, by example ─────────────────────────────────────────────────────────────────────

def test_display_width_counts_wide_characters_twice():
    assert width("abc") == 3 and width("重度残疾人") == 10 and width("Ａ") == 2 and width("档次 tier") == 9


def test_a_table_with_chinese_cells_is_aligned_by_display_width():
    text = ("region x\n"
            "daijiao daijiao \"政府代缴\"\n"
            "  from 2019-01-01 cite s\n"
            "  |群体 group|代缴 amount|\n"
            "  |建档立卡贫困人口|100|\n"
            "  | 低保对象 |  50 |\n"
            "  | tekun | 最低档次 |\n")
    assert format_text(text) == ("region x\n"
                                 "daijiao daijiao \"政府代缴\"\n"
                                 "  from 2019-01-01  cite s\n"
                                 "  | 群体 group       | 代缴 amount |\n"
                                 "  | 建档立卡贫困人口 | 100         |\n"
                                 "  | 低保对象         |  50         |\n"
                                 "  | tekun            | 最低档次    |\n")


def test_numbers_line_up_across_a_blocks_versions_and_dashes_keep_their_space():
    text = ("tiers t\n"
            "  from 2011-01-01 cite s\n"
            "  | 档次 tier | 省 province |\n"
            "  | 100 | 30 |\n"
            "  from 2019-01-01 cite s\n"
            "  | 档次 tier | 省 province | 仅限 only |\n"
            "  | 100 | 30 | 代缴对象 |\n"
            "  | 1000 | 120 | - |\n")
    assert format_text(text) == ("tiers t\n"
                                 "  from 2011-01-01  cite s\n"
                                 "  | 档次 tier | 省 province |\n"
                                 "  |  100      |  30         |\n"
                                 "  from 2019-01-01  cite s\n"
                                 "  | 档次 tier | 省 province | 仅限 only |\n"
                                 "  |  100      |  30         | 代缴对象  |\n"
                                 "  | 1000      | 120         |  -        |\n")


def test_figures_of_a_block_are_right_aligned():
    text = ("value v \"中央\": 元/月 paid by central\n"
            " from 2009-09-01 55.00 cite s\n"
            "\tfrom 2023-01-01   103.00   cite s provisional \"调整日期暂定\"\n")
    assert format_text(text) == ("value v \"中央\": 元/月 paid by central\n"
                                 "  from 2009-09-01   55.00  cite s\n"
                                 "  from 2023-01-01  103.00  cite s provisional \"调整日期暂定\"\n")


def test_comments_stay_in_place_and_with_their_line():
    text = ("# the file's heading\n"
            "region x\n"
            "\n\n\n"
            "# about v\n"
            "value v: 元   \n"
            "      # the first version\n"
            "   from 2010-01-01 5.00 cite s   # at the end of a version line\n"
            "tiers t\n"
            "  from 2010-01-01 cite s\n"
            "  | 档次 tier | 省 |\n"
            "  # between rows\n"
            "  | 100 | 30 |   # at the end of a row\n"
            "  # after the definition's last line, indented\n"
            "\n"
            "# the end\n\n\n")
    assert format_text(text) == ("# the file's heading\n"
                                 "region x\n"
                                 "\n"
                                 "# about v\n"
                                 "value v: 元\n"
                                 "  # the first version\n"
                                 "  from 2010-01-01  5.00  cite s  # at the end of a version line\n"
                                 "tiers t\n"
                                 "  from 2010-01-01  cite s\n"
                                 "  | 档次 tier | 省 |\n"
                                 "  # between rows\n"
                                 "  | 100       | 30 |  # at the end of a row\n"
                                 "  # after the definition's last line, indented\n"
                                 "\n"
                                 "# the end\n")


def test_versions_written_out_of_date_order_come_out_in_order():
    text = ("value rate \"利率\": %\n"
            "  # the 2015 rate\n"
            "  from 2015-10-24  1.50%  cite s\n"
            "  # the first rate\n"
            "  from 1900-01-01  2.25%  cite s\n"
            "  from 2012-07-06  3.00%  cite s\n"
            "tiers t\n"
            "  from 2019-01-01  cite s\n"
            "  | 档次 tier | 省 |\n"
            "  | 200       | 40 |\n"
            "  from 2011-01-01 until 2018-12-31  cite s\n"
            "  | 档次 tier | 省 |\n"
            "  | 100       | 30 |\n"
            "  # a closing remark stays last\n")
    assert format_text(text) == ("value rate \"利率\": %\n"
                                 "  # the first rate\n"
                                 "  from 1900-01-01  2.25%  cite s\n"
                                 "  from 2012-07-06  3.00%  cite s\n"
                                 "  # the 2015 rate\n"
                                 "  from 2015-10-24  1.50%  cite s\n"
                                 "tiers t\n"
                                 "  from 2011-01-01 until 2018-12-31  cite s\n"
                                 "  | 档次 tier | 省 |\n"
                                 "  | 100       | 30 |\n"
                                 "  from 2019-01-01  cite s\n"
                                 "  | 档次 tier | 省 |\n"
                                 "  | 200       | 40 |\n"
                                 "  # a closing remark stays last\n")


def test_versions_on_the_same_date_keep_their_order_and_always_is_not_moved():
    text = ("value 低保标准: 元/月\n"
            "  from 2013-07-01  for hukou.type = urban  334.00  cite s\n"
            "  from 2013-07-01  for hukou.type = rural  172.50  cite s\n"
            "value w\n"
            "  from 2020-01-01  2  cite s\n"
            "  always  1  cite s\n")
    assert format_text(text) == text


def test_grouped_definitions_stay_grouped_and_blank_runs_collapse():
    text = "region x\nfact a: text\nfact b: date\n\n\n\ngroup g \"组\"\n"
    assert format_text(text) == "region x\nfact a: text\nfact b: date\n\ngroup g \"组\"\n"


def test_header_and_formula_lines_keep_their_inner_spacing():
    text = ("bonus 长缴多得标准  per counted_years beyond 15  paid by province\n"
            "  from 2009-09-01  0.00  cite s\n"
            "component c \"c\" = round(a  /  b)\n"
            "    cite s\n"
            "    when age >= 60\n")
    assert format_text(text) == text.replace("    ", "  ")


def test_text_that_does_not_parse_is_refused_with_its_diagnostics():
    broken = "value x: 元\n  from 2014-01-01  1  cite a\n  | 100 | 30\n"
    with pytest.raises(FormatError) as caught:
        format_text(broken, "x.policy")
    assert caught.value.diagnostics and str(caught.value).startswith("x.policy:3:")


def test_format_paths_writes_nothing_when_a_file_does_not_parse(tmp_path):
    good = tmp_path / "good.policy"
    good.write_text("region x\nvalue v\n    always 1 cite s\n", encoding="utf-8")
    bad = tmp_path / "bad.policy"
    bad.write_text("value x: 元\n  2019-01-01 22 cite a\n", encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        format_paths([tmp_path], check=False)
    assert "bad.policy" in str(caught.value)
    assert good.read_text(encoding="utf-8") == "region x\nvalue v\n    always 1 cite s\n"
    bad.unlink()
    assert format_paths([tmp_path], check=False) == [good]
    assert good.read_text(encoding="utf-8") == "region x\nvalue v\n  always  1  cite s\n"


def test_every_broken_example_is_refused_or_kept_in_meaning():
    for path in sorted((ROOT / "tests" / "broken").glob("*.policy")):
        text = path.read_text(encoding="utf-8")
        try:
            once = format_text(text)
        except FormatError:
            continue
        assert format_text(once) == once
        assert sorted(once.split()) == sorted(text.split())


def test_a_layout_that_would_change_the_meaning_is_never_returned(monkeypatch):
    """The re-parse guard: a full layout that reads differently falls back to whitespace-only changes, and
    when that reads differently too, the text is refused."""
    from engine.tools import fmt

    text = "value v\n  from 2020-01-01  1  cite s\n  from 2010-01-01  2  cite s\n"
    real = fmt._layout
    monkeypatch.setattr(fmt, "_layout", lambda t, full: real(t, full).replace("  1  ", "  9  ") if full else
                        real(t, full))
    assert format_text(text) == text  # the whitespace-only layout: versions not reordered
    monkeypatch.setattr(fmt, "_layout", lambda t, full: real(t, full).replace("  1  ", "  9  "))
    with pytest.raises(FormatError) as caught:
        format_text(text, "v.policy")
    assert caught.value.diagnostics[0].code == "fmt-unsafe"


# ── the command (`jubao fmt`) ──────────────────────────────────────────────
def _jubao(*args, cwd=None):
    from click.testing import CliRunner

    from engine.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_every_policy_file_is_formatted():
    """The tooling issue: "Every file under `policies/` formatted" — so an officer's diff shows only real changes."""
    result = _jubao("fmt", "--check", str(ROOT / "policies"), str(ROOT / "tests" / "regions"))
    assert result.exit_code == 0, result.output


def test_fmt_check_lists_what_would_change_and_fmt_writes_it(tmp_path):
    target = tmp_path / "ningxia"
    shutil.copytree(ROOT / "policies" / "ningxia", target)
    messy = target / "pension.policy"
    original = messy.read_text(encoding="utf-8")
    messy.write_text(original.replace("  from ", "      from ", 2) + "\n\n\n", encoding="utf-8")
    check = _jubao("fmt", "--check", str(target))
    assert check.exit_code == 1 and "需要格式化" in check.output and "pension.policy" in check.output
    assert messy.read_text(encoding="utf-8") != original  # --check writes nothing
    write = _jubao("fmt", str(target))
    assert write.exit_code == 0 and "已格式化" in write.output
    assert messy.read_text(encoding="utf-8") == original
    assert _jubao("fmt", "--check", str(target)).exit_code == 0


def test_fmt_refuses_a_file_that_does_not_parse_and_writes_nothing(tmp_path):
    good, bad = tmp_path / "a.policy", tmp_path / "b.policy"
    good_text = "region x\n\nvalue v: 元/月\n      from 2020-01-01  1  cite s\n"
    good.write_text(good_text, encoding="utf-8")
    bad.write_text("region x\nvalue v: 元/月\n  form 2020-01-01  1\n", encoding="utf-8")
    result = _jubao("fmt", str(tmp_path))
    assert result.exit_code == 2 and "b.policy:3" in result.output and "没有改动任何文件" in result.output
    english = _jubao("fmt", str(tmp_path), "--lang", "en")
    assert english.exit_code == 2 and "nothing written" in english.output
    assert good.read_text(encoding="utf-8") == good_text
