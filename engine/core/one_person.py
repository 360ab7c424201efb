"""The scalar back end: one person under a region's plan, the `Decision` and (when asked) its explanation.

The order of domain.md §2: records dated and priced (代缴, subsidies, rewards) → eligibility (required
years, pension start) → the account (credits, yearly interest) → the components of the monthly
pension → death. The mechanics are `engine.core.mechanics` (shared with the population back end, here on
`datetime.date`s), the pricing `engine.core.pricing`, the formulas the region's compiled `engine.core.plan`.
Every figure is told to a recorder (`engine.core.explain`); without an explanation nobody listens.
"""
from __future__ import annotations

import datetime as dt
import operator
from decimal import Decimal

from engine.core import dates, mechanics
from engine.core.decision import (
    Account,
    Component,
    ContributionRow,
    Death,
    Decision,
    Eligibility,
    MonthlyPension,
    TierOption,
    UnconfirmedUse,
)
from engine.core.explain import NoTrace, Trace
from engine.core.lookup import Lookup, Uses, show
from engine.core.mechanics import DATES
from engine.core.memo import Memo
from engine.core.money import ZERO
from engine.core.person import Person, Record
from engine.core.person_formulas import PersonFormulas
from engine.core.plan import compile_plan
from engine.core.prepared import Prepared
from engine.core.pricing import Priced, Pricing, fen_of
from engine.language import model
from engine.language.catalogue import say
from engine.language.errors import FieldError, InvalidRecord, pointer
from engine.language.text import Text

NO_TRACE = NoTrace()
_first = operator.itemgetter(0)


def evaluate(policy: model.Policy, person: Person, as_of: dt.date, explain: bool = False,
             lang: str = "zh", recorder=None) -> Decision:
    """The decision for `person` on `as_of` (with its explanation when asked); InvalidRecord on invalid records.

    `recorder`: who listens to each figure (default: `Trace` when `explain`, else nobody).
    """
    if recorder is None:
        recorder = Trace(policy, lang) if explain else NO_TRACE
    return OnePerson(policy, person, as_of, recorder, lang).decide()

NOTHING = Text("", "")
_BALANCE_FIELDS = frozenset({"account.balance"})  # what a counted record reaches (before, after a pension start)
_STARTED_FIELDS = frozenset({"account.balance", "account.balance_at_pension_start", "monthly_pension.account_pension"})


class _Row:
    """A usable contribution record, its judging day and its figures."""

    __slots__ = ("record", "day", "priced", "counted", "credited_fen")

    def __init__(self, record: Record, day: dt.date, priced: Priced, credited_fen: int):
        self.record, self.day, self.priced, self.counted = record, day, priced, True
        self.credited_fen = credited_fen


class OnePerson:
    # slots: the evaluation reads its own attributes thousands of times per person (no instance dict to search)
    __slots__ = ("policy", "prepared", "person", "as_of", "rec", "lang", "quiet", "lookup", "uses", "errors", "pricing",
                 "plan",
                 "scheme_start", "scheme_version", "scheme_keys", "pension_age", "full_years", "enrolment_day",
                 "pension_age_birthday", "pension_month", "age_at_start", "required", "start", "route",
                 "route_version", "eligible", "rows", "status", "counted_years", "continuous_years")

    def __init__(self, policy: model.Policy, person: Person, as_of: dt.date, recorder, lang: str):
        self.policy, self.person, self.as_of, self.rec, self.lang = policy, person, as_of, recorder, lang
        self.quiet = type(recorder) is NoTrace  # nobody listens: the steps' own figures need not be made
        self.lookup = Lookup(policy, person, lang)
        self.uses = Uses(policy)
        self.prepared = self.uses.prepared
        self.errors: list[FieldError] = []
        self.pricing = Pricing(self.lookup, self.uses, recorder, self.errors)
        self.plan = self.prepared.plan or compile_plan(policy)

    # ── the decision ───────────────────────────────────────────────────────
    def decide(self) -> Decision:
        p, look = self.person, self.lookup
        self.scheme_start, self.scheme_version = look.scheme_start(self.as_of)
        self.scheme_keys = {self.uses.use(self.scheme_version, "eligibility.required_years",
                                          show(self.scheme_start))} if self.scheme_version else set()
        self.pension_age, self.full_years, enrolment_age, enrolment_rule = self.scheme_constants()
        self.enrolment_day = dates.anniversary(p.birth_date, enrolment_age)
        self.rec.consulted(enrolment_rule)
        self.pension_age_birthday = dates.anniversary(p.birth_date, self.pension_age)
        self.pension_month = dates.first_of_next_month(self.pension_age_birthday)
        self.age_at_start = dates.age_on(p.birth_date, self.scheme_start)
        self.required = mechanics.required_years(DATES, self.age_at_start, self.pension_age, self.full_years,
                                                 self.pension_age_birthday.year, self.scheme_start.year)
        rows = self.contributions()
        self.start, self.route, self.route_version = self.pension_start(rows)
        self.eligible = self.start is not None
        rows = self.before_start(rows)
        if self.errors:
            unique = list({e.pointer: e for e in reversed(self.errors)}.values())[::-1]
            raise InvalidRecord(say("record.invalid"), unique)
        for row in rows:
            row.counted = row.day <= self.as_of
        self.rows = rows
        self.status = self.status_of()
        self.counted_years = mechanics.counted_years(DATES, sum(1 for r in rows if r.counted), self.required,
                                                     self.full_years)
        self.continuous_years = self.longest_run(rows)
        account = self.account(rows)
        pension = self.monthly_pension(account)
        death = self.death(account)
        return self.decision(rows, account, pension, death)

    def scheme_constants(self) -> tuple[int, int, int, model.Version | None]:
        """(pension age, full contribution years, enrolment age, the enrolment-age rule) on the as-of date: where
        no version in force then depends on the person's facts, a pure function of the policy version and the
        day, kept in its prepared memo."""
        memo = self.prepared.scheme_constants
        found = memo.get(self.as_of)
        if found is None:
            look, day = self.lookup, self.as_of
            found = (int(look.constant("pension_age", day)), int(look.constant("full_contribution_years", day)),
                     int(look.constant("enrolment_age", day)), look.value("enrolment_age", day))
            if all(v.condition is None for name in ("pension_age", "full_contribution_years", "enrolment_age")
                   for v in self.policy.versions_at(name, day)):
                memo.put(day, found)
        return found

    # ── contributions ──────────────────────────────────────────────────────
    def fail(self, record: Record, field: str, detail: Text) -> None:
        self.errors.append(FieldError(pointer("person", "contributions", record.index, field), detail))

    def contributions(self) -> list[_Row]:
        rows, years, valid = [], {}, []
        scheme_start, enrolment_day = self.scheme_start, self.enrolment_day
        earliest_back_year = mechanics.earliest_back_payment_year(DATES, scheme_start.year, enrolment_day.year)
        death = self.person.death_date
        given_start = self.person.pension_start_date
        record_problem = mechanics.record_problem
        for record in self.person.contributions:
            year, date = record.year, record.date
            if year in years:
                self.fail(record, "year", say("record.second", year=year, first=years[year]))
                continue
            years[year] = record.index
            regular = record.kind == "regular"
            day, problem = record_problem(DATES, regular, date is not None, date, year, scheme_start,
                                          earliest_back_year, enrolment_day, own=_record_day(regular, date, year))
            if problem:
                self.record_problem(record, day, problem)
                continue
            if death and day > death:
                self.fail(record, "date", say("record.after-death", day=day, death=death,
                                              undated=say("record.undated-death") if date is None else NOTHING))
                continue
            if given_start and day > given_start:
                self.fail(record, "date", say("record.after-pension-start", day=day, start=given_start,
                                              undated=say("record.undated-pension-start") if date is None else NOTHING))
                continue
            valid.append((year, record, day))
        # priced in year order: an item paid for at most N years goes to the first N years that earn it (a year
        # is never twice among them, so the order never compares the records themselves)
        valid.sort(key=_first)
        price = self.pricing.price
        for _, record, day in valid:
            priced = price(record, day)
            if priced is not None:
                collective = record.collective
                rows.append(_Row(record, day, priced, priced.credited_fen + fen_of(collective) if collective
                                 else priced.credited_fen))
        return rows

    def record_problem(self, record: Record, day: dt.date, problem: int) -> None:
        """The words for a record the mechanics refused (engine.core.mechanics.record_problem's codes)."""
        year = record.year
        if problem == mechanics.WRONG_YEAR:
            self.fail(record, "date", say("record.wrong-year", year=year, day=day))
        elif problem == mechanics.UNDATED_BACK_PAYMENT:
            self.fail(record, "date", say("record.undated-back-payment", year=year))
        elif problem == mechanics.BACK_PAYMENT_IN_ITS_YEAR:
            self.fail(record, "date", say("record.back-payment-in-year", year=year))
        elif problem == mechanics.BACK_PAYMENT_TOO_EARLY:
            by_scheme = self.scheme_start.year >= self.enrolment_day.year
            earliest = max(self.scheme_start.year, self.enrolment_day.year)
            self.fail(record, "year", say("record.back-payment-too-early", year=year, earliest=earliest,
                                          limit=say("record.scheme-start-year" if by_scheme else "record.year-16")))
        elif problem == mechanics.BEFORE_SCHEME_START:
            self.fail(record, "date", say("record.before-scheme-start", day=day, start=self.scheme_start))
        else:
            self.fail(record, "date", say("record.before-16", day=day, birthday=self.enrolment_day))

    # ── eligibility ────────────────────────────────────────────────────────
    def pension_start(self, rows: list[_Row]) -> tuple[dt.date | None, str | None, model.Version | None]:
        """(start, route, the rule of that route): the earliest day any route allows (engine.core.mechanics' routes;
        the first of equals)."""
        if self.person.pension_start_date:
            return self.person.pension_start_date, "given", None
        look, never = self.lookup, DATES.never
        aged = self.age_at_start >= self.pension_age
        if aged:
            candidates = [(mechanics.age_start(DATES, aged, self.scheme_start, self.pension_month),
                           "pension_age_at_start", look.rule("pension_age", self.as_of))]
        else:
            as_of = self.as_of
            paid = sorted([r.day for r in rows if r.day <= as_of])
            met = paid[self.required - 1] if 0 < self.required <= len(paid) else never
            candidates = [(mechanics.payment_start(DATES, aged, self.required, met, self.pension_month), "payment",
                           look.rule("full_contribution_years", self.as_of))]
        for name, version, group, rule_start, rule_end in self.prepared.early_routes if self.person.groups else ():
            for m in self.person.groups:
                if m.group == group:
                    candidates.append((mechanics.early_start(DATES, rule_start, rule_end, self.pension_month, m.start,
                                                             m.end or never, self.as_of),
                                       f"early_start:{name}", version))
        found = min(candidates, key=_first)
        if found[0] == never:
            return None, None, look.rule("full_contribution_years", self.as_of)
        return found

    def before_start(self, rows: list[_Row]) -> list[_Row]:
        """Records after a worked-out pension start are refused (a given start was checked with the records)."""
        if self.start is None or self.person.pension_start_date or all(row.day <= self.start for row in rows):
            return rows
        kept = []
        for row in rows:
            if row.day > self.start:
                self.fail(row.record, "date", say("record.after-pension-start", day=row.day, start=self.start,
                                                  undated=say("record.undated-pension-start")
                                                  if row.record.date is None else NOTHING))
            else:
                kept.append(row)
        return kept

    def status_of(self) -> str:
        p = self.person
        started = self.start is not None and self.start <= self.as_of
        code = mechanics.status(DATES, bool(p.death_date and p.death_date <= self.as_of), started,
                                dates.age_on(p.birth_date, self.as_of) < self.pension_age,
                                self.eligible and self.start > self.as_of)
        return mechanics.STATUSES[code]

    def longest_run(self, rows: list[_Row]) -> int:
        """The most counted regular years in a row (`rows` are in year order, each year at most once)."""
        best = run = 0
        last = None
        for r in rows:
            if r.counted and r.record.kind == "regular":
                year = r.record.year
                run = run + 1 if year - 1 == last else 1
                last = year
                if run > best:
                    best = run
        return best

    # ── the account ────────────────────────────────────────────────────────
    def account(self, rows: list[_Row]) -> dict:
        opening = self.person.opening_balance
        credits = [r for r in rows if r.counted and not (opening and r.day <= opening[1])]
        death = self.person.death_date
        started_by = min(self.as_of, death) if death else self.as_of
        started = self.start is not None and self.start <= started_by
        death = death if self.status == "deceased" else None
        info = {"started": started, "credits": credits}
        if started:
            at_start, at_start_step = self.balance_on(credits, opening, self.start, "balance_at_pension_start")
            divisor = self.lookup.rule("account_divisor", self.start)
            ratio = Decimal(divisor.figure).as_integer_ratio()
            monthly = mechanics.account_pension(fen_of(at_start), ratio)
            months = dates.months_inclusive(self.start, death or self.as_of)
            balance = Decimal(mechanics.balance_after_start(DATES, fen_of(at_start), monthly, months)) / 100
            monthly = Decimal(monthly) / 100
            info.update(at_start=at_start, at_start_step=at_start_step, balance=balance,
                        balance_step=self.rec.balance_after_start(balance, at_start, monthly, months, divisor,
                                                                  at_start_step))
        else:
            balance, step = self.balance_on(credits, opening, death or self.as_of, "account_balance")
            info.update(at_start=ZERO, at_start_step=None, balance=balance, balance_step=step)
        return info

    def balance_on(self, credits: list[_Row], opening, day: dt.date, id: str):
        """The account on `day`: credits on their dates, interest at the very end of each 31 December (fen)."""
        if opening:
            first, balance = opening[1].year + 1, fen_of(opening[0])
        elif credits:
            first, balance = min(r.day.year for r in credits), 0
        else:
            return ZERO, self.rec.empty_balance(id, self.lookup.rule("interest_rate", self.as_of))
        fields = _STARTED_FIELDS if id == "balance_at_pension_start" else _BALANCE_FIELDS
        quiet = self.quiet
        steps = [self.rec.opening_balance(opening[0], opening[1])] if opening else []
        credited: dict[int, int] = {}  # fen credited in each year, up to `day`
        by_year: dict[int, list[_Row]] = {}  # the credits of each year, for their steps
        for r in credits:
            if r.day <= day:
                year = r.day.year
                credited[year] = credited.get(year, 0) + r.credited_fen
                if not quiet:
                    by_year.setdefault(year, []).append(r)
        rates = self.prepared.interest_rates
        told = None  # the rate last told to the ledger of uses (years in a row share one; telling it again adds nothing)
        last = day.year
        yearly_interest = mechanics.yearly_interest
        for year in range(first, last):  # every year before `day`'s: its credits, then its interest
            start_balance = balance
            balance += credited.get(year, 0)
            if not quiet:
                steps.extend(r.priced.step for r in by_year.get(year, ()))
            version, ratio = rates.get(year) or self.interest_rate(year)
            if version is None:
                continue
            interest = yearly_interest(start_balance, ratio)
            balance += interest
            if start_balance:
                if version is not told:
                    self.uses.use(version, fields)
                    told = version
                if not quiet:
                    steps.append(self.rec.interest(year, version, Decimal(start_balance) / 100,
                                                   Decimal(interest) / 100))
        if first <= last:  # `day`'s year: its credits up to `day`, no interest yet
            balance += credited.get(last, 0)
            if not quiet:
                steps.extend(r.priced.step for r in by_year.get(last, ()))
        amount = Decimal(balance) / 100
        return amount, self.rec.balance(id, amount, day, self.lookup.rule("interest_rate", day), steps)

    def interest_rate(self, year: int) -> tuple[model.Version | None, tuple[int, int] | None]:
        """(version, rate as a ratio) of the interest credited at the end of `year`; where no version in force
        then depends on the person's facts, a pure function of the policy version and the year, kept in its
        prepared memo."""
        memo = self.prepared.interest_rates
        found = memo.get(year)
        if found is None:
            day = dates.year_end(year)
            version = self.lookup.value("interest_rate", day)
            found = (version, Decimal(version.figure).as_integer_ratio() if version is not None else None)
            if all(v.condition is None for v in self.policy.versions_at("interest_rate", day)):
                memo.put(year, found)
        return found

    # ── the monthly pension ────────────────────────────────────────────────
    def monthly_pension(self, account: dict) -> dict:
        env = PersonFormulas(self, account)
        parts, steps, total, components = [], [], ZERO, []
        for c in self.plan.components:
            amount, step = env.component(c, self.status == c.formula.paid_while)
            parts.append((c.name, amount))
            components.append(Component(c.name, amount, c.label_zh))
            steps.append(step)
            total += amount.total
        return {"step": self.rec.monthly_pension(total, parts, steps),
                "answer": MonthlyPension(total, tuple(components))}

    # ── death ──────────────────────────────────────────────────────────────
    def death(self, account: dict) -> dict:
        if self.status != "deceased":
            return {"funeral_grant": ZERO, "inheritable_balance": ZERO, "step": None}
        day = self.person.death_date
        grant, grant_step = ZERO, None
        needs_pension = self.lookup.value("funeral_grant_needs_pension", day)
        if not account["started"]:
            self.rec.consulted(needs_pension)  # it decides whether a grant is paid before any pension
        by_rule = not account["started"] and needs_pension is not None and needs_pension.figure is False
        if account["started"] or by_rule:
            if by_rule:  # the region's rule, not the pension, is why the grant is paid: its status travels with it
                self.uses.use(needs_pension, "death.funeral_grant")
            version = self.lookup.value("funeral_grant", day)
            self.rec.consulted(version)  # a grant of 0.00 is a figure too
            if version is not None and version.figure:
                grant = version.figure
                self.uses.use(version, "death.funeral_grant")
                grant_step = self.rec.funeral_grant(version, grant)
        balance = inheritable = account["balance"]
        excluded = None
        rule = self.lookup.value("subsidy_inheritable", day)
        if rule is not None and rule.figure is False:
            self.uses.use(rule, "death.inheritable_balance")
            excluded = sum((r.priced.subsidy.total for r in account["credits"] if r.day <= day), ZERO)
            inheritable = max(inheritable - excluded, ZERO)
        inheritable_step = self.rec.inheritable(rule, inheritable, balance, excluded)
        return {"funeral_grant": grant, "inheritable_balance": inheritable,
                "step": self.rec.death(grant + inheritable, (grant_step, inheritable_step))}

    # ── the result ─────────────────────────────────────────────────────────
    def tier_options(self) -> tuple[TierOption, ...]:
        if self.status not in ("contributing", "not_eligible"):
            return ()
        if self.as_of < self.enrolment_day or self.as_of < self.scheme_start:
            return ()
        return tuple(TierOption(*option) for option in self.pricing.options(self.as_of))

    def contribution_range(self) -> tuple[Decimal, Decimal] | None:
        """contract.md: a region of free amounts carries the range open on the as-of date beside its options."""
        if self.status not in ("contributing", "not_eligible"):
            return None
        found = self.pricing.amount_range(self.as_of)
        return (found.low, found.high) if found else None

    def decision(self, rows: list[_Row], account: dict, pension: dict, death: dict) -> Decision:
        # The unconfirmed figures a counted record used reach the account; records share their keys (one `Priced`
        # for everyone paying the same on the same day), so each distinct set is attached once.
        counted_keys = {r.priced.uses for r in rows if r.counted and r.priced.uses}
        if counted_keys:
            self.uses.attach(frozenset().union(*counted_keys),
                             _STARTED_FIELDS if account["started"] else _BALANCE_FIELDS)
        if self.route in ("payment", "pension_age_at_start"):
            self.uses.attach(self.scheme_keys, "eligibility.pension_start_date")
        if self.route and self.route.startswith("early_start"):
            self.uses.use(self.route_version, "eligibility.pension_start_date")
        tier_options = self.tier_options()  # before the list of unconfirmed figures: the options use figures too
        eligibility = Eligibility(self.eligible, self.required, self.counted_years, self.continuous_years,
                                  self.start if self.eligible else None, tuple(self.reasons()))
        contribution_range = self.contribution_range() if tier_options else None
        uses_unconfirmed = _unconfirmed_uses(self.prepared, self.uses.listed())
        return Decision(  # by position, in the order of its fields (made for every answer)
            self.policy.region, self.policy.digest, self.as_of, self.person.id, self.status, eligibility,
            pension["answer"], tuple([_contribution_row(self.prepared, r) for r in rows]),
            Account(account["balance"], account["at_start"]),
            Death(death["funeral_grant"], death["inheritable_balance"]),
            tier_options, uses_unconfirmed, self.explanation(pension, account, death) if self.rec.active else None,
            contribution_range)

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
        version = self.route_version
        layer = self.policy.layer_of(version) or self.policy.definition(version.name)
        since = version.start.strftime("%Y-%m") if version.start else None
        if zh:
            groups = "、".join(self.policy.group_label(g, "zh") for g in layer.for_groups)
            return (f"{groups}年满 {self.pension_age} 周岁未领取的，直接领取基础养老金" +
                    (f"（{since} 规定）" if since else ""))
        return (f"{', '.join(layer.for_groups)} aged {self.pension_age}+ without a pension draws the basic pension"
                + (f" ({since} rule)" if since else ""))

    def explanation(self, pension: dict, account: dict, death: dict):
        rec = self.rec
        full = self.lookup.rule("full_contribution_years", self.as_of)
        required = rec.required_years(self.required, full, rec.scheme_start(self.scheme_start, self.scheme_version),
                                      self.age_at_start, self.pension_age, self.pension_age_birthday.year,
                                      self.scheme_start.year)
        counted = rec.counted_years(self.counted_years, full, sum(1 for r in self.rows if r.counted), self.required)
        eligibility = rec.eligibility(self.start, self.route_version, "；".join(self.reasons(zh=self.lang == "zh")),
                                      (required, counted))
        first = self.policy.formulas[self.policy.components[0]]
        return rec.whole(pension["step"], first, (eligibility, account["balance_step"], death["step"]))


_RECORD_DAYS = Memo()  # (regular, date, year) → mechanics.record_day: records repeat the same few dates and years


def _record_day(regular: bool, date: dt.date | None, year: int) -> tuple[dt.date, int]:
    """`mechanics.record_day` of a record, a pure function of it, kept in a bounded memo (an undated record is
    judged as dated 31 December of its year, which its problems never name)."""
    key = (regular, date, year)
    found = _RECORD_DAYS.get(key)
    if found is None:
        found = mechanics.record_day(DATES, regular, date is not None, date or dates.year_end(year), year)
        _RECORD_DAYS.put(key, found)
    return found


def _unconfirmed_uses(prepared: Prepared, listed: list[dict]) -> tuple[UnconfirmedUse, ...]:
    """The answer's `uses_unconfirmed`: each entry a pure function of the policy line, its texts and the fields
    it reached, the same few again and again for a region; kept in the policy version's prepared memo."""
    memo = prepared.unconfirmed_uses
    out = []
    for u in listed:
        key = (u["file"], u["line"], u["value"], u["text_zh"], u["status"], frozenset(u["used_by"]))
        made = memo.get(key)
        if made is None:
            made = UnconfirmedUse(u["value"], u["status"], tuple(sorted(u["used_by"])), u["file"], u["line"],
                                  u["text_zh"])
            memo.put(key, made)
        out.append(made)
    return tuple(out)


def _contribution_row(prepared: Prepared, r: _Row) -> ContributionRow:
    """The row of the answer for a usable record: a pure function of its figures (one `Priced`, shared through the
    price memo by everyone paying the same on the same day), the record and whether it is counted — kept in the
    prepared memo by the `Priced` and used again while the record's values are the very objects it was made from."""
    record, priced = r.record, r.priced
    key = id(priced) << 1 | r.counted  # one int, no tuple to make and hash
    hit = prepared.contribution_rows.get(key)
    # Shared through the memo, the figures were priced for an equal day, year, kind, tier and collective aid; of
    # those only a Decimal can print otherwise (500 and 500.00): the row is used again for the very same objects.
    if hit is not None and hit[0] is priced and hit[1].tier is record.tier and hit[1].collective is record.collective:
        return hit[1]
    made = ContributionRow(record.year, record.tier, record.kind, r.day, priced.personal, priced.government_paid,
                           priced.subsidy, record.collective, r.counted, priced.rewards, priced.government_by_level)
    prepared.contribution_rows.put(key, (priced, made))
    return made


