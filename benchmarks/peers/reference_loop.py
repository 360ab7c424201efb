"""A plain-Python Decimal loop of Ningxia's 2011 rules (domain.md §2, §4): the benchmark's reference peer.

Written from the rule book, not from jubao: tiers and subsidies of the 2011 table, the family-planning reward
(代缴 changes who pays a tier, not what is credited, so the account needs only tier + subsidies), the account with
yearly interest (`--no-interest` credits none), required years and the pension start, basic pension, the 2-yuan
bonus and account ÷ 139. Valid for as-of dates in 2011-07-01 … 2018-12-31 on a population from
`jubao population --region ningxia`.

Run: benchmarks/peers/.venv/bin/python benchmarks/peers/reference_loop.py POP.parquet --as-of 2018-12-31 --out OUT.parquet
     benchmarks/peers/.venv/bin/python benchmarks/peers/reference_loop.py POP.parquet --single 200
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import time
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa
import pyarrow.parquet as pq

SCHEME_START = dt.date(2011, 7, 1)
SUBSIDY = {100: 30, 200: 40, 300: 50, 400: 60, 500: 70, 600: 80, 700: 90, 800: 100, 900: 110, 1000: 120, 1500: 160,
           2000: 200}
RATES = [(dt.date(2015, 10, 24), Decimal("0.015")), (dt.date(2014, 11, 22), Decimal("0.0275")),
         (dt.date(2012, 7, 6), Decimal("0.03")), (dt.date(2011, 7, 7), Decimal("0.035")),
         (dt.date(2010, 12, 26), Decimal("0.0275")), (dt.date(1900, 1, 1), Decimal("0.0225"))]
CENTRAL = [(dt.date(2018, 1, 1), 88), (dt.date(2014, 7, 1), 70), (dt.date(2009, 9, 1), 55)]
NINGXIA = [(dt.date(2014, 7, 1), 20), (dt.date(2011, 7, 1), 15)]
FEN = Decimal("0.01")


def in_force(table, day: dt.date):
    return next((v for start, v in table if start <= day), 0)


def anniversary(birth: dt.date, years: int) -> dt.date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def age_on(birth: dt.date, day: dt.date) -> int:
    years = day.year - birth.year
    return years if anniversary(birth, years) <= day else years - 1


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)



def person(row: dict, as_of: dt.date, rates=RATES) -> tuple[str, str]:
    birth = dt.date.fromisoformat(row["birth_date"])
    groups = {g["id"]: dt.date.fromisoformat(g["from"]) for g in row.get("groups") or []}
    sixtieth = anniversary(birth, 60)
    t60 = next_month(sixtieth)
    aged = age_on(birth, SCHEME_START) >= 60
    required = 0 if aged else min(15, sixtieth.year - SCHEME_START.year)
    credits = []  # (date, credited)
    for c in row.get("contributions") or []:
        day, tier = dt.date.fromisoformat(c["date"]), int(Decimal(c["tier"]))
        reward = 20 if {"only_child_family", "two_daughter_family"} & {g for g, s in groups.items() if s <= day} else 0
        credits.append((day, Decimal(tier + SUBSIDY[tier] + reward)))  # personal + 代缴 = tier
    credits.sort()
    candidates = []
    if aged:
        candidates.append(max(SCHEME_START.replace(day=1), t60))
    else:
        paid = [d for d, _ in credits if d <= as_of]
        if required == 0:
            candidates.append(t60)
        elif len(paid) >= required:
            met = paid[required - 1]
            candidates.append(t60 if met < t60 else next_month(met))
    if "poverty_registered" in groups:
        day = max(dt.date(2018, 11, 1), t60, groups["poverty_registered"] if groups["poverty_registered"].day == 1
                  else next_month(groups["poverty_registered"]))
        if day <= as_of:
            candidates.append(day)
    start = min(candidates) if candidates else None
    receiving = start is not None and start <= as_of
    counted = sum(1 for d, _ in credits if d <= as_of)
    counted = min(counted, 15) if required < 15 else counted

    def balance_on(day: dt.date) -> Decimal:
        balance = Decimal(0)
        if not credits:
            return balance
        for year in range(credits[0][0].year, day.year + 1):
            opening = balance
            balance += sum((v for d, v in credits if d.year == year and d <= day), Decimal(0))
            if year < day.year:
                balance += (opening * in_force(rates, dt.date(year, 12, 31))).quantize(FEN, ROUND_HALF_UP)
        return balance

    if receiving:
        at_start = balance_on(start)
        account_pension = (at_start / 139).quantize(FEN, ROUND_HALF_UP)
        months = (as_of.year - start.year) * 12 + as_of.month - start.month + 1
        balance = max(at_start - account_pension * months, Decimal(0))
        total = in_force(CENTRAL, as_of) + in_force(NINGXIA, as_of) + 2 * max(counted - 15, 0) + account_pension
    else:
        balance, total = balance_on(as_of), Decimal(0)
    return f"{Decimal(total):.2f}", f"{balance:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("population")
    parser.add_argument("--as-of", default="2018-12-31")
    parser.add_argument("--out")
    parser.add_argument("--no-interest", action="store_true", help="credit no interest (account = sum of credits)")
    parser.add_argument("--single", type=int, default=0, help="time one person this many times")
    parser.add_argument("--person", help="id of the person for --single (default: the first row)")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    if not dt.date(2011, 7, 1) <= as_of <= dt.date(2018, 12, 31):
        raise SystemExit("this peer encodes Ningxia's 2011 rules only: --as-of must lie in 2011-07-01 … 2018-12-31")
    rates = [(RATES[-1][0], Decimal(0))] if args.no_interest else RATES
    started = time.perf_counter()
    if args.single:
        rows = pq.read_table(args.population).to_pylist()
        row = next(r for r in rows if r["id"] == args.person) if args.person else rows[0]
        times = []
        for _ in range(args.single):
            t = time.perf_counter()
            person(row, as_of, rates)
            times.append(time.perf_counter() - t)
        print(json.dumps({"peer": "decimal-loop", "person": row["id"], "runs": args.single,
                          "single": {"median_ms_trace_false": round(statistics.median(times) * 1000, 3)},
                          "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
        return
    if not args.out:
        parser.error("--out is required unless --single")
    ids, totals, balances = [], [], []
    evaluating = 0.0
    for batch in pq.ParquetFile(args.population).iter_batches(batch_size=50_000):
        rows = batch.to_pylist()
        t = time.perf_counter()
        for row in rows:
            total, balance = person(row, as_of, rates)
            ids.append(row["id"])
            totals.append(total)
            balances.append(balance)
        evaluating += time.perf_counter() - t
    pq.write_table(pa.table({"person_id": ids, "monthly_pension_total": totals, "account_balance": balances}), args.out)
    seconds = time.perf_counter() - started
    print(json.dumps({"peer": "decimal-loop", "persons": len(ids), "seconds_eval": round(evaluating, 3),
                      "seconds_total": round(seconds, 3), "persons_per_s": round(len(ids) / seconds),
                      "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
