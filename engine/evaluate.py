"""Evaluate one person under a region's checked policy: the DETERMINATION and its explanation.

The scheme's mechanics (domain.md §2) live here; every figure, date and table comes from
the policy model, and every figure used is recorded with its source line and status.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from engine import dates, model, nodes
from engine.check import BUILTIN_ALIASES, FUNCTIONS
from engine.errors import FieldError, InvalidInput, InvalidPerson, InvalidRecord, pointer
from engine.money import ZERO, Amount, fmt, round_fen
from engine.person import Person, Record
from engine.decision import Account, Component, ContributionRow, Death, Decision, Eligibility, MonthlyPension, \
    TierOption, UnconfirmedUse
from engine.trace import Step

L10N = {
    "monthly_pension": ("月养老金", "monthly pension"),
    "account_balance": ("个人账户余额", "account balance"),
    "balance_at_pension_start": ("领取时账户余额", "balance at pension start"),
    "required_years": ("应缴费年限", "required years"),
    "counted_years": ("累计缴费年限", "counted years"),
    "continuous_years": ("连续缴费年限", "continuous years"),
    "pension_start": ("待遇领取起始日", "pension start"),
    "scheme_start": ("参保起始日", "scheme start"),
    "age": ("年龄", "age"),
    "contribution": ("{year} 年缴费", "contribution {year}"),
    "interest": ("{year} 年利息", "interest {year}"),
    "credits": ("{year} 年记账", "credits {year}"),
    "death": ("死亡待遇", "death"),
    "inheritable_balance": ("可继承余额", "inheritable balance"),
    "funeral_grant": ("丧葬补助金", "funeral grant"),
    "months_paid": ("已领取月数", "months paid"),
    "status": ("状态", "status"),
}


def evaluate(policy: model.Policy, person: Person, as_of: dt.date, explain: bool = False,
             lang: str = "zh") -> Decision:
    """The decision for `person` on `as_of` (with its explanation when asked); InvalidRecord on invalid records."""
    return _Run(policy, person, as_of, explain, lang).determination()


@attrs.define
class Row:
    """A valid contribution record with its figures."""

    record: Record
    date: dt.date
    tier_row: model.TierRow
    personal: Decimal
    government_paid: Decimal
    subsidy: Amount
    rewards: dict[str, Decimal]
    collective: Decimal
    counted: bool = True
    uses: set = attrs.field(factory=set)
    step: Step | None = None

    @property
    def credited(self) -> Decimal:
        return self.personal + self.government_paid + self.subsidy.total + self.collective


class _Run:
    def __init__(self, policy: model.Policy, person: Person, as_of: dt.date, explain: bool, lang: str):
        self.policy, self.person, self.as_of = policy, person, as_of
        self.explain, self.lang = explain, lang
        self.errors: list[FieldError] = []
        self.uses: dict[tuple, dict] = {}

    # ── lookups that remember what they used ───────────────────────────────
    def word(self, key: str, **kw) -> str:
        zh, en = L10N[key]
        return (en if self.lang == "en" else zh).format(**kw)

    def use(self, version: model.Version, fields: str | set, figure: str | None = None) -> tuple:
        key = (version.span.file, version.span.line)
        if version.cite.status in model.UNCONFIRMED:
            entry = self.uses.get(key)
            if entry is None:  # the first use of a line names it (the text is built once per line)
                definition = self.policy.definition(version.name)
                # The machine-facing text is stable across --lang: English label, canonical figure.
                label = definition.label("en") if definition else version.name
                region = definition.region if definition else self.policy.region
                entry = self.uses[key] = {
                    "value": f"{region} {label} {figure if figure is not None else _figure_text(version)}".strip(),
                    "status": version.cite.status, "used_by": set(), "file": version.span.file,
                    "line": version.span.line}
            entry["used_by"].update({fields} if isinstance(fields, str) else fields)
        return key

    def use_formula(self, formula: model.Formula, field: str, figure: str) -> None:
        """A formula whose rule itself is a proposal or provisional (e.g. a top-up rule)."""
        entry = self.uses.setdefault((formula.span.file, formula.span.line), {
            "value": f"{self.policy.region} {formula.label('en')} rule", "status": formula.cite.status,
            "used_by": set(), "file": formula.span.file, "line": formula.span.line})
        entry["used_by"].add(field)

    def attach(self, keys: set, fields: str | set) -> None:
        for key in keys:
            if key in self.uses:
                self.uses[key]["used_by"].update({fields} if isinstance(fields, str) else fields)

    def value(self, name: str, day: dt.date) -> model.Version | None:
        """The version in force on `day` that applies to this person (`for hukou.type = …` versions)."""
        found = self.policy.versions_at(name, day)
        matching = [v for v in found if v.condition is None or self.person.fact(v.condition[0]) == v.condition[1]]
        if matching:
            return matching[0]
        missing = sorted({v.condition[0] for v in found if v.condition and self.person.fact(v.condition[0]) is None})
        if missing:
            raise InvalidPerson(f"a fact is needed to work out '{self.label(name)}'", [
                FieldError(pointer("person", *fact.split(".")),
                           f"{fact} is required: '{self.label(name)}' on {day} depends on it") for fact in missing])
        return None

    def figure(self, version: model.Version):
        """A version's figure; for a table, the cell for this person's facts (422 when one is missing)."""
        layer = self.policy.layer_of(version)
        if not layer or not layer.keys:
            return version.figure
        key_fact = layer.keys[0]
        key = self.person.fact(key_fact)
        keys = [r.key for r in version.rows]
        if key is None or key not in keys:
            got = "is required: one of" if key is None else f"'{key}' is not one of"
            hint = " (or give scheme_start_date)" if version.name == "scheme_start" else ""
            raise InvalidPerson(f"'{layer.label(self.lang)}' needs {key_fact}", [FieldError(
                pointer("person", *key_fact.split(".")), f"{key_fact} {got} " + "、".join(keys) + hint)])
        row = next(r for r in version.rows if r.key == key)
        figures = {f for _, f in row.values}
        if len(figures) == 1:
            return figures.pop()
        column_fact = layer.keys[1] if len(layer.keys) > 1 else None
        column = self.person.fact(column_fact) if column_fact else None
        match = next((f for c, f in row.values if c == column), None)
        if match is None:
            raise InvalidPerson(f"'{layer.label(self.lang)}' needs {column_fact}", [FieldError(
                pointer("person", *str(column_fact).split(".")), f"{column_fact} is required: for {key} it decides "
                f"'{layer.label(self.lang)}' (" + ", ".join(f"{c} {_show(f)}" for c, f in row.values) + ")")])
        return match

    def label(self, name: str) -> str:
        d = self.policy.definition(name)
        return d.label(self.lang) if d else name

    def label_of(self, name: str) -> str:
        """Display name of anything a formula can mention."""
        builtin = BUILTIN_ALIASES.get(name, name)
        if builtin in L10N:
            return self.word(builtin)
        resolved = self.policy.resolve(name)
        if resolved in self.policy.formulas:
            return self.policy.formulas[resolved].label(self.lang)
        return self.label(resolved)

    # ── the determination ──────────────────────────────────────────────────
    def determination(self) -> dict:
        p = self.person
        self.scheme_start, self.scheme_keys = self.scheme_start_date()
        self.sixteenth = dates.anniversary(p.birth_date, int(self.constant("enrolment_age")))
        self.pension_age = int(self.constant("pension_age"))
        self.pension_age_birthday = dates.anniversary(p.birth_date, self.pension_age)
        self.pension_month = dates.first_of_next_month(self.pension_age_birthday)
        self.required = self.required_years()
        rows = self.contributions()
        self.start, self.route, self.eligible = self.pension_start(rows)
        self.flag_after_start(rows)
        if self.errors:
            unique = list({e.pointer: e for e in reversed(self.errors)}.values())[::-1]
            raise InvalidRecord("some contribution records or facts are not valid", unique)
        for row in rows:
            row.counted = row.date <= self.as_of
        self.rows = rows
        self.status = self.status_of()
        self.counted_years = self.count_years(rows)
        self.continuous_years = self.longest_run(rows)
        account = self.account(rows)
        pension = self.monthly_pension(account)
        death = self.death(account)
        return self.render(rows, account, pension, death)

    def constant(self, name: str) -> Decimal:
        version = self.value(name, self.as_of) or next(iter(self.policy.all_versions(name)), None)
        if version is None:
            raise InvalidInput(f"the policy defines no '{name}'")
        return version.figure

    def scheme_start_date(self) -> tuple[dt.date, set]:
        if self.person.scheme_start_date:
            return self.person.scheme_start_date, set()
        version = self.value("scheme_start", self.as_of) or next(iter(self.policy.all_versions("scheme_start")))
        figure = self.figure(version)
        return figure, {self.use(version, "eligibility.required_years", _show(figure))}

    def required_years(self) -> int:
        age_at_start = dates.age_on(self.person.birth_date, self.scheme_start)
        self.age_at_start = age_at_start
        if age_at_start >= self.pension_age:
            return 0
        full = int(self.constant("full_contribution_years"))
        return min(full, self.pension_age_birthday.year - self.scheme_start.year)

    # ── contributions ──────────────────────────────────────────────────────
    def fail(self, record: Record, field: str, detail: str) -> None:
        self.errors.append(FieldError(pointer("person", "contributions", record.index, field), detail))

    def contributions(self) -> list[Row]:
        rows, years = [], {}
        death = self.person.death_date
        for record in self.person.contributions:
            if record.year in years:
                self.fail(record, "year", f"a second record for {record.year}: each year has one record "
                          f"(the first is contributions/{years[record.year]})")
                continue
            years[record.year] = record.index
            day = self.judging_date(record)
            if day is None:
                continue
            if day < self.scheme_start:
                self.fail(record, "date", f"{day} is before the scheme start {self.scheme_start}; if this county "
                          "started earlier, give the person's scheme_start_date")
                continue
            if day < self.sixteenth:
                self.fail(record, "date", f"{day} is before the 16th birthday ({self.sixteenth}): "
                          "residents enrol from age 16")
                continue
            if death and day > death:
                self.fail(record, "date", f"{day} is after the death date {death}" +
                          ("; a record for the year of death must carry its date" if record.date is None else ""))
                continue
            if self.person.pension_start_date and day > self.person.pension_start_date:
                self.fail(record, "date", f"{day} is after the pension start {self.person.pension_start_date}" +
                          ("; a record for the year of the pension start must carry its date"
                           if record.date is None else ""))
                continue
            row = self.contribution(record, day)
            if row is not None:
                rows.append(row)
        return sorted(rows, key=lambda r: r.record.year)

    def judging_date(self, record: Record) -> dt.date | None:
        if record.kind == "regular":
            day = record.date or dates.year_end(record.year)
            if day.year != record.year:
                self.fail(record, "date", f"a regular record for {record.year} must be dated in {record.year}, "
                          f"not {day}")
                return None
            return day
        if record.date is None:
            self.fail(record, "date", "a back_payment must carry the date it was paid (after the end of "
                      f"{record.year})")
            return None
        if record.date <= dates.year_end(record.year):
            self.fail(record, "date", f"a back_payment for {record.year} must be dated after {record.year}-12-31")
            return None
        earliest = max(self.scheme_start.year, self.sixteenth.year)
        if record.year < earliest:
            self.fail(record, "year", f"back payment for {record.year} is before "
                      f"{'the scheme start year' if self.scheme_start.year >= self.sixteenth.year else 'the year of the 16th birthday'}"
                      f" ({earliest})")
            return None
        return record.date

    def tier_table(self, day: dt.date, at: tuple | None) -> tuple[model.Version | None, bool]:
        """The tier table for this person on `day`; (None, True) when hukou.type is needed but missing."""
        for version in self.policy.versions_at("contribution_tiers", day):
            if version.condition is None:
                return version, False
            fact, wanted = version.condition
            have = self.person.fact(fact)
            if have is None:
                if at is not None:
                    self.errors.append(FieldError(pointer("person", *fact.split(".")),
                                                  f"{fact} is required: the tiers on {day} depend on it "
                                                  f"(contributions/{at[0]})"))
                return None, True
            if have == wanted:
                return version, False
        return None, False

    def daijiao(self, day: dt.date, tier_version: model.Version | None) -> tuple[Decimal, model.Version | None, model.GroupRow | None]:
        """The largest single 代缴 amount stated for the person's groups on `day`."""
        best = (ZERO, None, None)
        memberships = self.person.groups_on(day)
        for version in self.policy.versions_at("daijiao", day):
            for row in version.rows:
                if not any(m.group == row.group and (row.position is None or m.position == row.position)
                           for m in memberships):
                    continue
                amount = row.amount
                if amount is None:
                    amount = min((r.tier for r in tier_version.rows), default=ZERO) if tier_version else ZERO
                if amount > best[0]:
                    best = (amount, version, row)
        return best

    def contribution(self, record: Record, day: dt.date) -> Row | None:
        table, _ = self.tier_table(day, (record.index,))
        if table is None:
            if not any(e.pointer.startswith("/person/hukou") for e in self.errors):
                self.fail(record, "tier", f"no contribution tiers are open on {day}")
            return None
        daijiao_amount, daijiao_version, daijiao_row = self.daijiao(day, table)
        open_rows = [r for r in table.rows if not r.only_daijiao or daijiao_amount > 0]
        tier_row = next((r for r in open_rows if r.tier == record.tier), None)
        if tier_row is None:
            self.fail(record, "tier", f"tier {fmt(record.tier)} is not open to this person on {day}; open tiers: "
                      + ", ".join(str(r.tier) for r in sorted(open_rows, key=lambda r: r.tier)))
            return None
        uses = {self.use(table, f"contributions[{record.year}].subsidy")}
        regular = record.kind == "regular"
        government_paid = min(daijiao_amount, record.tier) if regular else ZERO
        if regular and daijiao_version is not None:
            uses.add(self.use(daijiao_version, f"contributions[{record.year}].government_paid",
                              f"{self.policy.group_label(daijiao_row.group, self.lang)} {fmt(daijiao_amount)}"))
        subsidy, rewards, steps = Amount(), {}, []
        if regular:
            subsidy = Amount(sum((a for _, a in tier_row.subsidy), ZERO), tier_row.subsidy)
            if self.explain:
                steps.append(Step.of_version("tier_subsidy", self.label("contribution_tiers"), fmt(subsidy.total),
                                             table, _levels_formula(subsidy, self.lang)))
            field = f"contributions[{record.year}].subsidy"
            subsidy, extra_steps = self.extra_subsidies(record, day, subsidy, uses, field)
            steps += extra_steps
            rewards, reward_amount, reward_steps = self.rewards(record, day, uses, field)
            subsidy = subsidy + reward_amount
            steps += reward_steps
        personal = record.tier - government_paid
        row = Row(record, day, tier_row, personal, government_paid, subsidy, rewards, record.collective, uses=uses)
        if self.explain:
            row.step = self.contribution_step(row, table, daijiao_version, steps)
        return row

    def extra_subsidies(self, record, day, subsidy: Amount, uses: set, field: str) -> tuple[Amount, list[Step]]:
        steps = []
        for name in self.policy.names_of_kind("subsidy"):
            for version in self.policy.versions_at(name, day):
                row = next((r for r in version.rows if r.tier == record.tier), None)
                if row is None:
                    continue
                extra = Amount(sum((a for _, a in row.subsidy), ZERO), row.subsidy)
                subsidy = subsidy + extra
                uses.add(self.use(version, field))
                if self.explain:
                    steps.append(Step.of_version(name, self.label(name), fmt(extra.total), version,
                                                 _levels_formula(extra, self.lang)))
        return subsidy, steps

    def rewards(self, record, day, uses: set, field: str) -> tuple[dict, Amount, list[Step]]:
        rewards, total, steps = {}, Amount(), []
        memberships = self.person.groups_on(day)
        for name in self.policy.names_of_kind("reward"):
            layers = self.policy.definitions[name]
            rewards[name] = ZERO
            for version in self.policy.versions_at(name, day):
                matches = [r for r in version.rows if any(
                    m.group == r.group and (r.position is None or m.position == r.position) for m in memberships)]
                if not matches:
                    continue
                best = max(matches, key=lambda r: r.amount)
                amount = Amount(best.amount, best.by_level) if best.by_level else \
                    Amount.at(layers[0].paid_by or "province", best.amount)
                rewards[name] = best.amount
                total = total + amount
                uses.add(self.use(version, field,
                                  f"{self.policy.group_label(best.group, self.lang)} {fmt(best.amount)}"))
                if self.explain:
                    steps.append(Step.of_version(name, self.label(name), fmt(best.amount), version,
                                                 f"{self.policy.group_label(best.group, self.lang)}: "
                                                 f"{_levels_formula(amount, self.lang)}"))
        return rewards, total, steps

    def contribution_step(self, row: Row, table, daijiao_version, steps) -> Step:
        r = row.record
        children = list(steps)
        if daijiao_version is not None and row.government_paid:
            children.insert(0, Step.of_version("government_paid", "政府代缴" if self.lang == "zh" else "government paid",
                                               fmt(row.government_paid), daijiao_version,
                                               f"min(代缴 {fmt(row.government_paid)}, 档次 {fmt(r.tier)})"))
        formula = (f"个人 {fmt(row.personal)} + 代缴 {fmt(row.government_paid)} + 补贴 {fmt(row.subsidy.total)} "
                   f"+ 集体 {fmt(row.collective)}") if self.lang == "zh" else \
            (f"personal {fmt(row.personal)} + government {fmt(row.government_paid)} + subsidy "
             f"{fmt(row.subsidy.total)} + collective {fmt(row.collective)}")
        kind = ("补缴" if self.lang == "zh" else "back payment") if r.kind == "back_payment" else ""
        return Step(f"contribution_{r.year}", self.word("contribution", year=r.year) + (f"（{kind}）" if kind else ""),
                    fmt(row.credited), f"{formula}；{row.date}" if self.lang == "zh" else f"{formula}; {row.date}",
                    table.span, table.cite, table.in_force, tuple(children))

    # ── eligibility ────────────────────────────────────────────────────────
    def pension_start(self, rows: list[Row]) -> tuple[dt.date | None, str | None, bool]:
        if self.person.pension_start_date:
            return self.person.pension_start_date, "given", True
        candidates = []
        if self.age_at_start >= self.pension_age:
            day = max(dates.first_of_month(self.scheme_start), self.pension_month)
            candidates.append((day, "pension_age_at_start"))
        else:
            paid = sorted(r.date for r in rows if r.date <= self.as_of)
            if self.required == 0:
                candidates.append((self.pension_month, "payment"))
            elif len(paid) >= self.required:
                met = paid[self.required - 1]
                candidates.append((self.pension_month if met < self.pension_month else dates.first_of_next_month(met), "payment"))
        poverty = self.poverty_route()
        if poverty:
            candidates.append(poverty)
        if not candidates:
            return None, None, False
        day, route = min(candidates, key=lambda c: c[0])
        return day, route, True

    def poverty_route(self) -> tuple[dt.date, str] | None:
        best = None
        for name in self.policy.names_of_kind("early_start"):
            d = self.policy.definitions[name][0]
            for version in self.policy.all_versions(name):
                for m in self.person.groups:
                    if m.group not in d.for_groups:
                        continue
                    day = max(version.start or dt.date.min, self.pension_month, dates.first_of_month_on_or_after(m.start))
                    if m.holds(day) and version.covers(day) and day <= self.as_of and (best is None or day < best[0]):
                        best = (day, f"early_start:{name}", version)
        if best is None:
            return None
        self.poverty_version = best[2]
        return best[0], best[1]

    def flag_after_start(self, rows: list[Row]) -> None:
        if self.start is None or self.person.pension_start_date:
            return
        for row in list(rows):
            if row.date > self.start:
                self.fail(row.record, "date", f"{row.date} is after the pension start {self.start}" +
                          ("; a record for the year of the pension start must carry its date"
                           if row.record.date is None else ""))
                rows.remove(row)

    def status_of(self) -> str:
        p = self.person
        if p.death_date and p.death_date <= self.as_of:
            return "deceased"
        if self.start and self.start <= self.as_of:
            return "receiving"
        if dates.age_on(p.birth_date, self.as_of) < self.pension_age or \
                (self.eligible and self.start is not None and self.start > self.as_of):
            return "contributing"
        return "not_eligible"

    def count_years(self, rows: list[Row]) -> int:
        n = sum(1 for r in rows if r.counted)
        full = int(self.constant("full_contribution_years"))
        return min(n, full) if self.required < full else n

    def longest_run(self, rows: list[Row]) -> int:
        years = sorted(r.record.year for r in rows if r.counted and r.record.kind == "regular")
        best = run = 0
        for i, y in enumerate(years):
            run = run + 1 if i and y == years[i - 1] + 1 else 1
            best = max(best, run)
        return best

    @property
    def started_by(self) -> dt.date:
        """The pension has started if its start is on or before this day (the death date if deceased)."""
        death = self.person.death_date
        return min(self.as_of, death) if death else self.as_of

    # ── the account ────────────────────────────────────────────────────────
    def account(self, rows: list[Row]) -> dict:
        opening = self.person.opening_balance
        credits = [r for r in rows if r.counted and not (opening and r.date <= opening[1])]
        ledger = _Ledger(self, credits, opening)
        started = self.start is not None and self.start <= self.started_by
        death = self.person.death_date if self.status == "deceased" else None
        info = {"started": started, "ledger": ledger, "credits": credits}
        if started:
            at_start, start_step = ledger.balance_on(self.start, "balance_at_pension_start")
            divisor_version = self.value("account_divisor", self.start) or \
                next(iter(self.policy.all_versions("account_divisor")))
            account_pension = round_fen(at_start / divisor_version.figure)
            end = death or self.as_of
            months = dates.months_inclusive(self.start, end)
            balance = max(at_start - account_pension * months, ZERO)
            info.update(at_start=at_start, at_start_step=start_step, account_pension=account_pension,
                        months=months, balance=balance, divisor=divisor_version)
            info["balance_step"] = self.step_of("account.balance", "account_balance", fmt(balance),
                                                f"max(0, {fmt(at_start)} − {fmt(account_pension)} × {months})",
                                                start_step, version=divisor_version)
        else:
            balance, step = ledger.balance_on(death or self.as_of, "account_balance")
            info.update(at_start=ZERO, account_pension=ZERO, months=0, balance=balance, balance_step=step)
        return info

    def step_of(self, id, key, value, formula, *children, version: model.Version | None = None) -> Step | None:
        if not self.explain:
            return None
        kids = tuple(c for c in children if c)
        if version is not None:
            return Step.of_version(id, self.word(key), value, version, formula, kids)
        return Step(id, self.word(key), value, formula, children=kids)

    # ── the monthly pension ────────────────────────────────────────────────
    def monthly_pension(self, account: dict) -> dict:
        components, steps, total = [], [], ZERO
        env = _Env(self, account)
        for name in self.policy.components:
            formula = self.policy.formulas[name]
            paid = (self.status == "receiving" and formula.paid_while == "receiving") or \
                   (self.status == "contributing" and formula.paid_while == "contributing")
            amount, step = env.component(formula, paid)
            components.append((name, amount))
            steps.append(step)
            total += amount.total
        step = None
        if self.explain:
            parts = " + ".join(f"{self.policy.formulas[n].label(self.lang)} {fmt(a.total)}" for n, a in components)
            step = Step("monthly_pension", self.word("monthly_pension"), fmt(total), parts,
                        children=tuple(s for s in steps if s))
        return {"total": total, "components": components, "step": step}

    # ── death ──────────────────────────────────────────────────────────────
    def death(self, account: dict) -> dict:
        if self.status != "deceased":
            return {"funeral_grant": ZERO, "inheritable_balance": ZERO, "step": None}
        day = self.person.death_date
        grant = ZERO
        grant_step = None
        if account["started"]:
            version = self.value("funeral_grant", day)
            if version is not None and version.figure:
                grant = version.figure
                self.use(version, "death.funeral_grant")
                if self.explain:
                    grant_step = Step.of_version("funeral_grant", self.word("funeral_grant"), fmt(grant), version)
        inheritable = account["balance"]
        formula = fmt(inheritable)
        rule = self.value("subsidy_inheritable", day)
        if rule is not None and rule.figure is False:
            self.use(rule, "death.inheritable_balance")
            excluded = sum((r.subsidy.total for r in account["credits"] if r.date <= day), ZERO)
            inheritable = max(inheritable - excluded, ZERO)
            formula = f"{fmt(account['balance'])} − 补贴 {fmt(excluded)}" if self.lang == "zh" else \
                f"{fmt(account['balance'])} − subsidies {fmt(excluded)}"
        step = None
        if self.explain:
            inh = Step.of_version("death.inheritable_balance", self.word("inheritable_balance"), fmt(inheritable),
                                  rule, formula) if rule else \
                Step("death.inheritable_balance", self.word("inheritable_balance"), fmt(inheritable), formula)
            step = Step("death", self.word("death"), fmt(grant + inheritable), None,
                        children=tuple(s for s in (grant_step, inh) if s))
        return {"funeral_grant": grant, "inheritable_balance": inheritable, "step": step}

    # ── tier options ───────────────────────────────────────────────────────
    def tier_options(self) -> tuple[TierOption, ...]:
        if self.status not in ("contributing", "not_eligible"):
            return ()
        if self.as_of < self.sixteenth or self.as_of < self.scheme_start:
            return ()
        table, _ = self.tier_table(self.as_of, None)
        if table is None:
            return ()
        daijiao_amount, daijiao_version, _ = self.daijiao(self.as_of, table)
        out = []
        for tier_row in sorted(table.rows, key=lambda r: r.tier):
            if tier_row.only_daijiao and daijiao_amount <= 0:
                continue
            record = Record(-1, self.as_of.year, tier_row.tier, "regular", self.as_of, ZERO)
            uses: set = set()
            subsidy = Amount(sum((a for _, a in tier_row.subsidy), ZERO), tier_row.subsidy)
            subsidy, _ = self.extra_subsidies(record, self.as_of, subsidy, uses, "tier_options")
            _, reward, _ = self.rewards(record, self.as_of, uses, "tier_options")
            gov = min(daijiao_amount, tier_row.tier)
            self.use(table, "tier_options")
            self.attach(uses, "tier_options")
            if daijiao_version is not None:
                self.use(daijiao_version, "tier_options")
            out.append(TierOption(tier_row.tier, tier_row.tier - gov, gov, (subsidy + reward).total))
        return tuple(out)

    # ── the decision ───────────────────────────────────────────────────────
    def render(self, rows: list[Row], account: dict, pension: dict, death: dict) -> Decision:
        for row in rows:
            fields = set()
            if row.counted:
                fields.add("account.balance")
                if account["started"]:
                    fields |= {"account.balance_at_pension_start", "monthly_pension.account_pension"}
            self.attach(row.uses, fields)
        if self.route == "payment" or self.route == "pension_age_at_start":
            self.attach(self.scheme_keys, "eligibility.pension_start_date")
        if self.route and self.route.startswith("early_start"):
            self.use(self.poverty_version, "eligibility.pension_start_date")
        tier_options = self.tier_options()  # before the unconfirmed list: the options use figures too
        eligibility = Eligibility(self.eligible, self.required, self.counted_years, self.continuous_years,
                                  self.start if self.eligible and self.start else None, tuple(self.reasons()))
        return Decision(
            region=self.policy.region, policy_version=self.policy.digest, as_of=self.as_of,
            person_id=self.person.id, status=self.status, eligibility=eligibility,
            monthly_pension=MonthlyPension(pension["total"], tuple(Component(n, a) for n, a in pension["components"])),
            contributions=tuple(ContributionRow(r.record.year, r.record.tier, r.record.kind, r.date, r.personal,
                                                r.government_paid, r.subsidy, r.collective, r.counted,
                                                tuple(r.rewards.items())) for r in rows),
            account=Account(account["balance"], account["at_start"]),
            death=Death(death["funeral_grant"], death["inheritable_balance"]),
            tier_options=tier_options,
            uses_unconfirmed=tuple(UnconfirmedUse(u["value"], u["status"], tuple(sorted(u["used_by"])), u["file"],
                                                  u["line"])
                                   for u in sorted(self.uses.values(), key=lambda u: (u["file"], u["line"]))
                                   if u["used_by"]),
            explanation=self.explanation(pension, account, death) if self.explain else None)

    def reasons(self, zh: bool = False) -> list[str]:
        """Why the pension starts when it does: canonical English in the JSON, Chinese in the explanation."""
        if self.route == "given":
            return ["待遇领取起始日由申报给定" if zh else "pension_start_date given as a fact"]
        if self.route == "pension_age_at_start":
            return [f"参保起始日（{self.scheme_start}）已满 {self.pension_age} 周岁，不缴费直接领取基础养老金" if zh else
                    f"aged {self.pension_age}+ at scheme start ({self.scheme_start}): basic pension without paying"]
        if self.route == "payment":
            return [f"累计缴费满 {self.required} 年，{self.start} 起领取" if zh else
                    f"required {self.required} contribution years met; pension from {self.start}"]
        if self.route and self.route.startswith("early_start"):
            return [self.early_start_reason(zh)]
        return [f"尚未满足领取条件：应缴 {self.required} 年" if zh else
                f"not yet eligible: {self.required} contribution years required"]

    def early_start_reason(self, zh: bool) -> str:
        """The early-start route in words, from its policy block: the groups it serves and its start month."""
        layer = self.policy.layer_of(self.poverty_version) or self.policy.definition(self.poverty_version.name)
        since = self.poverty_version.start.strftime("%Y-%m") if self.poverty_version.start else None
        if zh:
            groups = "、".join(self.policy.group_label(g, "zh") for g in layer.for_groups)
            return (f"{groups}年满 {self.pension_age} 周岁未领取的，直接领取基础养老金" +
                    (f"（{since} 规定）" if since else ""))
        return (f"{', '.join(layer.for_groups)} aged {self.pension_age}+ without a pension draws the basic pension"
                + (f" ({since} rule)" if since else ""))

    def explanation(self, pension: dict, account: dict, death: dict) -> Step:
        root = pension["step"]
        extra = []
        full = self.rule_version("full_contribution_years")
        age_rule = self.rule_version("pension_age")
        route_version = {"payment": full, "pension_age_at_start": age_rule}.get(self.route, getattr(self, "poverty_version", None)
                                                                          if self.route else full)
        required = Step.of_version("required_years", self.word("required_years"), str(self.required), full,
                                   f"min({int(full.figure)}, {self.pension_age_birthday.year} − {self.scheme_start.year})"
                                   if self.age_at_start < self.pension_age else
                                   f"{self.word('age')} {self.age_at_start} ≥ {self.pension_age}")
        if self.person.scheme_start_date:
            start_step = Step("scheme_start", self.word("scheme_start"), self.scheme_start.isoformat(),
                              "参保人申报" if self.lang == "zh" else "given for this person")
        else:
            start_step = Step.of_version("scheme_start", self.word("scheme_start"), self.scheme_start.isoformat(),
                                         self.rule_version("scheme_start"))
        required = attrs.evolve(required, children=(start_step,))
        counted = Step.of_version("counted_years", self.word("counted_years"), str(self.counted_years), full,
                                  f"{sum(1 for r in self.rows if r.counted)}")
        reasons = "；".join(self.reasons(zh=self.lang == "zh"))
        value = self.start.isoformat() if self.start else "—"
        elig = Step.of_version("eligibility", self.word("pension_start"), value, route_version, reasons,
                               (required, counted)) if route_version else \
            Step("eligibility", self.word("pension_start"), value, reasons, children=(required, counted))
        extra.append(elig)
        if account.get("balance_step"):
            extra.append(account["balance_step"])
        if death.get("step"):
            extra.append(death["step"])
        first = self.policy.formulas[self.policy.components[0]]
        return attrs.evolve(root, span=first.span, cite=first.cite, in_force=_common_period(root),
                            children=root.children + tuple(extra))

    def rule_version(self, name: str) -> model.Version:
        return self.value(name, self.as_of) or next(iter(self.policy.all_versions(name)))


def _common_period(step: Step) -> dict | None:
    """The period over which every dated figure under `step` stays the same."""
    starts, ends = [], []

    def walk(s: Step) -> None:
        if s.in_force:
            if s.in_force.get("from"):
                starts.append(s.in_force["from"])
            if s.in_force.get("to"):
                ends.append(s.in_force["to"])
        for c in s.children:
            walk(c)

    for child in step.children:
        walk(child)
    return {"from": max(starts) if starts else None, "to": min(ends) if ends else None}


def _figure_text(version: model.Version) -> str:
    f = version.figure
    if isinstance(f, dt.date):
        return f.isoformat()
    if isinstance(f, bool):
        return "是" if f else "否"
    if isinstance(f, Decimal):
        return _percent(f) if version.name == "interest_rate" else f"{f}"
    start = version.start.isoformat() if version.start else ""
    return f"(from {start})" if start else ""


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def _levels_formula(amount: Amount, lang: str) -> str:
    names = model.LEVEL_LABELS if lang == "zh" else {l: l for l in model.LEVELS}
    parts = [f"{names[l]} {fmt(v)}" for l, v in amount.by_level]
    return " + ".join(parts) if parts else fmt(amount.total)


class _Ledger:
    """Year-by-year account: credits on their dates, interest at the very end of each 31 December."""

    def __init__(self, run: _Run, credits: list[Row], opening):
        self.run = run
        self.credits = credits
        self.opening = opening

    def balance_on(self, day: dt.date, id: str) -> tuple[Decimal, Step | None]:
        run = self.run
        years = [r.date.year for r in self.credits]
        if self.opening:
            first, balance = self.opening[1].year + 1, self.opening[0]
        elif years:
            first, balance = min(years), ZERO
        else:
            return ZERO, run.step_of(id, id, "0.00", None, version=run.rule_version("interest_rate"))
        steps = []
        if self.opening:
            steps.append(Step("opening_balance", "期初余额" if run.lang == "zh" else "opening balance",
                              fmt(balance), f"{self.opening[1]}"))
        for year in range(first, day.year + 1):
            start_balance = balance
            credited = sum((r.credited for r in self.credits if r.date.year == year and
                            (year < day.year or r.date <= day)), ZERO)
            balance += credited
            if credited and run.explain:
                for r in self.credits:
                    if r.date.year == year and (year < day.year or r.date <= day) and r.step:
                        steps.append(r.step)
            if year < day.year:
                version = run.value("interest_rate", dates.year_end(year))
                if version is None:
                    continue
                interest = round_fen(start_balance * version.figure)
                fields = {"account.balance"} | ({"account.balance_at_pension_start",
                                                 "monthly_pension.account_pension"} if id == "balance_at_pension_start" else set())
                if start_balance:
                    run.use(version, fields)
                balance += interest
                if run.explain and start_balance:
                    steps.append(Step.of_version(f"interest_{year}", run.word("interest", year=year), fmt(interest),
                                                 version, f"{fmt(start_balance)} × {_percent(version.figure)}"))
        formula = ("上年末余额 + 当年记账（利息于 12 月 31 日日终计入）" if run.lang == "zh" else
                   "end-of-last-year balance + this year's credits (interest credited at the end of 31 December)")
        rule = run.value("interest_rate", day) or run.rule_version("interest_rate")
        step = run.step_of(id, id, fmt(balance), f"{formula}；{day}", *steps, version=rule)
        return balance, step


@attrs.define
class _Env:
    """Evaluates component formulas on the as-of date, recording each figure used."""

    run: _Run
    account: dict
    cache: dict = attrs.field(factory=dict)

    def component(self, formula: model.Formula, paid: bool) -> tuple[Amount, Step | None]:
        run = self.run
        if not paid:
            return Amount(), (Step(formula.name, formula.label(run.lang), "0.00",
                                   "未领取" if run.lang == "zh" else "not paid in this status",
                                   formula.span, formula.cite) if run.explain else None)
        field = f"monthly_pension.{formula.name}"
        if not formula.covers(run.as_of):
            return Amount(), (Step(formula.name, formula.label(run.lang), "0.00",
                                   f"{run.as_of} 不在施行期内" if run.lang == "zh" else f"not in force on {run.as_of}",
                                   formula.span, formula.cite, formula.in_force) if run.explain else None)
        if formula.when is not None:
            held, cond_steps, cond_text = self.eval(formula.when, field)
            if not held:
                return Amount(), (Step(formula.name, formula.label(run.lang), "0.00",
                                       ("条件不满足：" if run.lang == "zh" else "condition does not hold: ") + cond_text,
                                       formula.span, formula.cite, children=tuple(cond_steps)) if run.explain else None)
        value, steps, text = self.eval(formula.expr, field)
        if not isinstance(value, Amount):
            value = Amount(value)
        if formula.cite and formula.cite.status in model.UNCONFIRMED and value.total:
            run.use_formula(formula, field, fmt(value.total))
        if formula.paid_by:
            value = value.relevel(formula.paid_by)
        if formula.name == "account_pension":
            value = Amount(value.total)
        step = None
        if run.explain:
            step = Step(formula.name, formula.label(run.lang), fmt(value.total), text,
                        formula.span, formula.cite, None, tuple(steps))
            step = attrs.evolve(step, in_force=_common_period(step))
        return value, step

    def eval(self, expr: nodes.Expr, field: str):
        """(value, steps, text): value is an Amount, a Decimal or a bool; text shows the numbers used."""
        match expr:
            case nodes.Number(value=v):
                return v, [], str(v)
            case nodes.Ref(name=name):
                value, steps = self.ref(name, field)
                return value, steps, f"{self.run.label_of(name)} {_show(value)}"
            case nodes.Unary(op="not", operand=o):
                v, s, t = self.eval(o, field)
                return (not v), s, f"not {t}"
            case nodes.Unary(operand=o):
                v, s, t = self.eval(o, field)
                return -v, s, f"−{t}"
            case nodes.Call(function=fn, args=args):
                return self.call(FUNCTIONS[fn], args, field)
            case nodes.Binary(op=op, left=l, right=r):
                lv, ls, lt = self.eval(l, field)
                if op == "and" and not lv or op == "or" and lv:
                    return lv, ls, lt
                rv, rs, rt = self.eval(r, field)
                return _binary(op, lv, rv), ls + rs, f"{lt} {OPERATOR_SIGNS.get(op, op)} {rt}"
        raise AssertionError(f"unknown expression {expr!r}")

    def ref(self, name: str, field: str):
        run = self.run
        builtin = BUILTIN_ALIASES.get(name, name)
        if builtin == "age":
            v = Decimal(dates.age_on(run.person.birth_date, run.as_of))
            return v, [Step("age", run.word("age"), str(v))] if run.explain else []
        if builtin == "counted_years":
            return Decimal(run.counted_years), [Step("counted_years", run.word("counted_years"),
                                                     str(run.counted_years))] if run.explain else []
        if builtin == "continuous_years":
            return Decimal(run.continuous_years), [Step("continuous_years", run.word("continuous_years"),
                                                        str(run.continuous_years))] if run.explain else []
        if builtin == "balance_at_pension_start":
            step = self.account.get("at_start_step")
            return Amount(self.account["at_start"]), [step] if step else []
        resolved = run.policy.resolve(name)
        if resolved in run.policy.formulas:
            formula = run.policy.formulas[resolved]
            if resolved not in self.cache:
                self.cache[resolved] = self.component(formula, True)
            value, step = self.cache[resolved]
            return value, [step] if step else []
        definition = run.policy.definition(resolved)
        if definition.kind == "bonus":
            return self.bonus(definition, field)
        version = run.value(resolved, run.as_of)
        if version is None:
            return Amount(), []
        run.use(version, field)
        figure = version.figure
        value = Amount.at(definition.paid_by, figure) if isinstance(figure, Decimal) and definition.unit and \
            definition.unit.startswith("元") else figure
        steps = [Step.of_version(resolved, definition.label(run.lang), _show(value), version)] if run.explain else []
        return value, steps

    def bonus(self, definition: model.Definition, field: str):
        run = self.run
        version = run.value(definition.name, run.as_of)
        if version is None:
            return Amount(), []
        # The layer the version comes from decides its basis (a region may change `per` into `by`).
        definition = run.policy.layer_of(version) or definition
        level = definition.paid_by or "province"
        if definition.beyond is not None:
            basis = Decimal(getattr(run, definition.basis))
            years = max(basis - definition.beyond, ZERO)
            amount = Amount.at(level, version.figure * years)
            if amount.total:
                run.use(version, field)
            formula = f"{fmt(version.figure)} × max(0, {basis} − {definition.beyond})"
        else:
            basis = Decimal(dates.age_on(run.person.birth_date, run.as_of)) if definition.basis == "age" else \
                Decimal(getattr(run, definition.basis))
            band = next((b for b in version.rows if b.contains(basis)), None)
            amount = Amount.at(level, band.amount if band else ZERO)
            if band is not None and band.amount:
                run.use(version, field)
            formula = (f"{run.word(definition.basis) if definition.basis in L10N else definition.basis} {basis} → "
                       f"{fmt(amount.total)}")
        steps = [Step.of_version(definition.name, definition.label(run.lang), fmt(amount.total), version, formula)] \
            if run.explain else []
        return amount, steps

    def call(self, fn: str, args, field: str):
        run = self.run
        if fn == "member":
            group = run.policy.resolve(args[0].name)
            held = any(m.group == group for m in run.person.groups_on(run.as_of))
            label = run.policy.group_label(group, run.lang)
            return held, [], f"{label} {'是' if held else '否'}" if run.lang == "zh" else f"{label} {held}"
        values, steps, texts = [], [], []
        for a in args:
            v, s, t = self.eval(a, field)
            values.append(v)
            steps += s
            texts.append(t)
        if fn == "round":
            v = values[0]
            rounded = Amount(round_fen(v.total), tuple((l, round_fen(x)) for l, x in v.by_level)) \
                if isinstance(v, Amount) else round_fen(v)
            word = "四舍五入到分" if run.lang == "zh" else "round half-up to 0.01"
            return rounded, steps, f"{word}({', '.join(texts)})"
        key = lambda v: v.total if isinstance(v, Amount) else v  # noqa: E731
        return (max if fn == "max" else min)(values, key=key), steps, f"{fn}({', '.join(texts)})"


OPERATOR_SIGNS = {"*": "×", "/": "÷", "-": "−", "and": "且", "or": "或"}


def _show(figure) -> str:
    if isinstance(figure, Amount):
        return fmt(figure.total)
    if isinstance(figure, Decimal):
        return f"{figure.normalize():f}"
    if isinstance(figure, dt.date):
        return figure.isoformat()
    return str(figure)


def _binary(op: str, a, b):
    if op in ("and", "or"):
        return (a and b) if op == "and" else (a or b)
    if op in ("+", "-"):
        a_amt, b_amt = isinstance(a, Amount), isinstance(b, Amount)
        if a_amt or b_amt:
            a = a if a_amt else Amount(a)
            b = b if b_amt else Amount(b)
            return a + b if op == "+" else a + (-b)
        return a + b if op == "+" else a - b
    if op in ("*", "/"):
        if isinstance(a, Amount) and not isinstance(b, Amount):
            if op == "*":
                return a.scaled(b)
            return Amount(a.total / b, tuple((l, v / b) for l, v in a.by_level))
        if isinstance(b, Amount) and op == "*":
            return b.scaled(a)
        av = a.total if isinstance(a, Amount) else a
        bv = b.total if isinstance(b, Amount) else b
        return av * bv if op == "*" else av / bv
    av = a.total if isinstance(a, Amount) else a
    bv = b.total if isinstance(b, Amount) else b
    return {"<": av < bv, "<=": av <= bv, ">": av > bv, ">=": av >= bv, "==": av == bv, "!=": av != bv}[op]
