"""The column path of `jubao batch` gives the interpreter's rows to the fen, for any person of any region.

Hypothesis draws batches of persons (valid and not: back payments, undated and mis-dated records, tiers
that do not exist, groups with end dates and positions, deaths, given start dates) and an as-of date;
both paths must produce the same output rows and the same totals. A person the columns do not take is
answered by the interpreter, so a second test checks that the columns answer the common shapes themselves.
"""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import read_as_of
from engine.columns import arrays, columnar, days, segments
from engine.core import dates, mechanics
from engine.language.model import KeyedRow
from engine.populations import batch
from engine.populations.population import _open_tiers, generate

REGIONS = sorted(p.name for p in (Path(__file__).parent.parent / "policies").iterdir() if p.is_dir())
CONSTRUCT_REGIONS = sorted(p.name for p in (Path(__file__).parent / "regions").iterdir() if p.is_dir())
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])


def iso(day: dt.date) -> str:
    return day.isoformat()


def tiers_of(policy) -> list[str]:
    tiers = {r.tier for v in policy.all_versions("contribution_tiers") for r in v.rows}
    return [f"{t:.2f}" for t in sorted(tiers)]


def table_keys(policy) -> list[str]:
    return sorted({row.key for name in policy.definitions for v in policy.all_versions(name) for row in v.rows
                   if isinstance(row, KeyedRow)})


def latest_scheme_year(policy) -> int:
    """The year of the latest scheme start the region gives anyone (a county's pilot may start years after 2009)."""
    starts = []
    for version in policy.all_versions("scheme_start"):
        if isinstance(version.figure, dt.date):
            starts.append(version.figure)
        starts += [cell for row in version.rows if isinstance(row, KeyedRow) for _, cell in row.values
                   if isinstance(cell, dt.date)]
    return max(starts).year + 1 if starts else 2009


@st.composite
def person(draw, policy):
    """Mostly valid persons (so that the columns answer them), with rare shapes each path must refuse alike."""
    birth = draw(st.dates(dt.date(1925, 1, 1), dt.date(1995, 12, 31)))
    out: dict = {"id": draw(st.text("abc0123456789", min_size=1, max_size=6)), "birth_date": iso(birth)}
    hukou = {}
    for name, fact in policy.facts.items():
        if name.startswith("hukou."):
            # free-text facts (a county) take the keys of the policy's tables keyed by facts
            choices = [c for c, _ in fact.choices] or table_keys(policy)
            if choices:
                hukou[name.split(".", 1)[1]] = draw(st.sampled_from(choices * 40 + ["nowhere"]))
    # Rare shapes sit on middle values: hypothesis draws the ends of a range (and 0) far more often than 1 in N.
    if draw(st.integers(0, 60)) == 30:
        hukou.popitem()
    out["hukou"] = hukou
    groups = []
    for gid, group in policy.groups.items():
        if draw(st.integers(0, 5)) == 0 and (not group.required_key or draw(st.integers(0, 8)) == 4):
            entry = {"id": gid, "from": iso(draw(st.dates(dt.date(2005, 1, 1), dt.date(2026, 12, 31))))}
            if draw(st.integers(0, 9)) == 0:
                entry["to"] = iso(draw(st.dates(dt.date(2010, 1, 1), dt.date(2030, 12, 31))))
            if group.required_key:
                entry[group.required_key] = draw(st.sampled_from(list(group.choices)))
            groups.append(entry)
    out["groups"] = groups
    # most records from the year every person of the region has joined the scheme: a record before the person's
    # scheme start is refused (a rare shape, the interpreter's), not the common one
    first, last = max(birth.year + 17, draw(st.sampled_from([2009] + [latest_scheme_year(policy)] * 9))), \
        min(birth.year + 59, 2026)
    records = []
    years = draw(st.lists(st.integers(first, last), unique=True, max_size=15)) if first <= last else []
    for year in years:
        kind = draw(st.sampled_from(["regular"] * 9 + ["back_payment"]))
        day = draw(st.dates(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        if kind == "back_payment":
            day = draw(st.dates(dt.date(year + 1, 1, 1), dt.date(year + 3, 12, 31)))
        open_tiers = [f"{t:.2f}" for t in _open_tiers(policy, out, day)] or ["100.00"]
        record = {"year": year, "tier": draw(st.sampled_from(open_tiers)), "kind": kind, "date": iso(day)}
        odd = draw(st.integers(0, 160)) - 80  # 0…4: a record of a rare shape
        if odd == 0:
            record["tier"] = draw(st.sampled_from(["250.00", "100.5", "abc", "-100"]))
        elif odd == 1:
            del record["date"]  # undated: regular → 31 December; back payment → refused
        elif odd == 2:
            record["date"] = iso(dt.date(year + 1, 1, 15))  # a regular record dated in the wrong year
        elif odd == 4:
            record["date"] = f"{year}-02-30"  # not a calendar date
        elif odd == 3:
            record["collective"] = draw(st.sampled_from(["50.00", "0", "12.5"]))
        records.append(record)
    out["contributions"] = records
    rare = draw(st.integers(0, 40)) - 20
    if rare == 0:
        out["death_date"] = iso(draw(st.dates(birth, dt.date(2026, 12, 31))))
    elif rare == 1:
        out["scheme_start_date"] = iso(draw(st.dates(dt.date(2009, 1, 1), dt.date(2015, 12, 31))))
    elif rare == 3:
        out["birth_date"] = draw(st.sampled_from(["1952-02-29", "1956-02-29", "1951-02-29", "1950-13-01"]))
    elif rare == 2:
        out["pension_start_date"] = iso(draw(st.dates(dt.date(2010, 1, 1), dt.date(2026, 12, 31))))
    return out


HANDED_SEEN: dict = {}  # region → [rows, rows handed to the interpreter by the column back end]


def both_paths(registry, region: str, as_of: str, persons: list[dict]):
    chunk = batch.Chunk(1, items=list(enumerate(persons, start=1)))
    fast, fast_totals, handed = batch.evaluate_chunk(region, as_of, chunk, registry, "columns")
    slow, slow_totals, _ = batch.evaluate_chunk(region, as_of, chunk, registry, "interpreter")
    seen = HANDED_SEEN.setdefault(region, [0, 0])
    seen[0] += len(persons)
    seen[1] += sum(handed.values())
    return fast, fast_totals, slow, slow_totals


def nonzero(totals: dict) -> dict:
    return {c: {k: v for k, v in parts.items() if v or k == "total"} for c, parts in totals.items()}


@pytest.mark.parametrize("region", REGIONS)
def test_columns_equal_the_interpreter_on_random_persons(registry, region):
    policy = registry.policy(region)

    @SETTINGS
    @given(persons=st.lists(person(policy), min_size=1, max_size=30),
           as_of=st.dates(dt.date(2009, 1, 1), dt.date(2026, 12, 31)))
    def check(persons, as_of):
        fast, fast_totals, slow, slow_totals = both_paths(registry, region, iso(as_of), persons)
        assert fast.to_pylist() == slow.to_pylist()
        assert nonzero(fast_totals) == nonzero(slow_totals)

    HANDED_SEEN.pop(region, None)
    check()
    # The comparison means something only where the columns computed the rows themselves: most of them are
    # (the strategy draws mostly valid persons; the rare shapes are the interpreter's by design).
    rows, handed = HANDED_SEEN[region]
    assert handed < 0.5 * rows, f"{handed} of {rows} rows were the interpreter's"
    print(f"{region}: {handed} of {rows} rows handed to the one-person back end")


@pytest.mark.parametrize("region", CONSTRUCT_REGIONS)
def test_columns_equal_the_interpreter_on_the_language_constructs(construct_registry, region):
    """issue 13: "The population path and the single path agree on policies using every construct"."""
    test_columns_equal_the_interpreter_on_random_persons(construct_registry, region)
    for as_of in ("2014-12-31", "2026-06-01"):
        test_columns_answer_a_generated_population_themselves(construct_registry, region, as_of)


@pytest.mark.parametrize("region", CONSTRUCT_REGIONS)
def test_both_paths_agree_on_every_case_person_of_the_test_regions(construct_registry, region):
    """Each construct's hand-computed persons (caps reached, raises, ranges…), through both back ends; the columns
    answer every one of them themselves but those with a death or a given pension start (which they leave to the
    interpreter by design, test_rows_the_columns_do_not_take_are_the_interpreters)."""
    from engine.tools.cases import load_cases

    policy = construct_registry.policy(region)
    cases = [c for c in load_cases(construct_registry.policy_dir / region, region, construct_registry.policy_dir.parent)
             if not c.expect_error]
    left = []
    for case in cases:
        fast, fast_totals, slow, slow_totals = both_paths(construct_registry, region, str(case.as_of), [case.person])
        assert fast.to_pylist() == slow.to_pylist(), case.name
        assert nonzero(fast_totals) == nonzero(slow_totals), case.name
        if {"death_date", "pension_start_date"} & set(case.person):
            continue
        result = columnar.evaluate_batch(policy, read_as_of(str(case.as_of)), batch.as_table([(1, case.person)]))
        if result.fallback.sum():
            left.append(case.name)
    assert not left, left


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("as_of", ["2012-06-30", "2014-12-31", "2019-07-01", "2026-06-01"])
def test_columns_answer_a_generated_population_themselves(registry, region, as_of):
    policy = registry.policy(region)
    persons = list(generate(policy, 400, seed=5, as_of=read_as_of(as_of)))
    result = columnar.evaluate_batch(policy, read_as_of(as_of), batch.as_table(list(enumerate(persons, start=1))))
    assert result.fallback.sum() == 0, "the columns left common persons to the interpreter"
    fast, _, slow, _ = both_paths(registry, region, as_of, persons)
    assert fast.to_pylist() == slow.to_pylist()


def test_rows_the_columns_do_not_take_are_the_interpreters(registry):
    """A death, an invalid tier and a malformed date are answered (or refused) by the interpreter, in place."""
    persons = [
        {"id": "ok", "birth_date": "1950-03-01", "hukou": {"type": "rural"}, "groups": [], "contributions": []},
        {"id": "died", "birth_date": "1950-03-01", "death_date": "2020-05-01", "contributions": []},
        {"id": "tier", "birth_date": "1970-03-01", "contributions": [
            {"year": 2020, "tier": "250.00", "kind": "regular", "date": "2020-03-01"}]},
        {"id": "date", "birth_date": "1970-02-30", "contributions": []},
    ]
    policy = registry.policy("ningxia")
    result = columnar.evaluate_batch(policy, read_as_of("2020-12-31"), batch.as_table(list(enumerate(persons, start=1))))
    assert list(result.fallback) == [False, True, True, True]
    fast, _, slow, _ = both_paths(registry, "ningxia", "2020-12-31", persons)
    rows = fast.to_pylist()
    assert rows == slow.to_pylist()
    assert rows[1]["status"] == "deceased"
    assert '"/person/contributions/0/tier"' in rows[2]["error"]
    assert '"/person/birth_date"' in rows[3]["error"]


def test_exact_fractions_round_half_up_like_decimal():
    """Q.round_fen is Decimal's ROUND_HALF_UP at 0.01 for values on and beside the half-fen."""
    import numpy as np

    nums = np.array([5, 4, 6, -5, 139 * 50 + 69, 139 * 50 + 70, 0], dtype="int64")
    q = arrays.Q(nums, 1000)  # thousandths of a yuan: 0.005 → 0.01
    expected = [(Decimal(int(n)) / 1000).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") for n in nums]
    assert [Decimal(int(f)) / 100 for f in q.fen_values()] == expected


def test_batch_files_are_identical_by_either_method_and_any_row_can_be_explained(registry, tmp_path):
    import json
    import subprocess
    import sys

    import pyarrow.parquet as pq


    root = Path(__file__).resolve().parent.parent
    source = tmp_path / "people.parquet"
    run = lambda *a: subprocess.run([sys.executable, "-m", "engine.cli", *map(str, a)], capture_output=True,  # noqa
                                    text=True, cwd=root, timeout=300)
    assert run("population", "--region", "yuxi", "--size", 1500, "--seed", 3, "-o", source).returncode == 0
    outputs = {}
    for method in ("columns", "interpreter"):
        summary = batch.run_batch(registry, "yuxi", "2020-12-31", source, tmp_path / f"{method}.parquet", workers=2,
                            method=method)
        outputs[method] = (pq.read_table(tmp_path / f"{method}.parquet"), (summary.rows, summary.errors, summary.totals))
    assert outputs["columns"][0].equals(outputs["interpreter"][0])
    assert outputs["columns"][1] == outputs["interpreter"][1]
    row = outputs["columns"][0].to_pylist()[41]
    why = run("why", "--region", "yuxi", "--as-of", "2020-12-31", source, row["row"], "--format", "json")
    assert why.returncode == 0, why.stderr
    result = json.loads(why.stdout)
    assert Decimal(result["monthly_pension"]["total"]) == row["monthly_pension_total"]  # decimal128 in Parquet
    assert result["explanation"]["source"]["file"].startswith("policies/")


@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
def test_calendar_arithmetic_agrees_with_datetime(day):
    import numpy as np

    number = np.array([days.day_number(day)])
    assert tuple(int(v[0]) for v in days.ymd(number)) == (day.year, day.month, day.day)
    assert int(days.years_of(number)[0]) == day.year
    assert days.from_ymd(day.year, day.month, day.day) == number[0]


@given(st.lists(st.one_of(st.none(), st.dates(dt.date(1850, 1, 1), dt.date(2150, 12, 31)).map(dt.date.isoformat),
                          st.text("0123456789-+ ", min_size=8, max_size=11),
                          st.sampled_from(["2011-02-29", "2012-02-29", "2011-2-01", "1899-12-31", "2101-01-01",
                                           "0000-01-01", "２０１１-01-01", "2011-01-01\n"])), max_size=12))
def test_the_date_columns_read_as_one_person_is_read(texts):
    """Arrow's date reading (the quick way) and the pattern with the calendar round trip (the long way) take and
    refuse the same texts as the person reader."""
    import numpy as np
    import pyarrow as pa

    from engine.core.person import DATE, EARLIEST, LATEST

    numbers, ok = columnar.day_numbers(pa.array(texts, pa.string()))
    for text, day, good in zip(texts, numbers, ok):
        try:
            expected = DATE.fullmatch(text) and EARLIEST <= dt.date.fromisoformat(text) <= LATEST and \
                dt.date.fromisoformat(text)
        except (TypeError, ValueError):
            expected = None
        assert bool(good) == bool(expected), text
        if expected:
            assert day == days.day_number(expected)
    slow = columnar.day_numbers(pa.array(texts + ["not a date"], pa.string()))  # one bad text: the long way for all
    assert np.array_equal(slow[0][:-1], numbers) and np.array_equal(slow[1][:-1], ok)
    # the same texts by dictionary (a Parquet column read as one), then a row pointing at a null among the texts
    # and a null row
    texts_by_dictionary = pa.DictionaryArray.from_arrays(
        pa.array(list(range(1, len(texts) + 1)) + [0, None], pa.int32()), pa.array([None] + texts, pa.string()))
    by_dictionary = columnar.day_numbers(texts_by_dictionary)
    assert np.array_equal(by_dictionary[0][:-2], numbers) and np.array_equal(by_dictionary[1][:-2], ok)
    assert not by_dictionary[1][-2:].any() and not by_dictionary[0][-2:].any()


@pytest.mark.parametrize("region", REGIONS)
def test_text_columns_read_as_dictionaries_give_the_same_rows(registry, region, tmp_path):
    """batch reads a Parquet row group's text columns as dictionaries (batch.read_row_group); the columns take them
    as they take plain strings: the same output columns, the same rows left to the interpreter, the same totals."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    policy = registry.policy(region)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
    @given(persons=st.lists(person(policy), min_size=1, max_size=30),
           as_of=st.dates(dt.date(2009, 1, 1), dt.date(2026, 12, 31)))
    def check(persons, as_of):
        plain = batch.as_table(list(enumerate(persons, start=1)))
        if plain is None:
            return
        path = tmp_path / "in.parquet"
        try:
            pq.write_table(plain, path)
        except pa.ArrowNotImplementedError:  # a shape Parquet does not hold (an object with no field)
            return
        coded = batch.read_row_group(str(path), 0)
        if "birth_date" in plain.column_names and pa.types.is_string(plain.column("birth_date").type):
            assert pa.types.is_dictionary(coded.column("birth_date").type)
        try:
            fast = columnar.evaluate_batch(policy, as_of, plain)
        except columnar.Unsupported:
            with pytest.raises(columnar.Unsupported):
                columnar.evaluate_batch(policy, as_of, coded)
            return
        other = columnar.evaluate_batch(policy, as_of, coded)
        assert np.array_equal(fast.fallback, other.fallback)
        assert fast.columns.keys() == other.columns.keys()
        for name, values in fast.columns.items():
            assert np.array_equal(np.asarray(values)[~fast.fallback], np.asarray(other.columns[name])[~fast.fallback])
        assert fast.totals == other.totals
        a, a_totals, _ = batch.evaluate_chunk(region, iso(as_of), batch.Chunk(1, plain), registry, "columns")
        b, b_totals, _ = batch.evaluate_chunk(region, iso(as_of), batch.Chunk(1, coded), registry, "columns")
        assert a.to_pylist() == b.to_pylist() and a_totals == b_totals

    check()


@given(st.lists(st.integers(-10**12 + 1, 10**12 - 1), max_size=20))
def test_fen_become_exact_decimals(fen):
    assert batch.fen_decimal(fen).to_pylist() == [Decimal(f).scaleb(-2) for f in fen]


@given(st.dates(dt.date(1900, 1, 1), dt.date(2060, 12, 31)), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
       st.integers(0, 40))
def test_both_calendars_of_the_mechanics_agree(birth, day, years):
    """engine.core.mechanics runs on datetime.date (one person) and on day numbers (a population): same answers."""
    import numpy as np

    cal, n = days.DAY_ARRAYS, np.array([days.day_number(day)])
    by, bm, bd = (np.array([v]) for v in (birth.year, birth.month, birth.day))
    y, m, d = cal.anniversary(by, bm, bd, years)
    assert dt.date(int(y[0]), int(m[0]), int(d[0])) == dates.anniversary(birth, years)
    if birth <= day:
        assert int(cal.age_on(by, bm, bd, *(np.array([v]) for v in (day.year, day.month, day.day)))[0]) == \
            dates.age_on(birth, day)
    for name in ("first_of_month", "first_of_next_month", "first_of_month_on_or_after"):
        if day < dt.date(2100, 12, 1):
            assert days.from_day_number(getattr(cal, name)(n)[0]) == getattr(mechanics.DATES, name)(day), name
    start = days.day_number(birth)
    assert int(cal.months_inclusive(np.array([start]), n)[0]) == dates.months_inclusive(birth, day)


DAYS = st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31))


@given(aged=st.booleans(), required=st.integers(0, 15), scheme_start=DAYS, pension_month=DAYS,
       met=st.one_of(st.none(), DAYS), rule=st.tuples(st.one_of(st.none(), DAYS), st.one_of(st.none(), DAYS)),
       member=st.tuples(DAYS, st.one_of(st.none(), DAYS)), as_of=DAYS)
def test_both_calendars_choose_the_same_pension_start(aged, required, scheme_start, pension_month, met, rule, member,
                                                     as_of):
    """The routes to a pension start (engine.core.mechanics: age, payment, early start), written once: one person's
    dates and a population's day numbers give the same day, or both never."""
    import numpy as np

    pension_month = pension_month.replace(day=1)  # the first of a month, as the back ends make it
    rule_start, rule_end = rule[0] or dt.date.min, rule[1] or dt.date.max
    member_from, member_to = member[0], member[1] or dt.date.max
    cal, one = days.DAY_ARRAYS, mechanics.DATES

    def number(day):
        return np.array([days.day_number(day) if day is not None else days.FAR])

    def back(value):
        return one.never if int(value[0]) == days.FAR else days.from_day_number(int(value[0]))

    assert back(mechanics.age_start(cal, np.array([aged]), number(scheme_start), number(pension_month))) == \
        mechanics.age_start(one, aged, scheme_start, pension_month)
    assert back(mechanics.payment_start(cal, np.array([aged]), np.array([required]), number(met), number(pension_month))) \
        == mechanics.payment_start(one, aged, required, met or one.never, pension_month)
    assert back(mechanics.early_start(cal, number(rule_start), number(rule_end), number(pension_month),
                                      number(member_from), number(member_to), number(as_of))) == \
        mechanics.early_start(one, rule_start, rule_end, pension_month, member_from, member_to, as_of)


@given(st.lists(st.integers(-5000, 60000), max_size=25), st.lists(st.integers(-5000, 60000), max_size=200),
       st.integers(0, 3))
def test_record_intervals_by_table_are_those_by_search(bounds, days, spread):
    """The interval of each record's day among the plan's change days: the table of a short span of days gives
    np.searchsorted's answer, as the search does for a long span."""
    import numpy as np

    bounds, days = np.array(sorted(bounds), dtype="int64"), np.array(days, dtype="int64") // (1 + 100 * spread)
    assert np.array_equal(segments.intervals(bounds, days), np.searchsorted(bounds, days, side="right"))


@pytest.mark.parametrize("region, as_of, records", [
    ("anhui", "2013-01-01", [(2012, "250.00", "2012-01-01"), (2013, "250.00", "2013-01-01")]),
    ("ningxia", "2015-01-01", [(2014, "100.00", None), (2012, "100.00", None)]),
])
def test_a_record_paid_in_a_year_after_the_pension_start_year(registry, region, as_of, records):
    """Found by the random persons above (a birth on 29 February, pension from 2012, records paid later): the
    columns' account cells ran to the person's last year only, so a record counted on the as-of day but paid in a
    later year than the pension start fell outside its person's row — the next person's, or past the end (a
    crash of the whole chunk). Such a record adds nothing to the balance at the start; both paths agree."""
    person = {"id": "0", "birth_date": "1952-02-29", "hukou": {}, "groups": [], "contributions": [
        {"year": y, "tier": t, "kind": "regular", **({"date": d} if d else {})} for y, t, d in records]}
    fast, fast_totals, slow, slow_totals = both_paths(registry, region, as_of, [person])
    assert fast.to_pylist() == slow.to_pylist()
    assert nonzero(fast_totals) == nonzero(slow_totals)


def test_a_record_paid_after_the_pension_start_year_never_moves_into_the_next_persons_account(registry):
    """The same record in a batch of pensioners (every person's last account year before its payment): before the
    fix its credit landed in the next row's cells, silently — the third person below got balance 185.20 and pension
    91.87 from the columns against the interpreter's 92.40 and 90.94."""
    late = {"id": "0", "birth_date": "1952-02-29", "hukou": {}, "groups": [], "contributions": [
        {"year": 2014, "tier": "100.00", "kind": "regular"}, {"year": 2012, "tier": "100.00", "kind": "regular"}]}
    pensioner = {"id": "1", "birth_date": "1951-09-01", "hukou": {}, "groups": [], "contributions": [
        {"year": 2011, "tier": "100.00", "kind": "regular", "date": "2011-08-01"}]}  # Ningxia: from 2011-10-01
    fast, _, slow, _ = both_paths(registry, "ningxia", "2015-01-01", [late, pensioner, pensioner])
    assert fast.to_pylist() == slow.to_pylist()
    assert [str(r["account_balance"]) for r in fast.to_pylist()[1:]] == ["92.40", "92.40"]
