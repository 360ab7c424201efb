"""Synthetic populations for batch runs and impact studies, shaped only by the region's own policy.

Tiers are drawn from the tiers open to each person on each payment date, weighted towards the low
tiers so that the average contribution approaches a target (e.g. 338 yuan, seed 000's Anhui figure).
"""
from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from typing import Iterator

from engine import dates
from engine.model import AmountRange, KeyedRow, Policy

GROUP_SHARES = {"dibao": 0.04, "severe_disability": 0.02, "poverty_registered": 0.05, "only_child_family": 0.03}


def generate(policy: Policy, size: int, seed: int, as_of: dt.date, mean_contribution: Decimal = Decimal(338),
             receiving_share: float = 0.27) -> Iterator[dict]:
    rng = random.Random(seed)
    for i in range(size):
        yield _person(policy, rng, i, as_of, float(mean_contribution), receiving_share)


def _person(policy: Policy, rng: random.Random, i: int, as_of: dt.date, mean: float, receiving_share: float) -> dict:
    age = rng.randint(60, 92) if rng.random() < receiving_share else rng.randint(17, 59)
    birth = dt.date(as_of.year - age - 1, rng.randint(1, 12), rng.randint(1, 28))
    person: dict = {"id": f"{policy.region}-{seed_tag(i)}", "birth_date": birth.isoformat(),
                    "hukou": {"type": "rural" if rng.random() < 0.8 else "urban"}}
    start = _scheme_start(policy, rng, person)
    groups = [{"id": g, "from": start.isoformat()} for g, share in GROUP_SHARES.items()
              if g in policy.groups and rng.random() < share]
    person["groups"] = groups
    first = max(start.year, dates.anniversary(birth, 16).year + 1)
    last = min(as_of.year - 1, dates.anniversary(birth, 60).year - 1)
    records = []
    for year in range(first, last + 1):
        if rng.random() < 0.15:
            continue
        day = max(dt.date(year, rng.randint(3, 6), rng.randint(1, 28)), start)
        tiers = _open_tiers(policy, person, day)
        if tiers:
            records.append({"year": year, "tier": f"{_pick(rng, tiers, mean):.2f}", "kind": "regular",
                            "date": day.isoformat()})
    person["contributions"] = records
    return person


def seed_tag(i: int) -> str:
    return f"{i:08d}"


def _scheme_start(policy: Policy, rng: random.Random, person: dict) -> dt.date:
    versions = policy.all_versions("scheme_start")
    layer = policy.layer_of(versions[0]) if versions else None
    if layer and layer.keys and versions[0].rows:
        row: KeyedRow = rng.choice(versions[0].rows)
        key = layer.keys[0].split(".", 1)[1]
        person.setdefault("hukou", {})[key] = row.key
        column = person.get("hukou", {}).get(layer.keys[1].split(".", 1)[1]) if len(layer.keys) > 1 else None
        return next((f for c, f in row.values if c == column), min(f for _, f in row.values))
    return versions[0].figure if versions else dt.date(2009, 9, 1)


def _open_tiers(policy: Policy, person: dict, day: dt.date) -> list[Decimal]:
    for version in policy.versions_at("contribution_tiers", day):
        if version.condition and person.get("hukou", {}).get(version.condition[0].split(".", 1)[1]) != \
                version.condition[1]:
            continue
        lows = sorted(r.tier for r in version.rows if not r.only_daijiao and not r.only_groups)
        if isinstance(version.figure, AmountRange) and lows:  # free amounts: each band's lowest, a middle, the top
            r = version.figure
            edges = lows + [r.high + r.step]
            middles = [low + ((high - low) / 2 // r.step) * r.step for low, high in zip(edges, edges[1:])]
            return sorted(set(lows + middles + [r.high]))
        return lows
    return []


def _pick(rng: random.Random, tiers: list[Decimal], mean: float) -> Decimal:
    """Weights ∝ exp(−tier/λ), λ solved so the expected tier is near `mean` (clamped to the table)."""
    values = [float(t) for t in tiers]
    target = min(max(mean, values[0]), values[-1])

    def expected(lam: float) -> float:
        weights = [math.exp(-(v - values[0]) / lam) for v in values]
        return sum(w * v for w, v in zip(weights, values)) / sum(weights)

    lo, hi = 1e-3, 1e6
    for _ in range(50):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if expected(mid) < target else (lo, mid)
    weights = [math.exp(-(v - values[0]) / hi) for v in values]
    return rng.choices(tiers, weights)[0]
