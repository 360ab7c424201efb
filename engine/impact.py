"""What a proposed policy change would do: a population evaluated under two policy versions.

Counts of winners and losers, the change in spending by funding level, the distribution of changes
by age band and by tier, and the largest changes with the rules that caused them.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import attrs

from engine import dates
from engine.batch import read_rows
from engine.errors import InvalidInput, UnknownRegion
from engine.decision import Decision
from engine.evaluate import evaluate
from engine.person import read_as_of, read_person
from engine.registry import Registry
from engine.render import component_json
from engine.trace import Step

AGE_BANDS = ((0, 59, "<60"), (60, 64, "60–64"), (65, 69, "65–69"), (70, 74, "70–74"), (75, 79, "75–79"),
             (80, 200, "80+"))
ZERO = Decimal(0)


@attrs.define
class Change:
    row: int
    person: dict
    person_id: str | None
    before: Decimal
    after: Decimal
    levels: dict
    age_band: str
    tier: str
    causes: list = attrs.field(factory=list)

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@attrs.define
class Impact:
    region: str
    as_of: str
    persons: int = 0
    errors: int = 0
    gain: int = 0
    lose: int = 0
    same: int = 0
    monthly_by_level: dict = attrs.field(factory=lambda: defaultdict(Decimal))
    by_age: dict = attrs.field(factory=lambda: defaultdict(lambda: [0, ZERO]))
    by_tier: dict = attrs.field(factory=lambda: defaultdict(lambda: [0, ZERO]))
    largest: list = attrs.field(factory=list)

    @property
    def monthly_total(self) -> Decimal:
        return sum(self.monthly_by_level.values(), ZERO)


def _levels(decision: Decision) -> dict:
    out: dict = defaultdict(Decimal)
    for c in decision.monthly_pension.components:
        by_level = component_json(c).get("by_level") or {}
        if by_level:
            for level, amount in by_level.items():
                out[level] += Decimal(amount)
        elif c.amount.total:
            out["account" if c.id == "account_pension" else "unassigned"] += c.amount.total
    return out


def _age_band(person: dict, as_of: dt.date) -> str:
    try:
        age = dates.age_on(dt.date.fromisoformat(person["birth_date"]), as_of)
    except (KeyError, TypeError, ValueError):
        return "?"
    return next(label for lo, hi, label in AGE_BANDS if lo <= age <= hi)


def _tier(person: dict) -> str:
    records = [c for c in person.get("contributions") or [] if isinstance(c, dict) and "tier" in c]
    if not records:
        return "none"
    latest = max(records, key=lambda c: c.get("year") or 0)
    return f"{Decimal(str(latest['tier'])):.0f}"


def compare(base: Registry, proposal: Registry, region: str, as_of_text: str, source: Path,
            top: int = 10) -> Impact:
    for registry in (base, proposal):
        if region not in registry.sources:
            raise UnknownRegion(region, registry.regions)
    as_of = read_as_of(as_of_text)
    before_policy, after_policy = base.policy(region), proposal.policy(region)
    impact = Impact(region, as_of_text)
    changes: list[Change] = []
    for number, person in read_rows(source):
        impact.persons += 1
        try:
            if isinstance(person, InvalidInput):
                raise person
            before = evaluate(before_policy, read_person(before_policy, person, as_of), as_of)
            after = evaluate(after_policy, read_person(after_policy, person, as_of), as_of)
        except InvalidInput:
            impact.errors += 1
            continue
        b, a = before.monthly_pension.total, after.monthly_pension.total
        lb, la = _levels(before), _levels(after)
        levels = {k: la.get(k, ZERO) - lb.get(k, ZERO) for k in set(la) | set(lb)}
        change = Change(number, person, after.person_id, b, a, levels, _age_band(person, as_of), _tier(person))
        for level, delta in levels.items():
            impact.monthly_by_level[level] += delta
        if a > b:
            impact.gain += 1
        elif a < b:
            impact.lose += 1
        else:
            impact.same += 1
        for table, key in ((impact.by_age, change.age_band), (impact.by_tier, change.tier)):
            table[key][0] += 1
            table[key][1] += change.delta
        if change.delta:
            changes.append(change)
            changes.sort(key=lambda c: abs(c.delta), reverse=True)
            del changes[top:]
    for change in changes:
        change.causes = _causes(before_policy, after_policy, change.person, as_of)
    impact.largest = changes
    return impact


def _causes(before_policy, after_policy, person: dict, as_of: dt.date) -> list[str]:
    """The figures that differ between the two explanations: label, old → new, and the policy line."""
    trees = [evaluate(p, read_person(p, person, as_of), as_of, explain=True).explanation
             for p in (before_policy, after_policy)]
    old = dict(_leaves(trees[0]))
    causes = []
    for key, step in _leaves(trees[1]):
        previous = old.get(key)
        if previous is not None and previous.value != step.value and not step.children:
            where = f"{step.span.file}:{step.span.line}" if step.span else ""
            causes.append(f"{step.label} {previous.value} → {step.value} ({where})")
    return causes[:3]


def _leaves(step: Step, path: str = ""):
    here = f"{path}/{step.id}"
    yield here, step
    for child in step.children:
        yield from _leaves(child, here)


def write_report(impact: Impact, folder: Path) -> Path:
    """report.md plus SVG charts (matplotlib) in `folder`; returns the report path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    charts = []
    for name, table, title in (("by_age", impact.by_age, "Monthly change by age band (yuan)"),
                               ("by_tier", impact.by_tier, "Monthly change by latest tier (yuan)")):
        keys = sorted(table, key=_sort_key)
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.bar(keys, [float(table[k][1]) for k in keys], color="#0b5cad")
        ax.set_title(title)
        ax.axhline(0, color="#444", linewidth=0.8)
        fig.tight_layout()
        fig.savefig(folder / f"{name}.svg")
        plt.close(fig)
        charts.append(f"{name}.svg")
    lines = [
        f"# Impact: {impact.region}, as of {impact.as_of}", "",
        f"- persons: {impact.persons} (errors: {impact.errors})",
        f"- gain: {impact.gain}, lose: {impact.lose}, same: {impact.same}",
        f"- change in monthly spending: {impact.monthly_total:.2f} yuan; annual: {impact.monthly_total * 12:.2f} yuan",
        "", "| funding level | monthly change | annual change |", "|---|---:|---:|",
        *[f"| {level} | {amount:.2f} | {amount * 12:.2f} |" for level, amount in sorted(impact.monthly_by_level.items())
          if amount],
        "", "## By age band", "", "| age | persons | monthly change |", "|---|---:|---:|",
        *[f"| {k} | {impact.by_age[k][0]} | {impact.by_age[k][1]:.2f} |" for k in sorted(impact.by_age, key=_sort_key)],
        "", "![by age](by_age.svg)", "", "## By latest tier", "", "| tier | persons | monthly change |",
        "|---|---:|---:|",
        *[f"| {k} | {impact.by_tier[k][0]} | {impact.by_tier[k][1]:.2f} |"
          for k in sorted(impact.by_tier, key=_sort_key)],
        "", "![by tier](by_tier.svg)", "", "## Largest changes", "",
        "| row | person | before | after | change | because |", "|---:|---|---:|---:|---:|---|",
        *[f"| {c.row} | {c.person_id or ''} | {c.before:.2f} | {c.after:.2f} | {c.delta:+.2f} | "
          f"{'; '.join(c.causes)} |" for c in impact.largest],
    ]
    report = folder / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def _sort_key(key: str):
    """'<60' first, then bands and tiers by their first number, then words ('none', '?')."""
    first = re.search(r"[0-9]+", key)
    return (0, 0) if key.startswith("<") else (1, int(first.group())) if first else (2, 0)
