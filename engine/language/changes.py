"""What changed between two versions of a region's policy, in rule terms an officer reads.

"<label> from 2027-01-01: added 110.00", "缴费档次 from 2019-01-01: tier 500 subsidy 80.00 → subsidy 90.00",
"<label> from 2020-01-01: until open → 2026-12-31". Compares the region's own layer of both models,
version by version (a version is identified by its definition, start date and condition).
"""
from __future__ import annotations

from decimal import Decimal

from engine.language.model import BandRow, GroupRow, KeyedRow, Policy, TierRow, Version


def rule_changes(old: Policy, new: Policy, lang: str = "zh") -> list[str]:
    out = []
    names = sorted(set(_own(old)) | set(_own(new)))
    for name in names:
        before, after = _own(old).get(name, {}), _own(new).get(name, {})
        label = (new.definition(name) or old.definition(name)).label(lang)
        for key in sorted(set(before) | set(after), key=lambda k: (str(k[0]), str(k[1]))):
            where = f"{label} from {key[0] or '—'}" + (f" ({key[1][0]} = {key[1][1]})" if key[1] else "")
            a, b = before.get(key), after.get(key)
            if a is None:
                out.append(f"{where}: added {_figure(b)}")
            elif b is None:
                out.append(f"{where}: removed {_figure(a)}")
            else:
                out.extend(f"{where}: {change}" for change in _version_changes(a, b))
    for name in sorted(set(old.formulas) | set(new.formulas)):
        a, b = old.formulas.get(name), new.formulas.get(name)
        if a is None or b is None or a.region != old.region and b.region != new.region:
            if (a is None) != (b is None):
                out.append(f"{(b or a).label(lang)}: {'added' if a is None else 'removed'} component")
            continue
        if (a.expr, a.when, a.start, a.end, a.paid_by) != (b.expr, b.when, b.start, b.end, b.paid_by):
            out.append(f"{b.label(lang)}: formula changed")
    return out


def _own(policy: Policy) -> dict[str, dict]:
    """name → {(start, condition): version} for the definitions of the region's own layer."""
    out: dict[str, dict] = {}
    for name, layers in policy.definitions.items():
        for layer in layers:
            if layer.region == policy.region:
                out[name] = {(v.start, v.condition): v for v in layer.versions}
    return out


def _version_changes(a: Version, b: Version) -> list[str]:
    changes = []
    if a.end != b.end:
        changes.append(f"until {a.end or 'open'} → {b.end or 'open'}")
    if a.figure != b.figure:
        changes.append(f"{_figure(a)} → {_figure(b)}")
    if a.cite.status != b.cite.status or a.cite.source.name != b.cite.source.name:
        changes.append(f"citation {a.cite.source.name} ({a.cite.status}) → {b.cite.source.name} ({b.cite.status})")
    rows_a, rows_b = {_row_key(r): r for r in a.rows}, {_row_key(r): r for r in b.rows}
    for key in sorted(set(rows_a) | set(rows_b), key=str):
        ra, rb = rows_a.get(key), rows_b.get(key)
        if ra is None:
            changes.append(f"{key} added ({_row_value(rb)})")
        elif rb is None:
            changes.append(f"{key} removed (was {_row_value(ra)})")
        elif _row_value(ra) != _row_value(rb):
            changes.append(f"{key} {_row_value(ra)} → {_row_value(rb)}")
    return changes


def _row_key(row) -> str:
    if isinstance(row, TierRow):
        return f"tier {row.tier}"
    if isinstance(row, GroupRow):
        return f"group {row.group}" + (f"/{row.position}" if row.position else "")
    if isinstance(row, BandRow):
        return f"band {row.low}" + (f"–{row.high}" if row.high is not None else "+")
    if isinstance(row, KeyedRow):
        return f"row {row.key}"
    return str(row)


def _row_value(row) -> str:
    if isinstance(row, TierRow):
        total = sum((a for _, a in row.subsidy), Decimal(0))
        return f"subsidy {total:.2f}" + (" (代缴 only)" if row.only_daijiao else "") + \
            (f" (only {', '.join(row.only_groups)})" if row.only_groups else "")
    if isinstance(row, GroupRow):
        return "lowest tier" if row.amount is None else f"{row.amount:.2f}"
    if isinstance(row, BandRow):
        return f"{row.amount:.2f}"
    if isinstance(row, KeyedRow):
        return ", ".join(f"{c} {v}" for c, v in row.values)
    return str(row)


def _figure(version: Version) -> str:
    f = version.figure
    if isinstance(f, Decimal):
        return f"{f:.2f}" if f == f.quantize(Decimal("0.01")) else f"{f}"
    if f is None:
        return f"table of {len(version.rows)} rows" if version.rows else "—"
    return str(f)
