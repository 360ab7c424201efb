"""`jubao impact`: a proposal raising Ningxia's basic pension by 10 yuan from 2020-01-01."""
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from engine import Registry, read_as_of
from engine.populations.impact import compare, compare_by_person, write_report
from engine.populations.population import generate

ROOT = Path(__file__).resolve().parent.parent


def test_raise_of_ten_yuan_reaches_every_receiver(tmp_path, registry):
    proposal = tmp_path / "proposal"
    shutil.copytree(ROOT / "policies", proposal)
    path = proposal / "ningxia" / "pension.policy"
    text = path.read_text(encoding="utf-8")
    assert "from 2020-01-01  90.00" in text
    path.write_text(text.replace("from 2020-01-01  90.00", "from 2020-01-01  100.00"), encoding="utf-8")
    people = list(generate(registry.policy("ningxia"), 400, seed=9, as_of=read_as_of("2020-12-31")))
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in people) + "\n", encoding="utf-8")

    impact = compare(registry, Registry(proposal), "ningxia", "2020-12-31", source)

    assert impact.persons == 400 and impact.errors == 0 and impact.lose == 0
    assert impact.gain + impact.same == 400 and impact.gain > 50
    # Every receiver gains exactly 10.00 a month, all of it paid by the province.
    assert {k: v for k, v in impact.monthly_by_level.items() if v} == {"province": Decimal(10) * impact.gain}
    assert all(c.delta == Decimal(10) for c in impact.largest)
    assert "宁夏基础养老金 90.00 → 100.00" in impact.largest[0].causes[0]
    assert impact.by_age["<60"][1] == 0
    report = write_report(impact, tmp_path / "report")
    text = report.read_text(encoding="utf-8")
    # Chinese by default (Chinese-first issue: "the report is Chinese by default (CJK font …), labels rotated")
    assert f"增加：{impact.gain} 人，减少：0 人" in text and "| 省级 |" in text and "gain:" not in text
    by_tier = (tmp_path / "report" / "by_tier.svg").read_text(encoding="utf-8")
    assert by_tier.startswith("<?xml")
    # text stays text in the SVG (svg.fonttype none) in a CJK font, and the tier labels are turned
    assert "按最近缴费档次的月支出变化（元）" in by_tier and "WenQuanYi Micro Hei" in by_tier
    assert "rotate(-45" in by_tier
    english = write_report(impact, tmp_path / "report-en", lang="en")
    assert f"gain: {impact.gain}, lose: 0" in english.read_text(encoding="utf-8")
    assert "Monthly change by latest tier" in (tmp_path / "report-en" / "by_tier.svg").read_text(encoding="utf-8")


# ── the fast path (batch machinery, column back end) against the person-by-person oracle ────────────────
def _proposal(tmp_path: Path, edits: dict) -> Registry:
    """A copy of policies/ with (region, file) → [(old text, new text)] replaced; each old text must be there."""
    folder = tmp_path / "proposal"
    shutil.copytree(ROOT / "policies", folder)
    for (region, name), pairs in edits.items():
        path = folder / region / name
        text = path.read_text(encoding="utf-8")
        for old, new in pairs:
            assert old in text, old
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return Registry(folder)


def _write(path: Path, persons: list, broken_line: int | None = None) -> Path:
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        keys = list(dict.fromkeys(key for p in persons for key in p))  # from_pylist would keep the first row's
        # row groups of two column chunks: the worker reading one cuts it in column slices
        pq.write_table(pa.table({k: pa.array([p.get(k) for p in persons]) for k in keys}), str(path),
                       row_group_size=1400)
        return path
    lines = [json.dumps(p, ensure_ascii=False, default=str) for p in persons]
    if broken_line is not None:
        lines.insert(broken_line - 1, "{not json")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _figures(impact) -> dict:
    """Everything the report shows, as values (Decimal compares by value: 10 == 10.00)."""
    return {
        "counts": (impact.persons, impact.errors, impact.gain, impact.lose, impact.same),
        "levels": {k: v for k, v in impact.monthly_by_level.items() if v},
        "by_age": {k: tuple(v) for k, v in impact.by_age.items()},
        "by_tier": {k: tuple(v) for k, v in impact.by_tier.items()},
        "largest": [(c.row, c.person_id, c.before, c.after, {k: v for k, v in c.levels.items() if v}, c.age_band,
                     c.tier, c.causes) for c in impact.largest],
        "failures": impact.failures,
    }


def _varied(persons: list) -> list:
    """Generated persons plus the rows the column path leaves to the interpreter (a death, a given pension start,
    an opening balance) and rows no version can read (a date not on the calendar)."""
    out = [dict(p) for p in persons]
    for i in range(3, len(out), 97):
        out[i]["death_date"] = "2020-06-30"
    for i in range(5, len(out), 89):
        out[i]["opening_balance"] = {"amount": "1234.56", "as_of": "2015-12-31"}
    for i in range(7, len(out), 101):
        out[i]["birth_date"] = "1950-02-30"
    return out


EDITS = {
    "ningxia": {("ningxia", "pension.policy"): [
        ("from 2020-01-01  90.00", "from 2020-01-01  100.00"),  # every receiver +10 …
        ("  from 2011-07-01  2.00  cite 宁夏2011模式", "  from 2011-07-01  2.50  cite 宁夏2011模式"),
        ("  | 75-79    | 20    |", "  | 75-79    |  5    |"),  # … the 75–79 lose 5 net
        ("  | 80+      | 30    |", "  | 80+      | 25    |")]},
    "anhui": {("anhui", "pension.policy"): [
        ("  from 2019-01-01  2.00  cite 安徽高质量发展", "  from 2019-01-01  3.00  cite 安徽高质量发展"),
        ("  | 75+      | 10    |", "  | 75+      |  5    |"),  # the 75 and over lose 2 net
        ("  from 2020-01-01  22.00", "  from 2020-01-01  25.00")],
        ("anhui", "contributions.policy"): [
        ("  |  500      |  70         |  -        |", "  |  500      |  75         |  -        |")]},
}


@pytest.mark.parametrize("region", ["ningxia", "anhui"])
def test_fast_path_equals_person_by_person(tmp_path, registry, monkeypatch, region):
    from engine.populations import batch

    monkeypatch.setattr(batch, "COLUMN_CHUNK", 700)  # several chunks, over a pool of two processes
    proposal = _proposal(tmp_path, EDITS[region])
    as_of = read_as_of("2020-12-31")
    persons = _varied(list(generate(registry.policy(region), 2000, seed=3, as_of=as_of)))
    assert sum(1 for p in persons if p["groups"]) > 100  # group members (代缴, 低保 …)
    jsonl = _write(tmp_path / "people.jsonl", persons)

    slow = compare_by_person(registry, proposal, region, "2020-12-31", jsonl)
    done = []
    fast = compare(registry, proposal, region, "2020-12-31", jsonl, progress=done.append, workers=2)

    assert sum(done) == 2000 and len(done) == 4  # two rounds of two equal chunks (batch's 700 would give 3)
    assert slow.gain > 100 and slow.lose > 20 and slow.by_age["80+"][0] > 50
    assert [f.row for f in slow.failures] == [i + 1 for i in range(7, 2000, 101)]  # the dates not on the calendar
    assert _figures(fast) == _figures(slow)
    # the same persons from Parquet (typed columns, row groups read by the workers), on one process
    parquet = _write(tmp_path / "people.parquet", persons)
    assert _figures(compare(registry, proposal, region, "2020-12-31", parquet, workers=1)) == _figures(slow)
    # the two reports are the same text
    assert write_report(fast, tmp_path / "fast").read_text(encoding="utf-8") == \
        write_report(slow, tmp_path / "slow").read_text(encoding="utf-8")


def test_failed_rows_are_listed_with_their_problems(tmp_path, registry, monkeypatch):
    """A row failing under either version is left out of the figures, counted, and the first are listed by row
    with each version's problem; rows failing under one version only leave the other version's totals too."""
    from engine.populations import batch
    from engine.populations.impact import FAILURES_SHOWN

    monkeypatch.setattr(batch, "COLUMN_CHUNK", 150)
    proposal = _proposal(tmp_path, {("anhui", "contributions.policy"): [
        ("  |  900      | 110         |  -        |\n", ""),  # the 900 tier is gone …
        ("  | 1000      | 120         |  -        |", "  |  950      | 115         |  -        |\n"
                                                     "  | 1000      | 120         |  -        |")],  # … 950 is new
        ("anhui", "pension.policy"): [("  from 2020-01-01  22.00", "  from 2020-01-01  25.00")]})
    as_of = read_as_of("2020-12-31")
    persons = list(generate(registry.policy("anhui"), 600, seed=11, as_of=as_of))
    for record in (c for p in persons for c in p["contributions"] if c["tier"] == "900.00"):
        record["tier"] = "800.00"  # the generated persons are all read under both versions
    receivers = [i for i, p in enumerate(persons) if any(c["year"] == 2019 for c in p["contributions"])
                 and p["birth_date"] < "1960-12-31"]
    assert len(receivers) >= 2
    persons = [persons[receivers[0]], persons[receivers[1]]] + [p for i, p in enumerate(persons)
                                                                  if i not in receivers[:2]]
    persons[0]["contributions"][-1]["tier"] = "900.00"  # row 1 fails under the proposal only
    persons[1]["contributions"][-1]["tier"] = "950.00"  # row 2 fails under the current rules only
    for i in range(40, 600, 20):
        persons[i]["birth_date"] = "1950-02-30"  # fails under both
    source = _write(tmp_path / "people.jsonl", persons)

    slow = compare_by_person(registry, proposal, "anhui", "2020-12-31", source)
    fast = compare(registry, proposal, "anhui", "2020-12-31", source, workers=2)
    assert _figures(fast) == _figures(slow)
    assert fast.errors == 2 + len(range(40, 600, 20)) and len(fast.failures) == FAILURES_SHOWN
    assert [f.row for f in fast.failures] == [1, 2, *range(41, 41 + 20 * (FAILURES_SHOWN - 2), 20)]
    only = {f.row: f for f in fast.failures}
    assert only[1].base is None and "900.00" in only[1].proposal and only[1].person_id == persons[0]["id"]
    assert only[2].proposal is None and "950.00" in only[2].base
    both = only[41]
    assert both.base == both.proposal and "1950-02-30" in both.base and both.person_id == persons[40]["id"]

    text = write_report(fast, tmp_path / "report").read_text(encoding="utf-8")
    assert "## 出错的行" in text and f"出错 {fast.errors} 行" in text and f"前 {FAILURES_SHOWN} 行" in text
    assert f"| 41 | {persons[40]['id']} |" in text and "1950-02-30" in text
    english = write_report(compare(registry, proposal, "anhui", "2020-12-31", source, lang="en"),
                           tmp_path / "report-en", lang="en").read_text(encoding="utf-8")
    assert f"{fast.errors} rows failed" in english and "| row | person | current rules | proposal |" in english

    # A line that is not JSON fails under both versions, and its chunk goes to the interpreter (as in batch).
    broken = _write(tmp_path / "broken.jsonl", persons, broken_line=3)
    fast = compare(registry, proposal, "anhui", "2020-12-31", broken, workers=1)
    assert _figures(fast) == _figures(compare_by_person(registry, proposal, "anhui", "2020-12-31", broken))
    assert [(f.row, f.person_id, f.base == f.proposal) for f in fast.failures[:4]] == \
        [(1, persons[0]["id"], False), (2, persons[1]["id"], False), (3, None, True), (42, persons[40]["id"], True)]


def test_cli_shows_progress_and_writes_the_report(tmp_path, registry):
    from click.testing import CliRunner

    from engine.cli import main

    proposal = _proposal(tmp_path, EDITS["ningxia"])
    persons = _varied(list(generate(registry.policy("ningxia"), 300, seed=5, as_of=read_as_of("2020-12-31"))))
    source = _write(tmp_path / "people.jsonl", persons)
    result = CliRunner().invoke(main, ["impact", "--region", "ningxia", "--as-of", "2020-12-31", "--base",
                                       str(ROOT / "policies"), "--proposal", str(proposal.policy_dir), "--report",
                                       str(tmp_path / "report"), "--workers", "1", "--lang", "en", str(source)])
    assert result.exit_code == 0, result.output
    # not a terminal: a line of progress (issue 32: "the progress bar runs into the text")
    assert "300/300 persons (100.0%)" in result.stderr and "persons: 300 (errors: 3)" in result.stdout
    assert "## Rows that failed" in result.stdout and (tmp_path / "report" / "report.md").exists()
