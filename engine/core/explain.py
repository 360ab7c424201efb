"""Recorders: what the evaluation tells about each figure it computes, and who listens.

The scalar back end calls a recorder at every figure with the facts of it (the version and table row
used, the numbers); it never formats anything itself. `NoTrace` listens to nothing and costs a call;
`Trace` builds the explanation (`engine.core.trace.Step` trees: label, value, formula with numbers, policy
line, citation, period, status); `RowsUsed` only notes which policy lines contributed (rule coverage).

The period (`in_force`) of a step: a step that cites a version shows that version's period; any other
step shows the widest interval around the as-of date over which every input looked up *on the as-of
date* keeps its version (the intersection of their periods; open where nothing bounds it). Inputs
looked up on fixed days (a record's date, a year's 31 December, the pension start) do not move with the
as-of date and do not narrow it. Either way `from ≤ to`.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.core.lookup import percent, show
from engine.core.money import Amount, fmt
from engine.core.trace import Step
from engine.language import model
from engine.language.builtins import BUILTIN_WORDS
from engine.language.units import share_text

WORDS = {
    **BUILTIN_WORDS,  # the builtins' own words (engine.language.builtins)
    "monthly_pension": ("月养老金", "monthly pension"),
    "account_balance": ("个人账户余额", "account balance"),
    "required_years": ("应缴费年限", "required years"),
    "pension_start": ("待遇领取起始日", "pension start"),
    "scheme_start": ("参保起始日", "scheme start"),
    "contribution": ("{year} 年缴费", "contribution {year}"),
    "interest": ("{year} 年利息", "interest {year}"),
    "death": ("死亡待遇", "death"),
    "inheritable_balance": ("可继承余额", "inheritable balance"),
    "funeral_grant": ("丧葬补助金", "funeral grant"),
    "opening_balance": ("期初余额", "opening balance"),
    "government_paid": ("政府代缴", "government paid"),
    # the names of the numbers in the mechanics' formula texts
    "pension_age_year": ("年满领取年龄年份", "year reaching pension age"),
    "scheme_start_year": ("参保起始年份", "scheme start year"),
    "age_at_scheme_start": ("参保时年龄", "age at scheme start"),
    "records_counted": ("计入的缴费记录", "records counted"),
    "year_start_balance": ("年初余额", "balance at start of year"),
    "account_pension": ("个人账户养老金", "account pension"),
    "months_paid": ("已领月数", "months paid"),
    "per_year": ("每年 {amount}", "{amount} a year"),
}
OPEN: tuple = (None, None)


def _meet(a: tuple, b: tuple) -> tuple:
    """Intersection of two periods (None = open)."""
    start = a[0] if b[0] is None or (a[0] is not None and a[0] >= b[0]) else b[0]
    end = a[1] if b[1] is None or (a[1] is not None and a[1] <= b[1]) else b[1]
    return start, end


def _as_dict(window: tuple) -> dict:
    return {"from": window[0].isoformat() if window[0] else None, "to": window[1].isoformat() if window[1] else None}


# What the evaluation tells a recorder: one method each (Trace builds a step from it).
CALLS = ("tier_subsidy", "extra_subsidy", "reward", "government_paid", "contribution", "opening_balance", "interest",
         "balance", "empty_balance", "balance_after_start", "builtin", "figure", "rule", "bonus", "raises", "cap",
         "component",
         "component_not_paid", "component_not_in_force", "component_condition", "monthly_pension", "funeral_grant",
         "inheritable", "death", "scheme_start", "required_years", "counted_years", "eligibility", "whole",
         "consulted")


class NoTrace:
    """No explanation: every call (CALLS) returns None at once; nobody keeps what the evaluation tells."""

    active = False

    def __init__(self, policy: model.Policy = None, lang: str = "zh"):
        self.policy, self.lang = policy, lang


def _nothing(self, *args, **kwargs):
    return None


for _call in CALLS:
    setattr(NoTrace, _call, _nothing)


class RowsUsed(NoTrace):
    """Only which policy lines contributed a value: versions, table rows, formulas (file, line)."""

    def __init__(self, policy: model.Policy = None, lang: str = "zh"):
        super().__init__(policy, lang)
        self.lines: set[tuple[str, int]] = set()

    def note(self, *spans) -> None:
        for span in spans:
            if span is not None:
                self.lines.add((span.file, span.line))

    def raises(self, definition, total, applied, start):
        self.note(*(v.span for v, _, amount in applied if amount))

    def tier_subsidy(self, version, row, subsidy, amount=None):
        self.note(version.span, row.span)

    def extra_subsidy(self, name, version, row, extra, amount=None):
        self.note(version.span, row.span)

    def reward(self, name, version, row, amount):
        self.note(version.span, row.span)

    def government_paid(self, version, row, amount, tier, stated=None, levels=()):
        self.note(version.span, row.span if row is not None else None)

    def interest(self, year, version, start_balance, interest):
        self.note(version.span)

    def figure(self, definition, version, value, at_as_of=True):
        self.note(version.span)

    def bonus(self, definition, version, amount, basis, row, beyond=None):
        self.note(version.span, row.span if row is not None else None)

    def rule(self, definition, version, holds):
        self.note(version.span)

    def component_condition(self, formula, text, steps):
        self.note(formula.span)  # a condition that does not hold still decides the component (0.00)

    def scheme_start(self, day, version):
        self.note(version.span if version is not None else None)

    def inheritable(self, rule, value, balance, excluded):
        self.note(rule.span if rule is not None else None)

    def eligibility(self, start, route_version, reasons, children):
        self.note(route_version.span if route_version is not None else None)

    def component(self, formula, value, text, steps):
        self.note(formula.span)

    def funeral_grant(self, version, grant):
        self.note(version.span)

    def consulted(self, version):
        """A line that decided something without a figure in the explanation (the enrolment age, a yes/no rule
        that said no, a grant of 0.00): used, so covered; the explanation (Trace) shows nothing for it."""
        self.note(version.span if version is not None else None)


class Trace(NoTrace):
    """Builds the explanation tree."""

    active = True

    def word(self, key: str, **kw) -> str:
        zh, en = WORDS[key]
        return (en if self.lang == "en" else zh).format(**kw)

    def label(self, name: str) -> str:
        d = self.policy.definition(name)
        return d.label(self.lang) if d else name

    def levels(self, amount: Amount) -> str:
        names = model.LEVEL_LABELS if self.lang == "zh" else {l: l for l in model.LEVELS}
        parts = [f"{names[l]} {fmt(v)}" for l, v in amount.by_level]
        return " + ".join(parts) if parts else fmt(amount.total)

    # ── building blocks ─────────────────────────────────────────────────
    def step(self, id: str, label: str, value: str, formula: str | None = None, version=None, children=(),
             at_as_of: bool = False, span=None, own_window: tuple = OPEN, cite=None) -> Step:
        """A step; `version` gives its source, citation and period; `at_as_of` marks a version looked up on the
        as-of date (it bounds the period of the steps above)."""
        kids = tuple(c for c in children if c is not None) if children else ()
        window = own_window
        if version is not None and at_as_of:
            window = _meet(window, (version.start, version.end))
        for child in kids:
            if child.window is not None and child.window != OPEN:
                window = _meet(window, child.window)
        if version is not None:
            return Step(id, label, value, formula, span or version.span, version.cite, version.in_force, kids, window)
        return Step(id, label, value, formula, span, cite, _as_dict(window) if kids or window != OPEN else None,
                    kids, window)

    # ── contributions ───────────────────────────────────────────────────
    def tier_subsidy(self, version, row, subsidy: Amount, amount: Decimal | None = None) -> Step:
        # The source is the table row used (档次 row, or the band of a range), cited by its table's version.
        return self.step("tier_subsidy", self.label("contribution_tiers"), fmt(subsidy.total),
                         f"{self._tier_text(row, amount)}：{self.levels(subsidy)}", version, span=row.span)

    def _tier_text(self, row, amount: Decimal | None) -> str:
        if not row.band:
            return f"{'档次' if self.lang == 'zh' else 'tier'} {fmt(row.tier)}"
        if self.lang == "zh":
            return f"缴费 {fmt(amount)}，属 {fmt(row.tier)} 元以上一档"
        return f"amount {fmt(amount)}, in the band from {fmt(row.tier)}"

    def extra_subsidy(self, name, version, row, extra: Amount, amount: Decimal | None = None) -> Step:
        return self.step(name, self.label(name), fmt(extra.total),
                         f"{self._tier_text(row, amount)}：{self.levels(extra)}", version, span=row.span)

    def reward(self, name, version, row, amount: Amount) -> Step:
        group = self.policy.group_label(row.group, self.lang)
        return self.step(name, self.label(name), fmt(row.amount), f"{group}: {self.levels(amount)}", version,
                         span=row.span)

    def government_paid(self, version, row, amount: Decimal, tier: Decimal, stated: Decimal | None = None,
                        levels: tuple = ()) -> Step:
        group = self.policy.group_label(row.group, self.lang) if row is not None else ""
        zh = self.lang == "zh"
        stated = amount if stated is None else stated
        shown = fmt(stated)
        if row is not None and row.share is not None:  # a share of the lowest tier
            share = share_text(row.share)
            shown = f"最低档次的 {share} = {fmt(stated)}" if zh else f"{share} of the lowest tier = {fmt(stated)}"
        text = f"min({group}代缴 {shown}, 档次 {fmt(tier)})" if zh else f"min({group} {shown}, tier {fmt(tier)})"
        if levels:
            text += "：" + self.levels(Amount(amount, levels)) if zh else ": " + self.levels(Amount(amount, levels))
        return self.step("government_paid", self.word("government_paid"), fmt(amount), text, version,
                         span=row.span if row is not None else None)

    def contribution(self, record, day: dt.date, personal: Decimal, government_paid: Decimal, subsidy: Amount,
                     table, children) -> Step:
        zh = self.lang == "zh"
        formula = (f"个人 {fmt(personal)} + 代缴 {fmt(government_paid)} + 补贴 "
                   f"{fmt(subsidy.total)} + 集体 {fmt(record.collective)}") if zh else \
            (f"personal {fmt(personal)} + government {fmt(government_paid)} + subsidy "
             f"{fmt(subsidy.total)} + collective {fmt(record.collective)}")
        kind = ("补缴" if zh else "back payment") if record.kind == "back_payment" else ""
        return self.step(f"contribution_{record.year}",
                         self.word("contribution", year=record.year) + (f"（{kind}）" if kind else ""),
                         fmt(personal + government_paid + subsidy.total + record.collective),
                         f"{formula}；{day}" if zh else f"{formula}; {day}",
                         table, children)

    # ── the account ─────────────────────────────────────────────────────
    def opening_balance(self, balance: Decimal, day: dt.date) -> Step:
        return self.step("opening_balance", self.word("opening_balance"), fmt(balance), f"{day}")

    def interest(self, year: int, version, start_balance: Decimal, interest: Decimal) -> Step:
        formula = f"{self.word('year_start_balance')} {fmt(start_balance)} × {self.label(version.name)} " \
                  f"{percent(version.figure)}"
        return self.step(f"interest_{year}", self.word("interest", year=year), fmt(interest), formula, version)

    def balance(self, id: str, balance: Decimal, day: dt.date, rule, children) -> Step:
        formula = ("上年末余额 + 当年记账（利息于 12 月 31 日日终计入）" if self.lang == "zh" else
                   "end-of-last-year balance + this year's credits (interest credited at the end of 31 December)")
        return self.step(id, self.word(id), fmt(balance), f"{formula}；{day}", rule, children)

    def empty_balance(self, id: str, rule) -> Step:
        return self.step(id, self.word(id), "0.00", version=rule)

    def balance_after_start(self, balance, at_start, monthly, months, divisor, at_start_step) -> Step:
        w = self.word
        return self.step("account.balance", w("account_balance"), fmt(balance),
                         f"max(0, {w('balance_at_pension_start')} {fmt(at_start)} − {w('account_pension')} "
                         f"{fmt(monthly)} × {w('months_paid')} {months})", divisor, (at_start_step,))

    # ── formulas ────────────────────────────────────────────────────────
    def raises(self, definition, total: Amount, applied: list, start) -> Step:
        """Each raise applied, with its date and the age on it (a raise before the pension start is not)."""
        zh = self.lang == "zh"
        children = [self.step(definition.name, f"{v.start} " + ("调整" if zh else "raise"), fmt(amount),
                              (f"{v.start} 时年龄 {age}" if zh else f"age {age} on {v.start}") +
                              (f" → +{fmt(amount)}" if amount else ""), version=v) for v, age, amount in applied]
        if applied:
            text = " + ".join(f"{v.start.year} +{fmt(a)}" for v, _, a in applied)
        elif start is None:
            text = "尚未开始领取，无调整" if zh else "no pension start: no raise"
        else:
            text = (f"{start} 起领取，此后尚无调整" if zh else f"pension from {start}: no raise since")
        last = applied[-1][0] if applied else next(iter(self.policy.events(definition.name)), None)
        return self.step(definition.name, definition.label(self.lang), fmt(total.total), text, version=last,
                         children=children, span=definition.span)

    def cap(self, definition, used: int, cap: int, refused: Amount | None) -> Step:
        """An item paid for at most N years: the year it uses, or the cap reached (`refused` is what it would pay)."""
        zh = self.lang == "zh"
        label = definition.label(self.lang)
        if refused is None:
            text = f"第 {used} 年，上限 {cap} 年" if zh else f"year {used} of at most {cap}"
            value = str(used)
        else:
            text = (f"已享受 {used} 年，达到上限 {cap} 年：本年不再享受（原应 {fmt(refused.total)}）" if zh else
                    f"{used} of {cap} subsidised years: none this year (would be {fmt(refused.total)})")
            value = "0.00"
        return self.step(f"{definition.name}_cap", f"{label}{'享受年限' if zh else ' years'}", value, text,
                         span=definition.span, cite=definition.versions[0].cite if definition.versions else None)

    def rule(self, definition, version, holds: bool) -> Step:
        """A yes/no rule of the region that changed the outcome (e.g. back payments earn subsidies)."""
        word = ("是" if holds else "否") if self.lang == "zh" else ("yes" if holds else "no")
        return self.step(definition.name, definition.label(self.lang), word, version=version)

    def builtin(self, name: str, value) -> Step:
        return self.step(name, self.word(name), str(value))

    def figure(self, definition, version, value, at_as_of: bool = True) -> Step:
        return self.step(definition.name, definition.label(self.lang), show(value), version=version,
                         at_as_of=at_as_of)

    def bonus(self, definition, version, amount: Amount, basis, row, beyond=None) -> Step:
        # the basis is the layer's (a region may change `per` into `by`): named when the scheme names it
        basis_name = (self.policy.layer_of(version) or definition).basis
        word = self.word(basis_name) if basis_name in WORDS else basis_name
        if beyond is not None:  # `beyond N` is written in the policy: N stays a plain number
            formula = f"{self.word('per_year', amount=fmt(version.figure))} × max(0, {word} {basis} − {beyond})"
        else:
            formula = f"{word} {basis} → {fmt(amount.total)}"
        return self.step(definition.name, definition.label(self.lang), fmt(amount.total), formula, version,
                         at_as_of=True, span=row.span if row is not None else None)

    def component(self, formula, value: Amount, text: str, steps) -> Step:
        return self.step(formula.name, formula.label(self.lang), fmt(value.total), text, children=steps,
                         span=formula.span, own_window=(formula.start, formula.end), cite=formula.cite)

    def component_not_paid(self, formula) -> Step:
        when = {"receiving": ("未领取", "paid only while receiving"),
                "contributing": ("只在缴费期间发放", "paid only while contributing"),
                "not_eligible": ("只发给未符合领取条件者", "paid only to those not eligible for the pension")}
        zh, en = when.get(formula.paid_while, ("未领取", "not paid in this status"))
        return Step(formula.name, formula.label(self.lang), "0.00", zh if self.lang == "zh" else en, formula.span,
                    formula.cite)

    def component_not_in_force(self, formula, as_of: dt.date) -> Step:
        return Step(formula.name, formula.label(self.lang), "0.00",
                    f"{as_of} 不在施行期内" if self.lang == "zh" else f"not in force on {as_of}",
                    formula.span, formula.cite, formula.in_force)

    def component_condition(self, formula, text: str, steps) -> Step:
        return self.step(formula.name, formula.label(self.lang), "0.00",
                         ("条件不满足：" if self.lang == "zh" else "condition does not hold: ") + text,
                         children=steps, span=formula.span, cite=formula.cite)

    def monthly_pension(self, total: Decimal, parts: list, steps) -> Step:
        text = " + ".join(f"{self.policy.formulas[n].label(self.lang)} {fmt(a.total)}" for n, a in parts)
        return self.step("monthly_pension", self.word("monthly_pension"), fmt(total), text, children=steps)

    # ── death ───────────────────────────────────────────────────────────
    def funeral_grant(self, version, grant: Decimal) -> Step:
        return self.step("funeral_grant", self.word("funeral_grant"), fmt(grant), version=version)

    def inheritable(self, rule, value: Decimal, balance: Decimal, excluded: Decimal | None) -> Step:
        formula = f"{self.word('account_balance')} {fmt(balance)}"
        if excluded is not None:
            formula += f" − 补贴 {fmt(excluded)}" if self.lang == "zh" else f" − subsidies {fmt(excluded)}"
        return self.step("death.inheritable_balance", self.word("inheritable_balance"), fmt(value), formula, rule)

    def death(self, total: Decimal, children) -> Step:
        return self.step("death", self.word("death"), fmt(total), children=children)

    # ── eligibility and the whole ───────────────────────────────────────
    def scheme_start(self, day: dt.date, version) -> Step:
        if version is None:
            return self.step("scheme_start", self.word("scheme_start"), day.isoformat(),
                             "参保人申报" if self.lang == "zh" else "given for this person")
        return self.step("scheme_start", self.word("scheme_start"), day.isoformat(), version=version)

    def required_years(self, required: int, full, scheme_start_step, age_at_start: int, pension_age: int,
                       pension_age_year: int, scheme_start_year: int) -> Step:
        """min(15, the years from the scheme start to the pension-age birthday); none for those of pension age
        at the scheme start (engine.core.mechanics.required_years), each number with its name."""
        w = self.word
        if age_at_start < pension_age:
            formula = (f"min({self.label(full.name)} {int(full.figure)}, {w('pension_age_year')} "
                       f"{pension_age_year} − {w('scheme_start_year')} {scheme_start_year})")
        else:
            formula = f"{w('age_at_scheme_start')} {age_at_start} ≥ {self.label('pension_age')} {pension_age}"
        return self.step("required_years", w("required_years"), str(required), formula, full, (scheme_start_step,))

    def counted_years(self, counted: int, full, records: int, required: int) -> Step:
        """The records counted, at most the full requirement when less is required (engine.core.mechanics.counted_years)."""
        w = self.word
        formula = f"{w('records_counted')} {records}"
        if required < int(full.figure):
            formula = f"min({formula}, {self.label(full.name)} {int(full.figure)})"
        return self.step("counted_years", w("counted_years"), str(counted), formula, full)

    def eligibility(self, start: dt.date | None, route_version, reasons: str, children) -> Step:
        return self.step("eligibility", self.word("pension_start"), start.isoformat() if start else "—", reasons,
                         route_version, children)

    def whole(self, pension: Step, first_formula, extra) -> Step:
        """The root: the monthly pension with eligibility, the account and death beside its components."""
        children = pension.children + tuple(e for e in extra if e is not None)
        return self.step(pension.id, pension.label, pension.value, pension.formula, children=children,
                         span=first_formula.span, cite=first_formula.cite)
