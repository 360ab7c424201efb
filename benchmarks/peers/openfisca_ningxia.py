"""The benchmark's OpenFisca peer: Ningxia's 2011 rules (domain.md §2, §4) as an OpenFisca model.

The same rules as reference_loop.py — 2011 tiers and subsidies, the family-planning reward, the account with
yearly interest (dated parameters), required years and the pension start, basic pension, the 2-yuan bonus and
account ÷ 139 — written the OpenFisca way: one person entity, contribution years as YEAR variables, the account
as a recursion over `period.last_year`, one vectorised simulation over the whole population. Money is float,
kept as integer fen (OpenFisca has no decimal type and computes floats in float32).

Run: benchmarks/peers/.venv/bin/python benchmarks/peers/openfisca_ningxia.py POP.parquet --as-of 2018-12-31 --out OUT.parquet
     benchmarks/peers/.venv/bin/python benchmarks/peers/openfisca_ningxia.py POP.parquet --single 200
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from openfisca_core import periods
from openfisca_core.entities import build_entity
from openfisca_core.parameters import ParameterNode
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

YEARS = range(2011, 2019)
NEVER = 10**7  # an ordinal after every date
SCHEME_START = dt.date(2011, 7, 1).toordinal()
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


def yuan(fen) -> str:
    return f"{int(fen) // 100}.{int(fen) % 100:02d}"


def _next_month(ordinals: np.ndarray) -> np.ndarray:
    out = np.empty_like(ordinals)
    for i, o in enumerate(ordinals):
        d = dt.date.fromordinal(int(o))
        out[i] = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1).toordinal()
    return out


class birth(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.ETERNITY, "birth date (ordinal)"


class sixtieth(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.ETERNITY, "60th birthday (ordinal)"


class as_of(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.ETERNITY, "as-of date (ordinal)"


for _g in GROUPS:  # one membership start per group (the population's memberships are open-ended)
    globals()[f"{_g}_from"] = type(f"{_g}_from", (Variable,), dict(
        value_type=int, entity=Person, definition_period=periods.DateUnit.ETERNITY, default_value=NEVER,
        label=f"{_g} from (ordinal)"))


class tier(Variable):
    value_type, entity, definition_period, label = float, Person, periods.DateUnit.YEAR, "tier paid for the year"


class paid_on(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.YEAR, "payment date (ordinal)"


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
        return np.rint(person("tier", period) * 100) + person("subsidy", period) + person("reward", period)


class balance_end(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.YEAR, "account at the end of the year (fen)"

    def formula(person, period, parameters):
        if period.start.year < min(YEARS):
            return np.zeros(person.count, dtype=np.int64)
        last = np.asarray(person("balance_end", period.last_year), dtype=np.int64)
        # OpenFisca floats are float32: the rate goes in as whole basis points, the interest in integer fen
        points = int(round(float(parameters(f"{period.start.year}-12-31").interest_rate) * 10000))
        interest = (2 * last * points + 10000) // 20000
        return last + person("credited", period) + interest


class pension_start(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "pension start (ordinal; NEVER if none)"

    def formula(person, period, parameters):
        born, sixty, day = person("birth", period), person("sixtieth", period), person("as_of", period)
        t60 = _next_month(sixty)
        aged = sixty <= SCHEME_START
        required = np.where(aged, 0, np.minimum(15, np.array([dt.date.fromordinal(int(s)).year for s in sixty]) - 2011))
        count = np.zeros(person.count, dtype=int)
        met = np.full(person.count, NEVER)
        for y in YEARS:
            d = person("paid_on", str(y))
            paid = (person("tier", str(y)) > 0) & (d <= day)
            count = count + paid
            met = np.where((met == NEVER) & paid & (count == required), d, met)
        payment = np.where(met < t60, t60, np.where(met < NEVER, _next_month(np.minimum(met, 3_000_000)), NEVER))
        payment = np.where(~aged & (required == 0), t60, payment)
        aged_route = np.where(aged, np.maximum(dt.date(2011, 7, 1).toordinal(), t60), NEVER)
        registered = person("poverty_registered_from", period)
        on = np.where(registered < NEVER, registered, 1)
        first = np.where([dt.date.fromordinal(int(o)).day == 1 for o in on], on, _next_month(on))
        poverty = np.maximum(np.maximum(dt.date(2018, 11, 1).toordinal(), t60), first)
        poverty = np.where((registered < NEVER) & (poverty <= day), poverty, NEVER)
        return np.minimum(np.minimum(aged_route, payment), poverty)


class counted_years(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "counted years"

    def formula(person, period, parameters):
        day = person("as_of", period)
        n = sum(((person("tier", str(y)) > 0) & (person("paid_on", str(y)) <= day)).astype(int) for y in YEARS)
        sixty = person("sixtieth", period)
        years_to_go = np.array([dt.date.fromordinal(int(s)).year for s in sixty]) - 2011
        capped = (sixty > SCHEME_START) & (years_to_go < 15)
        return np.where(capped, np.minimum(n, 15), n)


class balance_at_start(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "account at pension start (fen)"

    def formula(person, period, parameters):
        start = person("pension_start", period)
        start_year = np.array([dt.date.fromordinal(int(min(s, 3_000_000))).year for s in start])
        out = np.zeros(person.count, dtype=np.int64)
        for y in YEARS:
            here = start_year == y
            this_year = np.where((person("paid_on", str(y)) <= start), person("credited", str(y)), 0)
            out = np.where(here, person("balance_end", str(y - 1)) + this_year, out)
        return out


class monthly_pension(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "monthly pension (fen)"

    def formula(person, period, parameters):
        day = person("as_of", period)
        start = person("pension_start", period)
        receiving = start <= day
        on = dt.date.fromordinal(int(day[0])).isoformat()
        account = (2 * np.asarray(person("balance_at_start", period), dtype=np.int64) + 139) // 278
        bonus = np.rint(parameters(on).bonus_per_year * 100) * np.maximum(person("counted_years", period) - 15, 0)
        basic = np.rint((parameters(on).central_basic_pension + parameters(on).ningxia_basic_pension) * 100)
        return np.where(receiving, basic + bonus + account, 0)


class account_balance(Variable):
    value_type, entity, definition_period, label = int, Person, periods.DateUnit.MONTH, "account balance (fen)"

    def formula(person, period, parameters):
        day = person("as_of", period)
        start = person("pension_start", period)
        receiving = start <= day
        d = dt.date.fromordinal(int(day[0]))
        now = person("balance_end", str(d.year - 1)) + np.where(person("paid_on", str(d.year)) <= day,
                                                                person("credited", str(d.year)), 0) \
            if d.year in YEARS else person("balance_end", str(d.year - 1))
        at_start = np.asarray(person("balance_at_start", period), dtype=np.int64)
        account = (2 * at_start + 139) // 278
        start_dates = [dt.date.fromordinal(int(min(s, 3_000_000))) for s in start]
        months = np.array([(d.year - s.year) * 12 + d.month - s.month + 1 for s in start_dates])
        return np.where(receiving, np.maximum(at_start - account * months, 0), now)


def system() -> TaxBenefitSystem:
    tbs = TaxBenefitSystem([Person])
    tbs.parameters = ParameterNode("", data=PARAMETERS)
    for name, value in list(globals().items()):
        if isinstance(value, type) and issubclass(value, Variable) and value is not Variable:
            tbs.add_variable(value)
    return tbs


def inputs(rows: list[dict]) -> dict:
    n = len(rows)
    births = np.array([dt.date.fromisoformat(r["birth_date"]).toordinal() for r in rows])

    def sixtieth_of(text: str) -> int:
        b = dt.date.fromisoformat(text)
        try:
            return b.replace(year=b.year + 60).toordinal()
        except ValueError:
            return dt.date(b.year + 60, 3, 1).toordinal()

    out = {("birth", "eternity"): births,
           ("sixtieth", "eternity"): np.array([sixtieth_of(r["birth_date"]) for r in rows])}
    for g in GROUPS:
        out[(f"{g}_from", "eternity")] = np.array([next((dt.date.fromisoformat(m["from"]).toordinal()
                                                         for m in r.get("groups") or [] if m["id"] == g), NEVER)
                                                   for r in rows])
    tiers = {y: np.zeros(n) for y in YEARS}
    paid = {y: np.full(n, NEVER) for y in YEARS}
    for i, r in enumerate(rows):
        for c in r.get("contributions") or []:
            if c["year"] in tiers:
                tiers[c["year"]][i] = float(c["tier"])
                paid[c["year"]][i] = dt.date.fromisoformat(c["date"]).toordinal()
    for y in YEARS:
        out[("tier", str(y))] = tiers[y]
        out[("paid_on", str(y))] = paid[y]
    return out


def simulate(tbs, rows: list[dict], as_of_day: dt.date, trace: bool = False):
    simulation = SimulationBuilder().build_default_simulation(tbs, len(rows))
    simulation.trace = trace
    for (name, period), values in inputs(rows).items():
        simulation.set_input(name, period, values)
    simulation.set_input("as_of", "eternity", np.full(len(rows), as_of_day.toordinal()))
    month = as_of_day.strftime("%Y-%m")
    return simulation, simulation.calculate("monthly_pension", month), simulation.calculate("account_balance", month)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("population")
    parser.add_argument("--as-of", default="2018-12-31")
    parser.add_argument("--out")
    parser.add_argument("--single", type=int, default=0, help="time one person this many times, with and without trace")
    args = parser.parse_args()
    as_of_day = dt.date.fromisoformat(args.as_of)
    tbs = system()
    started = time.perf_counter()
    rows = pq.read_table(args.population).to_pylist()
    if args.single:
        one = rows[:1]
        result = {}
        for trace in (False, True):
            times = []
            for _ in range(args.single):
                t = time.perf_counter()
                simulation, _, _ = simulate(tbs, one, as_of_day, trace)
                if trace:
                    simulation.tracer.computation_log.lines()
                times.append(time.perf_counter() - t)
            result[f"median_ms_trace_{trace}"] = round(statistics.median(times) * 1000, 2)
        print(json.dumps({"peer": "openfisca", "single": result}))
        return
    t = time.perf_counter()
    _, totals, balances = simulate(tbs, rows, as_of_day)
    evaluating = time.perf_counter() - t
    pq.write_table(pa.table({"person_id": [r["id"] for r in rows], "monthly_pension_total": [yuan(v) for v in totals],
                             "account_balance": [yuan(v) for v in balances]}), args.out)
    seconds = time.perf_counter() - started
    print(json.dumps({"peer": "openfisca", "persons": len(rows), "seconds_eval": round(evaluating, 3),
                      "seconds_total": round(seconds, 3), "persons_per_s": round(len(rows) / seconds),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
