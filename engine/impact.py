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

from engine import dates, model
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


REPORT_WORDS = {  # the report's words: Chinese for the officers who read it, English with --lang en
    "zh": {"by_age": "按年龄段的月支出变化（元）", "by_tier": "按最近缴费档次的月支出变化（元）", "age": "年龄段",
           "tier": "最近缴费档次（元）", "none": "无缴费", "?": "未知", "title": "政策影响测算：{region}，核定日 {as_of}",
           "persons": "人数：{persons}（出错 {errors}）", "gain": "增加：{gain} 人，减少：{lose} 人，不变：{same} 人",
           "spending": "月支出变化：{monthly} 元；年支出变化：{annual} 元",
           "level_table": "| 出资层级 | 月变化 | 年变化 |", "age_heading": "按年龄段",
           "age_table": "| 年龄段 | 人数 | 月变化 |", "tier_heading": "按最近缴费档次", "tier_table": "| 档次 | 人数 | 月变化 |",
           "largest": "变化最大的十人", "largest_table": "| 行 | 参保人 | 调整前 | 调整后 | 变化 | 原因 |",
           "persons_axis": "人数"},
    "en": {"by_age": "Monthly change by age band (yuan)", "by_tier": "Monthly change by latest tier (yuan)",
           "age": "age band", "tier": "latest tier (yuan)", "none": "none", "?": "?",
           "title": "Impact: {region}, as of {as_of}", "persons": "persons: {persons} (errors: {errors})",
           "gain": "gain: {gain}, lose: {lose}, same: {same}",
           "spending": "change in monthly spending: {monthly} yuan; annual: {annual} yuan",
           "level_table": "| funding level | monthly change | annual change |", "age_heading": "By age band",
           "age_table": "| age | persons | monthly change |", "tier_heading": "By latest tier",
           "tier_table": "| tier | persons | monthly change |", "largest": "Largest changes",
           "largest_table": "| row | person | before | after | change | because |", "persons_axis": "persons"},
}
CJK_FONTS = ["WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "DejaVu Sans"]


def _add_cjk_fonts() -> None:
    """matplotlib's font list is cached when it is first imported: a CJK font installed later (fonts-wqy-microhei)
    is not in it, and Chinese labels would come out as empty boxes. Add the system's CJK fonts when missing."""
    from matplotlib import font_manager

    if {f.name for f in font_manager.fontManager.ttflist} & set(CJK_FONTS[:-1]):
        return
    for path in font_manager.findSystemFonts():
        if re.search(r"wqy|cjk|sourcehan|simhei", path, re.IGNORECASE):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: the next one may do
                continue


def write_report(impact: Impact, folder: Path, lang: str = "zh") -> Path:
    """report.md plus SVG charts (matplotlib) in `folder`, Chinese by default; returns the report path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _add_cjk_fonts()
    words = REPORT_WORDS[lang]
    shown = lambda key: words.get(key, key)  # noqa: E731  ('none' and '?' in the reader's words)
    folder.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": CJK_FONTS,
                                "axes.unicode_minus": False, "svg.fonttype": "none"}):
        for name, table, axis in (("by_age", impact.by_age, "age"), ("by_tier", impact.by_tier, "tier")):
            keys = sorted(table, key=_sort_key)
            fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(keys) + 2), 3.6))
            bars = ax.bar([shown(k) for k in keys], [float(table[k][1]) for k in keys], color="#0b5cad")
            ax.bar_label(bars, labels=[f"{table[k][1]:.0f}" for k in keys], fontsize=8, padding=2)
            ax.set_title(words[name])
            ax.set_xlabel(words[axis])
            ax.axhline(0, color="#444", linewidth=0.8)
            # tier labels (1000, 1500, 2000, none …) are rotated so that they never run into each other
            ax.tick_params(axis="x", labelrotation=45 if len(keys) > 6 else 0, labelsize=9)
            fig.tight_layout()
            fig.savefig(folder / f"{name}.svg")
            plt.close(fig)
    levels = model.LEVEL_LABELS if lang == "zh" else {}
    lines = [
        "# " + words["title"].format(region=impact.region, as_of=impact.as_of), "",
        "- " + words["persons"].format(persons=impact.persons, errors=impact.errors),
        "- " + words["gain"].format(gain=impact.gain, lose=impact.lose, same=impact.same),
        "- " + words["spending"].format(monthly=f"{impact.monthly_total:.2f}", annual=f"{impact.monthly_total * 12:.2f}"),
        "", words["level_table"], "|---|---:|---:|",
        *[f"| {levels.get(level, level)} | {amount:.2f} | {amount * 12:.2f} |"
          for level, amount in sorted(impact.monthly_by_level.items()) if amount],
        "", "## " + words["age_heading"], "", words["age_table"], "|---|---:|---:|",
        *[f"| {shown(k)} | {impact.by_age[k][0]} | {impact.by_age[k][1]:.2f} |"
          for k in sorted(impact.by_age, key=_sort_key)],
        "", f"![{words['by_age']}](by_age.svg)", "", "## " + words["tier_heading"], "", words["tier_table"],
        "|---|---:|---:|",
        *[f"| {shown(k)} | {impact.by_tier[k][0]} | {impact.by_tier[k][1]:.2f} |"
          for k in sorted(impact.by_tier, key=_sort_key)],
        "", f"![{words['by_tier']}](by_tier.svg)", "", "## " + words["largest"], "",
        words["largest_table"], "|---:|---|---:|---:|---:|---|",
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
