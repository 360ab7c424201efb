"""The scheme's named figures (domain.md §2), looked up in one place: the pension age, the enrolment age and the
full contribution years, the interest rate of a year, the account divisor on a day, and the rules of death (the
funeral grant, whether it needs a pension, whether subsidies are inherited). The back ends ask here and name no
figure of the scheme themselves (tests/test_architecture.py); a region gives each figure in its policy files, with
`national`'s as the default.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from engine.core import dates
from engine.core.lookup import Lookup
from engine.language import model

PENSION_AGE, FULL_YEARS, ENROLMENT_AGE = "pension_age", "full_contribution_years", "enrolment_age"
INTEREST_RATE, ACCOUNT_DIVISOR = "interest_rate", "account_divisor"
FUNERAL_GRANT, FUNERAL_GRANT_NEEDS_PENSION, SUBSIDY_INHERITABLE = \
    "funeral_grant", "funeral_grant_needs_pension", "subsidy_inheritable"
CONSTANTS = (PENSION_AGE, FULL_YEARS, ENROLMENT_AGE)
NAMES = (*CONSTANTS, INTEREST_RATE, ACCOUNT_DIVISOR, FUNERAL_GRANT, FUNERAL_GRANT_NEEDS_PENSION, SUBSIDY_INHERITABLE)


def constants(lookup: Lookup, day: dt.date) -> tuple[int, int, int, model.Version | None]:
    """(pension age, full contribution years, enrolment age, the enrolment-age rule) for the person on `day`."""
    return (int(lookup.constant(PENSION_AGE, day)), int(lookup.constant(FULL_YEARS, day)),
            int(lookup.constant(ENROLMENT_AGE, day)), lookup.value(ENROLMENT_AGE, day))


def constants_depend_on_facts(policy: model.Policy, day: dt.date | None = None) -> bool:
    """Whether a version of the constants depends on a person's facts (on `day`, or on any day)."""
    return any(v.condition is not None for name in CONSTANTS
               for v in (policy.versions_at(name, day) if day else policy.all_versions(name)))


def constants_defined(policy: model.Policy) -> bool:
    return all(policy.all_versions(name) for name in CONSTANTS)


def pension_age_rule(lookup: Lookup, day: dt.date) -> model.Version:
    return lookup.rule(PENSION_AGE, day)


def full_years_rule(lookup: Lookup, day: dt.date) -> model.Version:
    return lookup.rule(FULL_YEARS, day)


def interest_rate(lookup: Lookup, year: int) -> tuple[model.Version | None, tuple[int, int] | None]:
    """(version, rate as a ratio) of the interest credited at the end of `year` (none: no interest that year)."""
    version = lookup.value(INTEREST_RATE, dates.year_end(year))
    return version, Decimal(version.figure).as_integer_ratio() if version is not None else None


def interest_depends_on_facts(policy: model.Policy, year: int) -> bool:
    return any(v.condition is not None for v in policy.versions_at(INTEREST_RATE, dates.year_end(year)))


def interest_rate_rule(lookup: Lookup, day: dt.date) -> model.Version:
    return lookup.rule(INTEREST_RATE, day)


def account_divisor(lookup: Lookup, day: dt.date) -> tuple[model.Version, tuple[int, int]]:
    """(version, divisor as a ratio) of the account pension for a start on `day` (139 for a start at 60)."""
    version = lookup.rule(ACCOUNT_DIVISOR, day)
    return version, Decimal(version.figure).as_integer_ratio()


def funeral_grant(lookup: Lookup, day: dt.date) -> model.Version | None:
    return lookup.value(FUNERAL_GRANT, day)


def funeral_grant_needs_pension(lookup: Lookup, day: dt.date) -> model.Version | None:
    return lookup.value(FUNERAL_GRANT_NEEDS_PENSION, day)


def subsidy_inheritable(lookup: Lookup, day: dt.date) -> model.Version | None:
    return lookup.value(SUBSIDY_INHERITABLE, day)
