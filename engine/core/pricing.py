"""Pricing a contribution record (domain.md §2): the tier table open that day, 代缴 for the person's
groups, the subsidies by funding level and the rewards — one definition for both back ends (the
population back end prices each distinct record once, through a probe person's `Lookup`).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from engine.core import mechanics
from engine.core.explain import NoTrace, Trace
from engine.core.lookup import Lookup, Uses
from engine.core.money import ZERO, Amount, fmt, round_fen
from engine.core.person import Record
from engine.core.prepared import Prepared, prepare
from engine.core.trace import Step
from engine.language import model
from engine.language.catalogue import say
from engine.language.errors import FieldError, InvalidInput, pointer
from engine.language.text import Text


@attrs.frozen
class Priced:
    """A record's figures: what the person pays, what government pays for them, subsidies and rewards."""

    tier_row: model.TierRow
    personal: Decimal
    government_paid: Decimal
    subsidy: Amount  # subsidies and rewards, by funding level
    rewards: tuple[tuple[str, Decimal], ...]
    uses: frozenset  # keys of unconfirmed figures used (engine.core.lookup.Uses)
    step: Step | None = None
    government_by_level: tuple[tuple[str, Decimal], ...] = ()  # who pays the 代缴, where the region says so
    capped: tuple[tuple[str, Amount], ...] = ()  # the items paid for at most N years that this record earned
    # What it puts in the account but the collective aid, in fen: made once with the figures, so that a memo hit
    # (many persons paying the same on the same day share one Priced) needs no arithmetic.
    credited_fen: int = attrs.field(init=False)

    def __attrs_post_init__(self):
        object.__setattr__(self, "credited_fen", fen_of(self.credited(ZERO)))

    def credited(self, collective: Decimal) -> Decimal:
        return mechanics.credited(self.personal, self.government_paid, self.subsidy.total, collective)


def fen_of(amount: Decimal) -> int:
    """Fen of an amount the scheme keeps to the fen (the account is kept in integer fen)."""
    fen = amount * 100
    whole = int(fen)
    if whole != fen:
        raise InvalidInput(say("policy.finer-than-fen", amount=amount))
    return whole


class Pricing:
    """Prices records for one person; problems are added to `errors` by JSON pointer."""

    __slots__ = ("lookup", "uses", "rec", "errors", "policy", "prepared", "person", "no_rewards", "caps", "earned",
                 "capped_now", "person_key", "memo")  # read on every record (no instance dict to search)

    def __init__(self, lookup: Lookup, uses: Uses, recorder, errors: list[FieldError]):
        self.lookup, self.uses, self.rec, self.errors = lookup, uses, recorder, errors
        self.policy, self.person = lookup.policy, lookup.person
        self.prepared = uses.prepared
        self.no_rewards = self.prepared.no_rewards
        self.caps = self.prepared.caps
        self.earned: dict[str, int] = {}  # records (in year order) that earned each capped item so far
        self.capped_now: list = []  # (name, amount) of the capped items the record being priced earns
        self.person_key = None  # the part of the memo's key that is the person's (recorder, languages, facts)
        self.memo = self.prepared.prices

    def fail(self, record: Record, field: str, detail: Text) -> None:
        self.errors.append(FieldError(pointer("person", "contributions", record.index, field), detail))

    def tier_table(self, day: dt.date, at: int | None) -> model.Version | None:
        """The tier table for this person on `day`; a missing fact it depends on is reported (record `at`)."""
        for version in self.policy.versions_at("contribution_tiers", day):
            if version.condition is None:
                return version
            fact, wanted = version.condition
            have = self.person.fact(fact)
            if have is None:
                if at is not None:
                    self.errors.append(FieldError(pointer("person", *fact.split(".")),
                                                  say("fact.tiers-depend", fact=fact, day=day, at=at)))
                return None
            if have == wanted:
                return version
        return None

    def daijiao(self, day: dt.date, tier_version: model.Version | None):
        """(amount, version, row): the largest single 代缴 amount stated for the person's groups on `day`."""
        best = (ZERO, None, None)
        memberships = self.person.groups_on(day)
        for version in self.policy.versions_at("daijiao", day):
            for row in version.rows:
                if not any(m.group == row.group and (row.position is None or m.position == row.position)
                           for m in memberships):
                    continue
                amount = row.amount
                if amount is None:  # "the lowest tier", or a share of it
                    amount = _lowest_tier(tier_version)
                    if row.share is not None:
                        amount = round_fen(amount * row.share)
                if amount > best[0]:
                    best = (amount, version, row)
        return best

    def open_tiers(self, table: model.Version, daijiao: bool, held: frozenset) -> dict[Decimal, model.TierRow]:
        """The rows of the tier table open to a person with (or without) 代缴 and holding `held`, by tier."""
        return _open_rows(self.prepared, table, daijiao, held if _kept_for_groups(self.prepared, table) else frozenset())

    def held(self, day: dt.date) -> frozenset:
        return frozenset(m.group for m in self.person.groups_on(day))

    def government_levels(self, row: model.GroupRow | None, paid: Decimal) -> tuple[tuple[str, Decimal], ...]:
        """Who pays the 代缴 amount, where the region says so: the row's level columns (shared pro rata when
        the record is smaller than the 代缴 amount, the remainder of a fen to the last level) or the block's
        `paid by`."""
        if row is None or not paid:
            return ()
        if row.by_level:
            stated = sum((a for _, a in row.by_level), ZERO)
            shares, given = [], ZERO
            for i, (level, a) in enumerate(row.by_level):
                part = paid - given if i == len(row.by_level) - 1 else round_fen(paid * a / stated)
                shares.append((level, part))
                given += part
            return tuple(shares)
        level = self.policy.definition("daijiao").paid_by
        return ((level, paid),) if level else ()

    def price(self, record: Record, day: dt.date) -> Priced | None:
        """The record's figures, or None (with the reason in `errors`).

        Without caps (whose count depends on the records before) a record's figures, and its explanation steps
        (built by a Trace, which keeps nothing between calls), are a pure function of the policy version, the
        day, the record and the facts and groups the policy reads: kept in a bounded memo per policy version,
        and the unconfirmed figures they used told again on a hit. Other recorders (coverage) hear every call.
        """
        recorder = type(self.rec)
        if self.caps or recorder not in _PURE_RECORDERS:
            return self._price(record, day)
        memo = self.memo
        person_key = self.person_key
        if person_key is None:  # the same for each of the person's records: made once, and one number for
            person_key = (recorder, self.rec.lang, self.lookup.lang,  # everyone alike (cheap to hash and compare)
                          tuple(self.person.fact(f) for f in self.prepared.condition_facts))
            tokens = self.prepared.price_person_keys
            token = tokens.get(person_key)
            if token is None:  # never a number given before, even to a key the bounded memo has dropped since
                token = next(self.prepared.person_tokens)
                tokens.put(person_key, token)
            person_key = self.person_key = token
        key = (person_key, day, record.year, record.tier, record.kind, record.collective,
               tuple(sorted((m.group, m.position or "") for m in self.person.groups_on(day)))
               if self.person.groups else ())
        hit = memo.get(key)
        if hit is not None:
            priced, used = hit
            for args in used:
                self.uses.use(*args)
            return priced
        errors, told = len(self.errors), _TellingUses(self.uses)
        self.uses = told
        try:
            priced = self._price(record, day)
        finally:
            self.uses = told.uses
        if priced is not None and len(self.errors) == errors:
            memo.put(key, (priced, tuple(told.calls)))
        return priced

    def _price(self, record: Record, day: dt.date) -> Priced | None:
        table = self.tier_table(day, record.index)
        if table is None:
            if not any(e.pointer.startswith("/person/hukou") for e in self.errors):
                self.fail(record, "tier", say("record.no-tiers", day=day))
            return None
        daijiao_amount, daijiao_version, daijiao_row = self.daijiao(day, table)
        open_rows = _open_rows(self.prepared, table, daijiao_amount > 0,
                               self.held(day) if _kept_for_groups(self.prepared, table) else frozenset())
        tier_row = _row_for(table, open_rows, record.tier)
        if tier_row is None:
            self.fail(record, "tier", _not_open(table, open_rows, record.tier, day))
            return None
        field = f"contributions[{record.year}].subsidy"
        uses = {self.uses.use(table, field)}
        # domain.md §2: a back payment earns no 代缴 and no subsidy of any kind "unless a region says so"
        steps = []
        regular = record.kind == "regular" or self.rule_holds("back_payments_subsidised", day, uses, field, steps)
        government_paid = min(daijiao_amount, record.tier) if regular else ZERO
        if regular and daijiao_version is not None:
            uses.add(self.uses.use(daijiao_version, f"contributions[{record.year}].government_paid",
                                   f"{self.policy.group_label(daijiao_row.group, self.lookup.lang)} "
                                   f"{fmt(daijiao_amount)}"))
            if government_paid:
                steps.append(self.rec.government_paid(daijiao_version, daijiao_row, government_paid, record.tier,
                                                      daijiao_amount, self.government_levels(daijiao_row,
                                                                                             government_paid)))
        # contract.md: a row carries each reward the region defines ("0.00" when none is paid, as on back payments)
        subsidy, rewards = Amount(), self.no_rewards
        self.capped_now = []
        if regular:
            subsidy = Amount(sum((a for _, a in tier_row.subsidy), ZERO), tier_row.subsidy)
            paid = self.capped("contribution_tiers", subsidy, steps)
            if paid is not None:
                steps.append(self.rec.tier_subsidy(table, tier_row, subsidy, record.tier))
            subsidy = paid or Amount()
            subsidy = self.extra_subsidies(record.tier, day, subsidy, uses, field, steps)
            rewards, reward_amount = self.rewards(day, uses, field, steps)
            subsidy = subsidy + reward_amount
        personal = record.tier - government_paid
        step = self.rec.contribution(record, day, personal, government_paid, subsidy, table, steps)
        return Priced(tier_row, personal, government_paid, subsidy, rewards, frozenset(uses), step,
                      self.government_levels(daijiao_row, government_paid), tuple(self.capped_now))

    def capped(self, name: str, amount: Amount, steps: list, counting: bool = True) -> Amount | None:
        """An item paid for at most N years: the first N records in year order that earn it get it (records
        are priced in year order); None once the cap is reached. `counting` off prices without using a year."""
        cap = self.caps.get(name)
        if cap is None or not amount.total:
            return amount
        used = self.earned.get(name, 0)
        if used >= cap:
            steps.append(self.rec.cap(self.policy.definition(name), used, cap, amount))
            return None
        if counting:
            self.earned[name] = used + 1
            self.capped_now.append((name, amount))
            steps.append(self.rec.cap(self.policy.definition(name), used + 1, cap, None))
        return amount

    def rule_holds(self, name: str, day: dt.date, uses: set, field: str, steps: list | None = None) -> bool:
        """A yes/no rule a region may set (its national default otherwise); a policy without it says no. Where it
        holds, `steps` (if given) shows it: the explanation names the rule that made the difference."""
        version = self.lookup.value(name, day)
        if version is None:
            return False
        uses.add(self.uses.use(version, field))
        if version.figure is True and steps is not None:
            steps.append(self.rec.rule(self.policy.definition(name), version, True))
        else:
            self.rec.consulted(version)  # "no" decided it as much as "yes" would have
        return version.figure is True

    def extra_subsidies(self, tier: Decimal, day: dt.date, subsidy: Amount, uses: set, field: str,
                        steps: list, counting: bool = True) -> Amount:
        for name in self.policy.names_of_kind("subsidy"):
            for version in self.policy.versions_at(name, day):
                row = _row_for(version, version.rows, tier)
                if row is None:
                    continue
                extra = self.capped(name, Amount(sum((a for _, a in row.subsidy), ZERO), row.subsidy), steps,
                                    counting)
                if extra is None:
                    continue
                subsidy = subsidy + extra
                uses.add(self.uses.use(version, field))
                steps.append(self.rec.extra_subsidy(name, version, row, extra, tier))
        return subsidy

    def rewards(self, day: dt.date, uses: set, field: str, steps: list, counting: bool = True) -> tuple[tuple, Amount]:
        """Every reward the policy defines (0 when none applies): for each, the largest row the person's groups match."""
        rewards, total = [], Amount()
        memberships = self.person.groups_on(day)
        names = self.policy.names_of_kind("reward")
        add_up = None  # the region's rule, looked up only when several rows match
        for name in names:
            layers = self.policy.definitions[name]
            found, reward_steps = Amount(), []
            for version in self.policy.versions_at(name, day):
                matches = [r for r in version.rows if any(
                    m.group == r.group and (r.position is None or m.position == r.position) for m in memberships)]
                if not matches:
                    continue
                # several matching rows: the largest, or all of them where the region says rewards add up
                if len(matches) > 1 and add_up is None:
                    add_up = self.rule_holds("rewards_add_up", day, uses, field, reward_steps)
                for row in matches if add_up and len(matches) > 1 else [max(matches, key=lambda r: r.amount)]:
                    amount = Amount(row.amount, row.by_level) if row.by_level else \
                        Amount.at(layers[0].paid_by or "province", row.amount)
                    found = found + amount
                    uses.add(self.uses.use(version, field,
                                           f"{self.policy.group_label(row.group, self.lookup.lang)} {fmt(row.amount)}"))
                    reward_steps.append(self.rec.reward(name, version, row, amount))
            paid = self.capped(name, found, steps, counting)
            if paid is not None:
                steps.extend(reward_steps)
                total = total + paid
            rewards.append((name, paid.total if paid is not None else ZERO))
        return tuple(rewards), total

    def amount_range(self, as_of: dt.date) -> model.AmountRange | None:
        """The range of free amounts open on `as_of`, where the tier table in force gives one."""
        table = self.tier_table(as_of, None)
        return table.figure if table is not None and isinstance(table.figure, model.AmountRange) else None

    def options(self, as_of: dt.date) -> tuple[tuple[Decimal, Decimal, Decimal, Decimal], ...]:
        """选档参考: (tier, personal, government paid, subsidy) for each tier open to the person on `as_of`."""
        table = self.tier_table(as_of, None)
        if table is None:
            return ()
        daijiao_amount, daijiao_version, _ = self.daijiao(as_of, table)
        out = []
        for tier_row in sorted(table.rows, key=lambda r: r.tier):
            if not tier_row.open_to(daijiao_amount > 0, self.held(as_of)):
                continue
            uses: set = set()
            subsidy = self.capped("contribution_tiers", Amount(sum((a for _, a in tier_row.subsidy), ZERO),
                                                              tier_row.subsidy), [], counting=False) or Amount()
            subsidy = self.extra_subsidies(tier_row.tier, as_of, subsidy, uses, "tier_options", [], counting=False)
            _, reward = self.rewards(as_of, uses, "tier_options", [], counting=False)
            gov = min(daijiao_amount, tier_row.tier)
            self.uses.use(table, "tier_options")
            self.uses.attach(uses, "tier_options")
            if daijiao_version is not None:
                self.uses.use(daijiao_version, "tier_options")
            out.append((tier_row.tier, tier_row.tier - gov, gov, (subsidy + reward).total))
        return tuple(out)


_PURE_RECORDERS = (NoTrace, Trace)


class _TellingUses:
    """Passes each use on and keeps its arguments, to be told again when the memo answers."""

    def __init__(self, uses: Uses):
        self.uses, self.calls = uses, []

    def use(self, *args) -> tuple:
        if args[0].cite.status in model.UNCONFIRMED:  # a use of a confirmed figure leaves nothing to tell again
            self.calls.append(args)
        return self.uses.use(*args)


def caps_of(policy: model.Policy) -> dict[str, int]:
    """Items paid for at most N years (`at most 15 years` on a tiers, subsidy or reward block)."""
    return prepare(policy).caps


def _lowest_tier(table: model.Version | None) -> Decimal:
    if table is None:
        return ZERO
    if isinstance(table.figure, model.AmountRange):
        return table.figure.low
    return min((r.tier for r in table.rows), default=ZERO)


def _row_for(table: model.Version, rows, amount: Decimal):
    """The row that prices `amount`: its band in a range (or banded) table, else the row of that exact tier.
    `rows` are the table's rows open to the person (a dict by tier, or a sequence)."""
    values = rows.values() if isinstance(rows, dict) else rows
    if isinstance(table.figure, model.AmountRange):
        return model.band_of(values, amount) if table.figure.admits(amount) else None
    if values and next(iter(values)).band:  # a subsidy table by bands of amount
        return model.band_of(values, amount)
    return rows.get(amount) if isinstance(rows, dict) else next((r for r in values if r.tier == amount), None)


def _not_open(table: model.Version, rows: dict, amount: Decimal, day: dt.date) -> Text:
    r = table.figure
    if isinstance(r, model.AmountRange):
        lowest = min(rows, default=r.low)
        step = say("record.range-step", step=fmt(r.step)) if r.step != Decimal("0.01") else Text("", "")
        return say("record.amount-not-open", amount=fmt(amount), day=day, low=fmt(lowest), high=fmt(r.high),
                   step=step)
    return say("record.tier-not-open", tier=fmt(amount), day=day, tiers=", ".join(str(tier) for tier in sorted(rows)))


def _kept_for_groups(prepared: Prepared, table: model.Version) -> frozenset:
    """The groups some tier of the table is kept for (`仅限 低保对象 …`), once per table."""
    groups = prepared.kept_for.get(table.span)
    if groups is None:
        groups = prepared.kept_for[table.span] = frozenset(g for r in table.rows for g in r.only_groups)
    return groups


def _open_rows(prepared: Prepared, table: model.Version, daijiao: bool,
               held: frozenset) -> dict[Decimal, model.TierRow]:
    """The rows of a tier table open to a person (a tier kept for 代缴 persons or some groups only to them), by
    tier; worked out once per table, policy and the groups that matter to the table."""
    key = (table.span, table.condition, daijiao, held & _kept_for_groups(prepared, table))
    rows = prepared.open_tiers.get(key)
    if rows is None:
        rows = prepared.open_tiers[key] = {r.tier: r for r in table.rows if r.open_to(daijiao, held)}
    return rows
