"""The benchmark's GoRules ZEN peer: Ningxia's 2011 rules (domain.md §2, §4) as a ZEN decision model (JDM graph).

The same rules as reference_loop.py and openfisca_ningxia.py — 2011 tiers and subsidies, the family-planning
reward, the account with yearly interest (rate in force on 31 December, on the opening balance, rounded to the
fen), required years and the pension start (payment route, aged route, poverty route), basic pension, the 2-yuan
bonus and account ÷ 139 — written the ZEN way: decision tables for the dated parameters (the tier table, run per
contribution record, and the interest rate, run per year, in the tables' loop mode; central and Ningxia basic
pension) and expression nodes for the arithmetic. ZEN's expression language has no fold and no sort, so the
account is one expression per scheme year and the year the required count is met is found from per-year counts
(YEARS, unrolled when the graph is built; one payment per calendar year, as the OpenFisca peer assumes). ZEN
computes in decimals, not floats. The graph is evaluated from ZenDecisionContent (precompiled), with
`{"trace": True}` (every node's input, output and rule hits) and without.

Valid for as-of dates in 2011-07-01 … 2026-12-31 (YEARS). A simpler model than jubao's Ningxia policy: the
2011 rules only, without the later-year changes (the 2019 tier table and its subsidies, the central raises from
2020-07-01 and the Ningxia ones from 2019, the age add-on and the 代缴 groups from 2019). `LATER` puts jubao's
later values into the same tables (subsidies and basic pension; not the age add-on, 0 below 65, nor the 2019
rule that the 100 tier is for 代缴 persons only): `pension_later_years` is the same graph with them, a check that
where the rules are the same the figure is jubao's. `--check N` compares the 2011 model with reference_loop.py on
N random persons (as-of dates 2011-07-01 … 2018-12-31, that loop's range).

Run: benchmarks/peers/.venv/bin/python benchmarks/peers/zen_ningxia.py [PERSON.json] [--as-of 2026-03-01] [--runs 500]
     benchmarks/peers/.venv/bin/python benchmarks/peers/zen_ningxia.py --check 2000
     benchmarks/peers/.venv/bin/python benchmarks/peers/zen_ningxia.py --write-jdm ningxia-2011.jdm.json
Prints one JSON line: {"traced_ms", "untraced_ms", "pension", ...} (the pension under the 2011 rules).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
from importlib.metadata import version
from pathlib import Path

import zen

ROOT = Path(__file__).resolve().parent.parent.parent
PERSON = ROOT / "examples" / "ningxia-tier500-2011-2025.json"
YEARS = range(2011, 2027)  # the account is unrolled over these years; as-of dates must lie in them
FIRST = YEARS[0]

# Dated parameters, (from, value), oldest first — the same values as the OpenFisca peer's PARAMETERS.
RULES_2011 = {
    "interest_rate": [("1900-01-01", "0.0225"), ("2010-12-26", "0.0275"), ("2011-07-07", "0.035"),
                      ("2012-07-06", "0.03"), ("2014-11-22", "0.0275"), ("2015-10-24", "0.015")],
    "central_basic_pension": [("2009-09-01", "55"), ("2014-07-01", "70"), ("2018-01-01", "88")],
    "ningxia_basic_pension": [("2011-07-01", "15"), ("2014-07-01", "20")],
    # tier → province subsidy
    "subsidy": [("2011-07-01", {100: 30, 200: 40, 300: 50, 400: 60, 500: 70, 600: 80, 700: 90, 800: 100,
                                900: 110, 1000: 120, 1500: 160, 2000: 200})],
    "family_planning_reward": [("2011-07-01", "20")],
    "bonus_per_year": [("2011-07-01", "2")],
}
# jubao's later-year values (policies/national/pension.policy, policies/ningxia/*.policy) for the same tables:
# used only for the `pension_later_years` cross-check, never timed.
LATER = {
    **RULES_2011,
    "central_basic_pension": RULES_2011["central_basic_pension"] + [
        ("2020-07-01", "93"), ("2022-01-01", "98"), ("2023-01-01", "103"), ("2024-01-01", "123"),
        ("2025-01-01", "143"), ("2026-01-01", "163")],
    "ningxia_basic_pension": RULES_2011["ningxia_basic_pension"] + [("2019-01-01", "60"), ("2020-01-01", "90")],
    "subsidy": RULES_2011["subsidy"] + [("2019-01-01", {100: 30, 200: 50, 500: 80, 1000: 120, 2000: 200,
                                                        3000: 250, 5000: 300})],
}


def _key(day: str) -> int:
    """A date as the number yyyymmdd, the form the tables compare."""
    return int(day.replace("-", ""))


def _node(node_id: str, name: str, kind: str, content: dict | None = None) -> dict:
    node = {"id": node_id, "name": name, "type": kind}
    if content is not None:
        node["content"] = content
    return node


def _expressions(node_id: str, name: str, pairs: list[tuple[str, str]], **attrs) -> dict:
    return _node(node_id, name, "expressionNode", {
        "expressions": [{"id": f"{node_id}-{i}", "key": k, "value": v} for i, (k, v) in enumerate(pairs)],
        "passThrough": True, **attrs})


def _dated_table(node_id: str, name: str, field: str, key_field: str, rows: list[tuple[str, str]],
                 **attrs) -> dict:
    """A first-hit decision table: one rule per dated value, newest first (`key_field` ≥ its start)."""
    return _node(node_id, name, "decisionTableNode", {
        "hitPolicy": "first", "passThrough": True, **attrs,
        "inputs": [{"id": "day", "name": "date (yyyymmdd)", "field": key_field}],
        "outputs": [{"id": "value", "name": field, "field": field}],
        "rules": [{"_id": f"{node_id}-{start}", "day": f">= {_key(start)}", "value": value}
                  for start, value in reversed(rows)]})


def graph(rules: dict) -> dict:
    """The JDM graph of the Ningxia model for one parameter set (RULES_2011 or LATER).

    Dates travel between nodes as yyyymmdd numbers (dayKey), which the tables compare; ZEN date values are used
    only where months are added. The first node keeps only what the rules need, so the context each later node
    copies (and the trace records) stays small."""
    cumulative = [(f"paidBy.y{y}", f"count($.paidKeys, # <= {y}1231)") for y in YEARS]
    facts = _expressions("facts", "dates, required years, records", [
        ("asOf", "d(as_of)"),
        ("asOfKey", "number($.asOf.format('%Y%m%d'))"),
        ("sixtieth", "d(birth_date).add(60, 'y')"),
        ("t60", "$.sixtieth.add(1, 'month').startOf('month')"),
        ("aged", "$.sixtieth <= d('2011-07-01')"),
        ("requiredYears", f"$.aged ? 0 : min([15, $.sixtieth.year() - {FIRST}])"),
        ("rewardFromKeys", "map(filter(groups, #.id == 'only_child_family' or #.id == 'two_daughter_family'), "
                           "number(d(#.from).format('%Y%m%d')))"),
        ("rewardFromKey", "len($.rewardFromKeys) > 0 ? min($.rewardFromKeys) : 99991231"),
        ("povertyFrom", "some(groups, #.id == 'poverty_registered') ? "
                        "d(min(map(filter(groups, #.id == 'poverty_registered'), d(#.from).timestamp()))) : null"),
        ("records", "map(contributions, {dayKey: number(d(#.date).format('%Y%m%d')), tier: number(#.tier)})"),
        ("paidKeys", "filter(map($.records, #.dayKey), # <= $.asOfKey)"),
        # payments counted by the end of each year: the year the required count is reached is the number of
        # years whose count is still short of it (one payment per calendar year, as in the OpenFisca peer)
        *cumulative,
        ("metYear", f"$.requiredYears > 0 and len($.paidKeys) >= $.requiredYears ? {FIRST} + "
                    f"count([{', '.join(f'$.paidBy.y{y}' for y in YEARS)}], # < $.requiredYears) : null"),
        ("metKey", "$.metYear == null ? null : "
                   "min(filter($.paidKeys, # >= $.metYear * 10000 and # <= $.metYear * 10000 + 1231))"),
        ("years", f"map([{FIRST}..$.asOf.year()], {{year: #, yearEndKey: # * 10000 + 1231}})"),
    ], passThrough=False)
    subsidy_rules = []
    for start, table in reversed(rules["subsidy"]):
        subsidy_rules += [{"_id": f"subsidy-{start}-{tier}", "day": f">= {_key(start)}", "tier": str(tier),
                           "value": str(amount)} for tier, amount in table.items()]
    subsidy = _node("subsidy", "缴费档次 tier table: province subsidy", "decisionTableNode", {
        "hitPolicy": "first", "passThrough": True, "executionMode": "loop",
        "inputField": "records", "outputPath": "records",
        "inputs": [{"id": "day", "name": "payment date (yyyymmdd)", "field": "dayKey"},
                   {"id": "tier", "name": "tier", "field": "tier"}],
        "outputs": [{"id": "value", "name": "subsidy", "field": "subsidy"}],
        "rules": subsidy_rules})
    interest = _dated_table("interest", "记账利率 interest rate in force on 31 December", "rate", "yearEndKey",
                            rules["interest_rate"], executionMode="loop", inputField="years", outputPath="years")
    central = _dated_table("central", "中央基础养老金 central basic pension", "centralBasic", "asOfKey",
                           rules["central_basic_pension"])
    ningxia = _dated_table("ningxia", "宁夏基础养老金 Ningxia basic pension", "ningxiaBasic", "asOfKey",
                           rules["ningxia_basic_pension"])
    start = _expressions("start", "pension start, counted years", [
        ("metDate", "metKey == null ? null : d(string(floor(metKey / 10000)) + '-' + "
                    "string(floor(metKey / 100) % 100) + '-' + string(metKey % 100))"),
        ("paymentRoute", "aged ? null : (requiredYears == 0 ? t60 : ($.metDate == null ? null : "
                         "($.metDate < t60 ? t60 : $.metDate.add(1, 'month').startOf('month'))))"),
        ("agedRoute", "aged ? max([d('2011-07-01'), t60]) : null"),
        ("povertyRoute", "povertyFrom == null ? null : max([d('2018-11-01'), t60, "
                         "povertyFrom.startOf('month') == povertyFrom ? povertyFrom : "
                         "povertyFrom.add(1, 'month').startOf('month')])"),
        ("candidates", "filter([$.agedRoute, $.paymentRoute, $.povertyRoute == null or $.povertyRoute > asOf ? "
                       "null : $.povertyRoute], # != null)"),
        ("pensionStart", "len($.candidates) > 0 ? min($.candidates) : null"),
        ("receiving", "$.pensionStart != null and $.pensionStart <= asOf"),
        ("countedYears", "requiredYears < 15 ? min([len(paidKeys), 15]) : len(paidKeys)"),
        # the balance wanted: at the pension start, or now
        ("cutKey", "$.receiving ? number($.pensionStart.format('%Y%m%d')) : asOfKey"),
        ("cutYear", "floor($.cutKey / 10000)"),
    ])
    reward_amount = rules["family_planning_reward"][-1][1]
    unrolled = []
    for year in YEARS:
        i = year - FIRST
        opening = "0" if year == FIRST else f"$.balance.y{year - 1}"
        # 代缴 changes who pays the tier, not what is credited: tier + subsidy + the family-planning reward
        # (one amount since 2011-07-01, for a family that is an only-child or two-daughter one on the payment date)
        credits = (f"sum(map(filter(records, #.dayKey >= {year}0101 and #.dayKey <= {year}1231 and #.dayKey <= cutKey), "
                   f"#.tier + (#.subsidy ?? 0) + (#.tier > 0 and rewardFromKey <= #.dayKey ? {reward_amount} : 0)))")
        interest_now = f"(cutYear > {year} ? round({opening} * years[{i}].rate, 2) : 0)"
        unrolled.append((f"balance.y{year}",
                         f"cutYear < {year} ? {opening} : {opening} + {credits} + {interest_now}"))
    account = _expressions("account", "个人账户 account: credits + yearly interest on the opening balance", unrolled)
    last = f"balance.y{YEARS[-1]}"
    pension = _node("pension", "月养老金 monthly pension", "expressionNode", {"passThrough": False, "expressions": [
        {"id": f"pension-{i}", "key": k, "value": v} for i, (k, v) in enumerate([
            ("status", "receiving ? 'receiving' : 'not_receiving'"),
            ("eligibility.requiredYears", "requiredYears"),
            ("eligibility.countedYears", "countedYears"),
            ("eligibility.pensionStart", "pensionStart == null ? null : pensionStart.format('%Y-%m-%d')"),
            ("account.balanceAtPensionStart", f"receiving ? {last} : null"),
            ("monthlyPension.basicPension", "receiving ? centralBasic + ningxiaBasic : 0"),
            ("monthlyPension.longContributionBonus",
             f"receiving ? {rules['bonus_per_year'][-1][1]} * max([countedYears - 15, 0]) : 0"),
            ("monthlyPension.accountPension", f"receiving ? round({last} / 139, 2) : 0"),
            ("monthlyPension.total", "$.monthlyPension.basicPension + $.monthlyPension.longContributionBonus "
                                     "+ $.monthlyPension.accountPension"),
            ("account.balance", f"receiving ? max([{last} - $.monthlyPension.accountPension * "
                                "((asOf.year() - pensionStart.year()) * 12 + asOf.month() - pensionStart.month() + 1), "
                                f"0]) : {last}"),
        ])]})
    nodes = [_node("input", "person", "inputNode"), facts, subsidy, interest, central, ningxia,
             start, account, pension, _node("output", "decision", "outputNode")]
    return {"nodes": nodes,
            "edges": [{"id": f"e{i}", "sourceId": a["id"], "targetId": b["id"], "type": "edge"}
                      for i, (a, b) in enumerate(zip(nodes, nodes[1:]))]}


def money(value) -> str:
    """A ZEN number (a float on the Python side, decimal inside ZEN) as yuan text "123.45"."""
    return f"{value:.2f}"


def timed(decision, person: dict, trace: bool, runs: int) -> float:
    options = {"trace": trace}
    for _ in range(max(20, runs // 10)):  # warm-up
        decision.evaluate(person, options)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        decision.evaluate(person, options)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def check(decision, persons: int) -> dict:
    """The 2011 model against reference_loop.py (Decimal, written from the rule book) on random persons."""
    import reference_loop  # the peers' own Decimal loop, beside this file

    rng = random.Random(2011)
    differ = []
    for _ in range(persons):
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(365 * 40))
        contributions = []
        for year in sorted(rng.sample(range(2011, 2019), rng.randrange(9))):
            first = dt.date(year, 7, 1) if year == 2011 else dt.date(year, 1, 1)
            day = first + dt.timedelta(days=rng.randrange((dt.date(year, 12, 31) - first).days + 1))
            contributions.append({"year": year, "tier": f"{rng.choice(list(reference_loop.SUBSIDY))}.00",
                                  "kind": "regular", "date": day.isoformat()})
        groups = [{"id": g, "from": (dt.date(2009, 1, 1) + dt.timedelta(days=rng.randrange(3650))).isoformat()}
                  for g in ("only_child_family", "two_daughter_family", "poverty_registered", "dibao")
                  if rng.random() < 0.2]
        as_of = dt.date(2011, 7, 1) + dt.timedelta(days=rng.randrange(2741))  # … 2018-12-31
        row = {"birth_date": birth.isoformat(), "contributions": contributions, "groups": groups}
        want = reference_loop.person(row, as_of)
        out = decision.evaluate({**row, "as_of": as_of.isoformat()})["result"]
        got = (money(out["monthlyPension"]["total"]), money(out["account"]["balance"]))
        if got != want:
            differ.append({"person": row, "as_of": as_of.isoformat(), "reference": want, "zen": got})
    return {"persons": persons, "differ": len(differ), "first": differ[:3]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("person", nargs="?", default=str(PERSON))
    parser.add_argument("--as-of", default="2026-03-01")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--write-jdm", help="also write the 2011 model's JDM graph to this .json file")
    parser.add_argument("--check", type=int, default=0, help="compare with reference_loop.py on this many persons")
    args = parser.parse_args()
    day = dt.date.fromisoformat(args.as_of)
    if not dt.date(2011, 7, 1) <= day <= dt.date(YEARS[-1], 12, 31):
        raise SystemExit(f"the ZEN peer's account is unrolled over {FIRST}..{YEARS[-1]}: "
                         f"--as-of must lie in 2011-07-01 … {YEARS[-1]}-12-31")
    data = json.loads(Path(args.person).read_text(encoding="utf-8"))
    person = {"birth_date": data["birth_date"], "contributions": data.get("contributions") or [],
              "groups": data.get("groups") or [], "as_of": args.as_of}
    model = graph(RULES_2011)
    if args.write_jdm:
        Path(args.write_jdm).write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    engine = zen.ZenEngine()
    decision = engine.create_decision(zen.ZenDecisionContent(json.dumps(model)))  # precompiled
    if args.check:
        report = check(decision, args.check)
        print(json.dumps({"peer": "zen", "check_against": "reference_loop.py", **report}, ensure_ascii=False))
        raise SystemExit(1 if report["differ"] else 0)
    result = decision.evaluate(person, {"trace": True})
    out = result["result"]
    later = engine.create_decision(json.dumps(graph(LATER))).evaluate(person)["result"]
    untraced = timed(decision, person, False, args.runs)
    traced = timed(decision, person, True, args.runs)
    components = {k: money(v) for k, v in out["monthlyPension"].items()}
    print(json.dumps({
        "peer": "zen", "zen_engine": version("zen-engine"), "runs": args.runs, "as_of": args.as_of,
        "person": Path(args.person).name,
        "traced_ms": round(traced, 3), "untraced_ms": round(untraced, 3),
        "pension": components.pop("total"), "components": components,
        "balance_at_pension_start": money(out["account"]["balanceAtPensionStart"] or 0),
        "account_balance": money(out["account"]["balance"]), "eligibility": out["eligibility"],
        "trace_nodes": len(result["trace"]), "trace_bytes": len(json.dumps(result["trace"], default=str)),
        "pension_later_years": money(later["monthlyPension"]["total"]),
        "balance_at_pension_start_later_years": money(later["account"]["balanceAtPensionStart"] or 0),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
