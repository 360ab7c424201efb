"""What changed between two versions of a region's policy, in rule terms an officer reads, Chinese by default.

"地方基础养老金 2027-01-01 起：新增 110.00", "缴费档次 2019-01-01 起：档次 500 补贴 80.00 → 补贴 90.00",
"地方基础养老金 2020-01-01 起：止日 未定 → 2026-12-31" (English with lang="en": "… from 2027-01-01: added 110.00").
Compares the region's own layer of both models, version by version (a version is identified by its definition,
start date and condition).
"""
from __future__ import annotations

from decimal import Decimal

from engine.language.catalogue import say
from engine.language.model import STATUS_LABELS, BandRow, GroupRow, KeyedRow, Policy, TierRow, Version
from engine.language.text import Text


def rule_changes(old: Policy, new: Policy, lang: str = "zh") -> list[str]:
    words = _Words(new, old, lang)
    out = []
    names = sorted(set(_own(old)) | set(_own(new)))
    for name in names:
        before, after = _own(old).get(name, {}), _own(new).get(name, {})
        label = (new.definition(name) or old.definition(name)).label(lang)
        for key in sorted(set(before) | set(after), key=lambda k: (str(k[0]), str(k[1]))):
            where = words.say("change.where", label=label, start=key[0] or "—") + (
                words.say("change.condition", fact=words.fact(key[1][0]), value=words.choice(*key[1]))
                if key[1] else "")
            a, b = before.get(key), after.get(key)
            if a is None:
                out.append(words.say("change.added", where=where, figure=words.figure(b)))
            elif b is None:
                out.append(words.say("change.removed", where=where, figure=words.figure(a)))
            else:
                colon = ": " if lang == "en" else "："
                out.extend(f"{where}{colon}{change}" for change in _version_changes(a, b, words))
    for name in sorted(set(old.formulas) | set(new.formulas)):
        a, b = old.formulas.get(name), new.formulas.get(name)
        if a is None or b is None or a.region != old.region and b.region != new.region:
            if (a is None) != (b is None):
                out.append(words.say("change.component-added" if a is None else "change.component-removed",
                                     label=(b or a).label(lang)))
            continue
        if (a.expr, a.when, a.start, a.end, a.paid_by) != (b.expr, b.when, b.start, b.end, b.paid_by):
            out.append(words.say("change.formula", label=b.label(lang)))
    return out


class _Words:
    """The catalogue's texts in one language, with the policies' own labels for facts, choices and groups."""

    def __init__(self, new: Policy, old: Policy, lang: str):
        self.new, self.old, self.lang = new, old, lang

    def say(self, name: str, /, **args) -> str:
        return say(name, **args).in_lang(self.lang)

    def fact(self, name: str) -> str:
        found = self.new.facts.get(name) or self.old.facts.get(name)
        return (found.labels.zh or name) if found is not None and self.lang != "en" else name

    def choice(self, fact: str, value: str) -> str:
        found = self.new.facts.get(fact) or self.old.facts.get(fact)
        return (dict(found.choices).get(value) or value) if found is not None and self.lang != "en" else value

    def group(self, group: str, position: str | None) -> str:
        policy = self.new if group in self.new.groups else self.old
        shown = policy.group_label(group, self.lang)
        if position:
            labels = dict(policy.groups[group].choice_labels) if group in policy.groups else {}
            shown += "/" + (labels.get(position) or position if self.lang != "en" else position)
        return shown

    def figure(self, version: Version) -> str:
        f = version.figure
        if isinstance(f, Decimal):
            return f"{f:.2f}" if f == f.quantize(Decimal("0.01")) else f"{f}"
        if f is None:
            return self.say("change.table", rows=len(version.rows)) if version.rows else "—"
        if isinstance(f, bool):
            return ("是" if f else "否") if self.lang != "en" else ("yes" if f else "no")
        return str(f)

    def status(self, status: str) -> str:
        return STATUS_LABELS.get(status, status) if self.lang != "en" else status


def _own(policy: Policy) -> dict[str, dict]:
    """name → {(start, condition): version} for the definitions of the region's own layer."""
    out: dict[str, dict] = {}
    for name, layers in policy.definitions.items():
        for layer in layers:
            if layer.region == policy.region:
                out[name] = {(v.start, v.condition): v for v in layer.versions}
    return out


def _version_changes(a: Version, b: Version, words: _Words) -> list[str]:
    changes = []
    if a.end != b.end:
        open_ = words.say("change.open")
        changes.append(words.say("change.until", before=a.end or open_, after=b.end or open_))
    if a.figure != b.figure:
        changes.append(f"{words.figure(a)} → {words.figure(b)}")
    if a.cite.status != b.cite.status or a.cite.source.name != b.cite.source.name:
        changes.append(words.say("change.citation", before=a.cite.source.name, before_status=words.status(
            a.cite.status), after=b.cite.source.name, after_status=words.status(b.cite.status)))
    rows_a, rows_b = {_row_key(r): r for r in a.rows}, {_row_key(r): r for r in b.rows}
    for key in sorted(set(rows_a) | set(rows_b), key=str):
        ra, rb = rows_a.get(key), rows_b.get(key)
        if ra is None:
            changes.append(words.say("change.row-added", row=_row_name(rb, words), value=_row_value(rb, words)))
        elif rb is None:
            changes.append(words.say("change.row-removed", row=_row_name(ra, words), value=_row_value(ra, words)))
        elif ra != rb and _row_value(ra, words) != _row_value(rb, words):
            changes.append(f"{_row_name(ra, words)} {_row_value(ra, words)} → {_row_value(rb, words)}")
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


def _row_name(row, words: _Words) -> str:
    if isinstance(row, TierRow):
        return words.say("change.tier", tier=row.tier)
    if isinstance(row, GroupRow):
        return words.group(row.group, row.position)
    if isinstance(row, BandRow):
        return words.say("change.band", band=f"{row.low}" + (f"–{row.high}" if row.high is not None else "+"))
    if isinstance(row, KeyedRow):
        return words.say("change.row", key=row.key)
    return str(row)


def _row_value(row, words: _Words) -> str:
    if isinstance(row, TierRow):
        total = sum((a for _, a in row.subsidy), Decimal(0))
        only = [words.say("change.only-daijiao")] if row.only_daijiao else []
        groups = Text("、".join(words.group(g, None) for g in row.only_groups), ", ".join(row.only_groups))
        return words.say("change.subsidy", total=f"{total:.2f}") + "".join(only) + (
            words.say("change.only-groups", groups=groups) if row.only_groups else "")
    if isinstance(row, GroupRow):
        return words.say("change.lowest-tier") if row.amount is None else f"{row.amount:.2f}"
    if isinstance(row, BandRow):
        return f"{row.amount:.2f}"
    if isinstance(row, KeyedRow):
        return ", ".join(f"{c} {v}" for c, v in row.values)
    return str(row)
