"""The typed result of an evaluation: a `Decision` and its parts (frozen values).

Each evaluation builds a dozen or more of these (a row per contribution record): they are frozen attrs classes
without slots, whose generated `__init__` fills the instance dict directly, about twice as fast as the
per-attribute `object.__setattr__` of a frozen slotted class.

`engine.core.one_person` builds it; `engine.core.render` turns it into contract.md's JSON and the text a
caseworker reads; the API, the CLI, the case runner, batch and impact read its fields.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from engine.core import mechanics
from engine.core.money import Amount
from engine.core.trace import Step


@attrs.frozen(slots=False)
class Eligibility:
    eligible: bool
    required_years: int
    counted_years: int
    continuous_years: int
    pension_start_date: dt.date | None
    reasons: tuple[str, ...]  # canonical English (machine-facing); the explanation carries the Chinese


@attrs.frozen(slots=False)
class Component:
    """One part of the monthly pension, as named by the policy's `component`."""

    id: str
    amount: Amount
    label_zh: str = ""  # the policy's name for it, for the text a caseworker reads (JSON carries the id)


@attrs.frozen(slots=False)
class MonthlyPension:
    total: Decimal
    components: tuple[Component, ...]

    def component(self, id: str) -> Component | None:
        return next((c for c in self.components if c.id == id), None)


@attrs.frozen(slots=False)
class ContributionRow:
    """A valid contribution record with its figures: what the person paid, what was paid for them."""

    year: int
    tier: Decimal
    kind: str
    date: dt.date
    personal: Decimal
    government_paid: Decimal
    subsidy: Amount
    collective: Decimal
    counted: bool
    rewards: tuple[tuple[str, Decimal], ...] = ()  # every reward the policy defines: (name, amount)
    government_by_level: tuple[tuple[str, Decimal], ...] = ()  # who pays the 代缴, where the region says so

    @property
    def credited(self) -> Decimal:
        return mechanics.credited(self.personal, self.government_paid, self.subsidy.total, self.collective)


@attrs.frozen(slots=False)
class Account:
    balance: Decimal
    balance_at_pension_start: Decimal


@attrs.frozen(slots=False)
class Death:
    funeral_grant: Decimal
    inheritable_balance: Decimal


@attrs.frozen(slots=False)
class TierOption:
    """What a tier would cost and earn this year (选档参考)."""

    tier: Decimal
    personal: Decimal
    government_paid: Decimal
    subsidy: Decimal


@attrs.frozen(slots=False)
class UnconfirmedUse:
    """A proposal or provisional figure (or rule) the decision used, and the fields it reached."""

    value: str  # canonical: region, English label, figure (machine-facing, contract.md)
    status: str
    used_by: tuple[str, ...]
    file: str
    line: int
    text_zh: str = ""  # the same in Chinese, for the text and pages


@attrs.frozen(slots=False)
class Decision:
    region: str
    policy_version: str
    as_of: dt.date
    person_id: str | None
    status: str  # one of engine.core.mechanics.STATUSES
    eligibility: Eligibility
    monthly_pension: MonthlyPension
    contributions: tuple[ContributionRow, ...]
    account: Account
    death: Death
    tier_options: tuple[TierOption, ...]
    uses_unconfirmed: tuple[UnconfirmedUse, ...]
    explanation: Step | None = None
    contribution_range: tuple[Decimal, Decimal] | None = None  # a region of free amounts: (lowest, highest)
