"""The benchmark's OpenFisca peer: Ningxia's 2011 rules (domain.md §2, §4) as an OpenFisca model.

The same rules as reference_loop.py — 2011 tiers and subsidies, the family-planning reward, the account with
yearly interest (dated parameters; `--no-interest` credits none), required years and the pension start, basic
pension, the 2-yuan bonus and account ÷ 139 — written the OpenFisca way: one person entity, contribution years as
YEAR variables (tier and payment date per year 2011..2018), the account as a recursion over `period.last_year`,
one vectorised simulation over the whole population. Dates are days since 1970-01-01 (numpy datetime64
arithmetic, no per-person Python loop); money is kept as integer fen (OpenFisca has no decimal type and computes
floats in float32). Valid for as-of dates 2011-07-01 … 2018-12-31 on a population from
`jubao population --region ningxia`.

Run: benchmarks/peers/.venv/bin/python benchmarks/peers/openfisca_ningxia.py POP.parquet --as-of 2018-12-31 --out OUT.parquet
     benchmarks/peers/.venv/bin/python benchmarks/peers/openfisca_ningxia.py POP.parquet --single 200
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import io
import json
import resource
import statistics
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openfisca_core import periods
from openfisca_core.entities import build_entity
from openfisca_core.parameters import ParameterNode
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

YEARS = range(2011, 2019)
NEVER = 10**7  # a day number after every date (year ~29000)
EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


SCHEME_START = day_number(dt.date(2011, 7, 1))
POVERTY_ROUTE = day_number(dt.date(2018, 11, 1))
GROUPS = ["severe_disability", "dibao", "tekun", "poverty_registered", "only_child_family", "two_daughter_family"]
Person = build_entity(key="person", plural="persons", label="person", is_person=True)

PARAMETERS = {
    "interest_rate": {"values": {"1900-01-01": 0.0225, "2010-12-26": 0.0275, "2011-07-07": 0.035,
                                 "2012-07-06": 0.03, "2014-11-22": 0.0275, "2015-10-24": 0.015}},
    "central_basic_pension": {"values": {"2009-09-01": 55, "2014-07-01": 70, "2018-01-01": 88}},
    "ningxia_basic_pension": {"values": {"2011-07-01": 15, "2014-07-01": 20}},
    "subsidy": {"metadata": {"type": "single_amount"}, "brackets": [{"threshold": {"values": {"2011-07-01": t}}, "amount": {"values": {"2011-07-01": a}}}
                             for t, a in [(100, 30), (200, 40), (300, 50), (400, 60), (500, 70), (600, 80), (700, 90),
                                          (800, 100), (900, 110), (1000, 120), (1500, 160), (2000, 200)]]},
    "family_planning_reward": {"values": {"2011-07-01": 20}},
    "bonus_per_year": {"values": {"2011-07-01": 2}},
}


# ---- vectorised date helpers on day numbers ----
def _dates(days) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("M8[D]")


def _next_month(days) -> np.ndarray:
    """First day of the month after each date."""
    return ((_dates(days).astype("M8[M]") + 1).astype("M8[D]")).astype(np.int64)


def _first_on_or_after(days) -> np.ndarray:
    """First day of a month on or after each date."""
    d = _dates(days)
    first = d.astype("M8[M]").astype("M8[D]")
    return np.where(d == first, d, (d.astype("M8[M]") + 1).astype("M8[D]")).astype(np.int64)


def _year(days) -> np.ndarray:
    return _dates(days).astype("M8[Y]").astype(np.int64) + 1970


def _month_index(days) -> np.ndarray:
    return _dates(days).astype("M8[M]").astype(np.int64)


class birth(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.ETERNITY, "birth date (day number)"


class sixtieth(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.ETERNITY, "60th birthday (day number)"


class as_of(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.ETERNITY, "as-of date (day number)"


for _g in GROUPS:  # one membership start per group (the population's memberships are open-ended)
    globals()[f"{_g}_from"] = type(f"{_g}_from", (Variable,), dict(
        value_type=int, entity=Person, definition_period=periods.DateUnit.ETERNITY, default_value=NEVER,
        label=f"{_g} from (day number)"))


class tier(Variable):
    value_type, entity, definition_period, label = float, Person, periods.DateUnit.YEAR, "tier paid for the year"


class paid_on(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.YEAR, "payment date (day number)"
    default_value = NEVER


class subsidy(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.YEAR, "contribution subsidy (fen)"

    def formula(person, period, parameters):
        t = person("tier", period)
        return np.where(t > 0, np.rint(parameters("2018-01-01").subsidy.calc(t) * 100), 0)


class reward(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.YEAR, "family-planning reward (fen)"

    def formula(person, period, parameters):
        day = person("paid_on", period)
        held = (person("only_child_family_from", periods.ETERNITY) <= day) | \
            (person("two_daughter_family_from", periods.ETERNITY) <= day)
        amount = np.rint(parameters("2018-01-01").family_planning_reward * 100)
        return np.where((person("tier", period) > 0) & held, amount, 0)


class credited(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.YEAR, "credited: personal + 代缴 + subsidies (fen)"

    def formula(person, period, parameters):
        # 代缴 changes who pays the tier, not what is credited: personal + government_paid = tier
        return np.rint(person("tier", period) * 100) + person("subsidy", period) + person("reward", period)


class balance_end(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.YEAR, "account at the end of the year (fen)"

    def formula(person, period, parameters):
        if period.start.year < min(YEARS):
            return np.zeros(person.count, dtype=np.int64)
        last = np.asarray(person("balance_end", period.last_year), dtype=np.int64)
        # OpenFisca floats are float32: the rate goes in as whole basis points, the interest in integer fen,
        # rounded half-up
        points = int(round(float(parameters(f"{period.start.year}-12-31").interest_rate) * 10000))
        interest = (2 * last * points + 10000) // 20000
        return last + person("credited", period) + interest


class required_years(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "required years"

    def formula(person, period, parameters):
        sixty = person("sixtieth", period)
        return np.where(sixty <= SCHEME_START, 0, np.minimum(15, _year(sixty) - 2011))


class pension_start(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "pension start (day number; NEVER if none)"

    def formula(person, period, parameters):
        sixty, day = person("sixtieth", period), person("as_of", period)
        required = person("required_years", period)
        t60 = _next_month(sixty)
        aged = sixty <= SCHEME_START
        count = np.zeros(person.count, dtype=np.int64)
        met = np.full(person.count, NEVER, dtype=np.int64)
        for y in YEARS:  # payment dates lie in their year, so year order is date order
            d = person("paid_on", str(y))
            paid = (person("tier", str(y)) > 0) & (d <= day)
            count = count + paid
            met = np.where((met == NEVER) & paid & (count == required), d, met)
        payment = np.where(met < t60, t60, np.where(met < NEVER, _next_month(met), NEVER))
        payment = np.where(~aged & (required == 0), t60, payment)
        aged_route = np.where(aged, np.maximum(SCHEME_START, t60), NEVER)
        registered = person("poverty_registered_from", period)
        poverty = np.maximum(np.maximum(POVERTY_ROUTE, t60), _first_on_or_after(registered))
        poverty = np.where((registered < NEVER) & (poverty <= day), poverty, NEVER)
        return np.minimum(np.minimum(aged_route, payment), poverty)


class counted_years(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "counted years"

    def formula(person, period, parameters):
        day = person("as_of", period)
        n = sum(((person("tier", str(y)) > 0) & (person("paid_on", str(y)) <= day)).astype(np.int64) for y in YEARS)
        return np.where(person("required_years", period) < 15, np.minimum(n, 15), n)


class balance_at_start(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "account at pension start (fen)"

    def formula(person, period, parameters):
        start = person("pension_start", period)
        start_year = _year(start)
        out = np.zeros(person.count, dtype=np.int64)
        for y in YEARS:
            here = start_year == y
            this_year = np.where(person("paid_on", str(y)) <= start, person("credited", str(y)), 0)
            out = np.where(here, person("balance_end", str(y - 1)) + this_year, out)
        return out


class account_pension(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "account pension (fen)"

    def formula(person, period, parameters):
        # balance at start ÷ 139, rounded half-up to the fen
        return (2 * np.asarray(person("balance_at_start", period), dtype=np.int64) + 139) // 278


class monthly_pension(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "monthly pension (fen)"

    def formula(person, period, parameters):
        day = person("as_of", period)
        receiving = person("pension_start", period) <= day
        on = (EPOCH + dt.timedelta(days=int(day[0]))).isoformat()  # one as-of date for the whole simulation
        bonus = np.rint(parameters(on).bonus_per_year * 100) * np.maximum(person("counted_years", period) - 15, 0)
        basic = np.rint((parameters(on).central_basic_pension + parameters(on).ningxia_basic_pension) * 100)
        return np.where(receiving, basic + bonus + person("account_pension", period), 0)


class account_balance(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "account balance (fen)"

    def formula(person, period, parameters):
        day = person("as_of", period)
        start = person("pension_start", period)
        receiving = start <= day
        year = int(_year(day[:1])[0])
        now = person("balance_end", str(year - 1))
        if year in YEARS:
            now = now + np.where(person("paid_on", str(year)) <= day, person("credited", str(year)), 0)
        at_start = np.asarray(person("balance_at_start", period), dtype=np.int64)
        months = _month_index(day) - _month_index(np.minimum(start, day)) + 1
        drawn = np.maximum(at_start - person("account_pension", period) * months, 0)
        return np.where(receiving, drawn, now)


def system(interest: bool = True) -> TaxBenefitSystem:
    tbs = TaxBenefitSystem([Person])
    data = copy.deepcopy(PARAMETERS)
    if not interest:
        data["interest_rate"] = {"values": {"1900-01-01": 0}}
    tbs.parameters = ParameterNode("", data=data)
    for value in list(globals().values()):
        if isinstance(value, type) and issubclass(value, Variable) and value is not Variable:
            tbs.add_variable(value)
    return tbs


def _days(column) -> np.ndarray:
    return column.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("M8[D]").astype(np.int64)


def inputs(table: pa.Table) -> dict:
    """The population as OpenFisca inputs, column by column (no per-person Python)."""
    n = table.num_rows
    births = _days(table.column("birth_date").combine_chunks())
    b = births.astype("M8[D]")
    month = b.astype("M8[M]")
    # 60th birthday: same day-of-month 720 months on; 29 February rolls to 1 March in a common year
    sixtieth = ((month + 720).astype("M8[D]") + (b - month.astype("M8[D]"))).astype(np.int64)
    out = {("birth", "eternity"): births, ("sixtieth", "eternity"): sixtieth}
    groups = table.column("groups").combine_chunks()
    owner = pc.list_parent_indices(groups).to_numpy()
    flat = pc.list_flatten(groups)
    ids = flat.field("id").to_numpy(zero_copy_only=False)
    starts = _days(flat.field("from")) if len(flat) else np.zeros(0, dtype=np.int64)
    for g in GROUPS:
        first = np.full(n, NEVER, dtype=np.int64)
        here = ids == g
        np.minimum.at(first, owner[here], starts[here])
        out[(f"{g}_from", "eternity")] = first
    contributions = table.column("contributions").combine_chunks()
    owner = pc.list_parent_indices(contributions).to_numpy()
    flat = pc.list_flatten(contributions)
    years = flat.field("year").to_numpy(zero_copy_only=False)
    tiers = flat.field("tier").cast(pa.float64()).to_numpy(zero_copy_only=False)
    dates = _days(flat.field("date"))
    if len(years) and (years.min() < min(YEARS) or years.max() > max(YEARS)):
        raise SystemExit(f"contribution years must lie in {min(YEARS)}..{max(YEARS)}")
    for y in YEARS:
        here = years == y
        tier_y = np.zeros(n)
        paid_y = np.full(n, NEVER, dtype=np.int64)
        tier_y[owner[here]] = tiers[here]
        paid_y[owner[here]] = dates[here]
        out[("tier", str(y))] = tier_y
        out[("paid_on", str(y))] = paid_y
    return out


def simulate(tbs, data: dict, n: int, as_of_day: dt.date, trace: bool = False):
    simulation = SimulationBuilder().build_default_simulation(tbs, n)
    simulation.trace = trace
    for (name, period), values in data.items():
        simulation.set_input(name, period, values)
    simulation.set_input("as_of", "eternity", np.full(n, day_number(as_of_day)))
    month = as_of_day.strftime("%Y-%m")
    return simulation, simulation.calculate("monthly_pension", month), simulation.calculate("account_balance", month)


def yuan(fen) -> pa.Array:
    """Integer fen → "123.45" strings, vectorised."""
    whole, cents = np.divmod(np.asarray(fen, dtype=np.int64), 100)
    return pc.binary_join_element_wise(pa.array(whole).cast(pa.string()),
                                       pc.utf8_lpad(pa.array(cents).cast(pa.string()), 2, "0"), ".")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("population")
    parser.add_argument("--as-of", default="2018-12-31")
    parser.add_argument("--out")
    parser.add_argument("--no-interest", action="store_true", help="credit no interest (account = sum of credits)")
    parser.add_argument("--single", type=int, default=0, help="time one person this many times, with and without trace")
    parser.add_argument("--person", help="id of the person for --single (default: the first row)")
    args = parser.parse_args()
    as_of_day = dt.date.fromisoformat(args.as_of)
    if not dt.date(2011, 7, 1) <= as_of_day <= dt.date(2018, 12, 31):
        raise SystemExit("this peer encodes Ningxia's 2011 rules only: --as-of must lie in 2011-07-01 … 2018-12-31")
    started = time.perf_counter()
    tbs = system(interest=not args.no_interest)
    table = pq.read_table(args.population, columns=["id", "birth_date", "groups", "contributions"])
    if args.single:
        if args.person:
            table = table.filter(pc.equal(table.column("id"), args.person))
        one = inputs(table.slice(0, 1))
        result = {}
        for trace in (False, True):
            times = []
            for _ in range(args.single):
                t = time.perf_counter()
                simulation, _, _ = simulate(tbs, one, 1, as_of_day, trace)
                if trace:  # format and "print" the full computation log (to a buffer, to keep stdout one line)
                    print("\n".join(simulation.tracer.computation_log.lines()), file=io.StringIO())
                times.append(time.perf_counter() - t)
            result[f"median_ms_trace_{str(trace).lower()}"] = round(statistics.median(times) * 1000, 3)
        print(json.dumps({"peer": "openfisca", "person": table.column("id")[0].as_py(), "runs": args.single,
                          "single": result,
                          "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
        return
    if not args.out:
        parser.error("--out is required unless --single")
    data = inputs(table)
    n = table.num_rows
    t = time.perf_counter()
    _, totals, balances = simulate(tbs, data, n, as_of_day)
    evaluating = time.perf_counter() - t
    pq.write_table(pa.table({"person_id": table.column("id"), "monthly_pension_total": yuan(totals),
                             "account_balance": yuan(balances)}), args.out)
    seconds = time.perf_counter() - started
    print(json.dumps({"peer": "openfisca", "persons": n, "seconds_eval": round(evaluating, 3),
                      "seconds_total": round(seconds, 3), "persons_per_s": round(n / seconds),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
