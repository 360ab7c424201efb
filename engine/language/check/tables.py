"""The checks across versions and rows: periods that overlap or leave gaps, raises, table rows and ranges, floors."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.language import model
from engine.language.check.checker import DAY, Checker


def check_periods(c: Checker) -> None:
    """Versions of one definition (for the same persons) neither overlap nor leave gaps.

    A sweep in date order (n log n: a value may have thousands of versions); each version that starts while
    an earlier one is still in force is reported once, naming the earlier one that ends last.
    """
    for layers in c.definitions.values():
        for d in layers:
            versions = [v for v in d.versions if v.start]
            conditions = {v.condition for v in versions}
            for condition in conditions if conditions != {None} else {None}:
                # the persons a condition covers also see the versions for everyone (no condition)
                group = sorted((v for v in versions if v.condition in (condition, None)),
                               key=lambda v: (v.start, id(v)))
                if condition is not None and not any(v.condition == condition for v in group):
                    continue
                _sweep(c, d, group, report_both_unconditioned=condition is None or len(conditions) == 1)
            same = {}
            for v in versions:
                same.setdefault(v.condition, []).append(v)
            same = {}
            for v in versions:
                same.setdefault(v.condition, []).append(v)
            for group in same.values():
                group.sort(key=lambda v: v.start)
                for a, b in zip(group, group[1:]):
                    if a.end is not None and a.end + DAY < b.start:
                        c.error("gapped-periods", "gap", b.span, "gap.hint", a=d.name, b=a.end + DAY,
                                c=b.start - DAY)


def _sweep(c: Checker, d: model.Definition, group: list, report_both_unconditioned: bool) -> None:
    latest = None  # the earlier version still in force that ends last
    for b in group:
        if latest is not None and (report_both_unconditioned or b.condition is not None or
                                   latest.condition is not None):
            if latest.start == b.start:
                c.error("overlapping-periods", "same-start", b.span, "same-start.hint", a=d.name, b=b.start)
            elif latest.end is None or latest.end >= b.start:
                c.error("overlapping-periods", "overlap", b.span, "overlap.hint", a=d.name, b=b.start,
                        c=latest.start, d=latest.end, e=b.start - DAY)
        if latest is None or b.end is None or (latest.end is not None and b.end >= latest.end) or \
                (latest.end is not None and latest.end < b.start):
            latest = b


def check_raises(c: Checker) -> None:
    """A raise happens on a date (no `always`) and goes by the age on that date (`by age`) or is one figure."""
    for layers in c.definitions.values():
        for d in layers:
            if d.kind != "raise":
                continue
            if d.basis not in (None, "age"):
                c.error("type-mismatch", "raise-basis", d.span, "raise-basis.hint", a=d.basis)
            if d.beyond is not None:
                c.error("type-mismatch", "raise-per-year", d.span, "raise-per-year.hint")
            for v in d.versions:
                if v.start is None:
                    c.error("bad-period", "raise-always", v.span, "raise-always.hint")


def check_tables(c: Checker) -> None:
    """Tier tables: no duplicate tier, subsidies never fall as tiers rise; bands neither overlap nor gap."""
    for layers in c.definitions.values():
        for d in layers:
            for v in d.versions:
                if d.kind in ("tiers", "subsidy"):
                    _check_tier_rows(c, d, v)
                elif v.rows and isinstance(v.rows[0], model.BandRow):
                    _check_bands(c, d, v)


def _check_range(c: Checker, d: model.Definition, v: model.Version) -> None:
    """A range table: every row a band `N+`, the first at the range's lowest amount, none beyond its highest;
    a table of exact tiers has no bands (a subsidy table may be banded on its own)."""
    span = v.rows[0].span if v.rows else v.span
    if isinstance(v.figure, model.AmountRange):
        r = v.figure
        for row in v.rows:
            if not row.band:
                c.error("bad-range", "range-exact-tier", row.span, "range-exact-tier.hint", a=row.tier)
            elif not r.admits(row.tier):
                c.error("bad-range", "band-outside-range", row.span, "band-outside-range.hint", a=row.tier,
                        b=r.text())
        lows = sorted(row.tier for row in v.rows if row.band)
        if lows and lows[0] != r.low:
            c.error("gapped-bands", "range-first-band", span, "range-first-band.hint", a=r.low, b=lows[0])
    elif d.kind == "tiers" and any(row.band for row in v.rows) and not any(
            x.code == "bad-range" and x.span.file == v.span.file and x.span.line == v.span.line for x in c.diagnostics):
        c.error("bad-range", "bands-without-range", v.span, "bands-without-range.hint")
    elif len({row.band for row in v.rows}) > 1:
        c.error("bad-range", "mixed-bands", span, "mixed-bands.hint")


def _check_tier_rows(c: Checker, d: model.Definition, v: model.Version) -> None:
    _check_range(c, d, v)
    seen = {}
    previous = None
    for row in sorted(v.rows, key=lambda r: r.tier):
        if row.tier in seen:
            c.error("duplicate-tier", "tier-twice", row.span, "tier-twice.hint", a=row.tier, b=d.name,
                    c=seen[row.tier].span.line)
            continue
        seen[row.tier] = row
        total = sum((a for _, a in row.subsidy), Decimal(0))
        if previous is not None and total < previous[1]:
            c.error("falling-subsidy", "subsidy-falls", row.span, "subsidy-falls.hint", a=row.tier, b=total,
                    c=previous[0], d=previous[1])
        previous = (row.tier, total)


def _check_bands(c: Checker, d: model.Definition, v: model.Version) -> None:
    rows = sorted(v.rows, key=lambda r: r.low)
    for a, b in zip(rows, rows[1:]):
        if a.high is None or a.high >= b.low:
            c.error("overlapping-bands", "bands-overlap", b.span, "bands-overlap.hint", a=b.low, b=a.low,
                    c=b.low - 1)
        elif a.high + 1 < b.low:
            gap = f"{a.high + 1}" if a.high + 1 == b.low - 1 else f"{a.high + 1} to {b.low - 1}"
            c.error("gapped-bands", "band-gap", b.span, "band-gap.hint", a=gap, b=a.high + 1)


def check_floors(c: Checker) -> None:
    """Every tier table version pays at least the subsidy floors in force during its period."""
    floors = [v for name, layers in c.definitions.items() for d in layers if d.kind == "floor" for v in d.versions]
    for layers in c.definitions.values():
        for d in layers:
            if d.kind != "tiers":
                continue
            for v in d.versions:
                for f in floors:
                    if not _overlaps(v, f):
                        continue
                    for row in v.rows:
                        local = sum((a for l, a in row.subsidy if l != "central"), Decimal(0))
                        for amount in _amounts_to_check(v, row, f.rows):
                            floor = next((b.amount for b in f.rows if b.contains(amount)), None)
                            if floor is not None and local < floor:
                                c.error("below-floor", "below-floor", row.span, "below-floor.hint", a=amount,
                                        b=local, c=floor, d=f.start, e=f.span)
                                break


def _amounts_to_check(v: model.Version, row: model.TierRow, floor_rows) -> list[Decimal]:
    """A tier itself; for a band, its lowest amount and every amount in it where a floor band starts."""
    if not row.band or not isinstance(v.figure, model.AmountRange):
        return [row.tier]
    above = [r.tier for r in v.rows if r.tier > row.tier]
    top = min(above) if above else v.figure.high + Decimal("0.01")
    return [row.tier] + [b.low for b in floor_rows if row.tier < b.low < top]


def _overlaps(a: model.Version, b: model.Version) -> bool:
    a0, a1 = a.start or dt.date.min, a.end or dt.date.max
    b0, b1 = b.start or dt.date.min, b.end or dt.date.max
    return a0 <= b1 and b0 <= a1
