"""The scheme's mechanics (domain.md §2), written once for both back ends.

Each function takes a calendar `cal` — `DATES` for one person (`datetime.date` values, Python ints
and bools) or `engine.columns.days.DAY_ARRAYS` for a population (numpy arrays of day numbers, ints
and bools) — and computes with it elementwise. The policy's figures come in as arguments; nothing here reads a policy.
Money in the account is integer fen in both back ends (exact; rounded half-up where a rule says so).
"""
from __future__ import annotations

import datetime as dt
import operator

from engine.core import dates

# Why a record cannot be used, in the order the scalar back end reports them (0: it can).
RECORD_OK, WRONG_YEAR, UNDATED_BACK_PAYMENT, BACK_PAYMENT_IN_ITS_YEAR, BACK_PAYMENT_TOO_EARLY, \
    BEFORE_SCHEME_START, BEFORE_ENROLMENT_AGE = range(7)
STATUSES = ("not_eligible", "contributing", "receiving", "deceased")  # codes 0–3


# ── calendars ──────────────────────────────────────────────────────────────
class _Dates:
    """One person: `datetime.date` values."""

    never = dt.date.max  # a day no route reaches (a start that never comes)

    @staticmethod
    def where(condition, a, b):
        return a if condition else b

    minimum = staticmethod(min)
    maximum = staticmethod(max)

    not_ = staticmethod(operator.not_)

    @staticmethod
    def first_of(codes_and_conditions, otherwise):
        """The code of the first condition that holds."""
        for code, condition in codes_and_conditions:
            if condition:
                return code
        return otherwise

    year_of = staticmethod(operator.attrgetter("year"))
    year_end = staticmethod(dates.year_end)
    first_of_month = staticmethod(dates.first_of_month)
    first_of_next_month = staticmethod(dates.first_of_next_month)
    first_of_month_on_or_after = staticmethod(dates.first_of_month_on_or_after)
    months_inclusive = staticmethod(dates.months_inclusive)


DATES = _Dates()


# ── eligibility ────────────────────────────────────────────────────────────
def required_years(cal, age_at_scheme_start, pension_age, full_years, pension_birthday_year, scheme_start_year):
    """Contribution years required: none for those of pension age at the scheme start; otherwise the years
    from the scheme start to the pension-age birthday, at most the full requirement (15)."""
    return cal.where(age_at_scheme_start >= pension_age, 0,
                     cal.minimum(full_years, pension_birthday_year - scheme_start_year))


def start_by_age(cal, scheme_start, pension_month):
    """Of pension age at the scheme start: from the scheme's first month, not before the pension month."""
    return cal.maximum(cal.first_of_month(scheme_start), pension_month)


def start_by_payment(cal, met, pension_month):
    """Required years paid (the last of them on `met`): from the pension month, or the month after `met`."""
    return cal.where(met < pension_month, pension_month, cal.first_of_next_month(met))


def early_start_day(cal, rule_start, pension_month, member_from):
    """An early-start route (e.g. registered poor): the first day its rule, the age and the membership allow."""
    return cal.maximum(cal.maximum(rule_start, pension_month), cal.first_of_month_on_or_after(member_from))


# The routes to a pension start (domain.md §2): each gives the day it allows, `cal.never` where it allows none; the
# pension starts on the earliest (a given start date aside).
def age_start(cal, aged_at_scheme_start, scheme_start, pension_month):
    """Of pension age at the scheme start: the basic pension without paying (start_by_age)."""
    return cal.where(aged_at_scheme_start, start_by_age(cal, scheme_start, pension_month), cal.never)


def payment_start(cal, aged_at_scheme_start, required, met, pension_month):
    """The payment route: from the pension month where nothing is required; else once the required years are paid,
    the last of them on `met` (`cal.never` where fewer were paid by the as-of date). Not the route of those of pension
    age at the scheme start."""
    paid = cal.where(met == cal.never, pension_month, met)  # (any day where never: its start is not taken)
    by_payment = cal.where(met == cal.never, cal.never, start_by_payment(cal, paid, pension_month))
    return cal.where(aged_at_scheme_start, cal.never, cal.where(required == 0, pension_month, by_payment))


def early_start(cal, rule_start, rule_end, pension_month, member_from, member_to, as_of):
    """An early-start route for a member of its group (e.g. registered poor): its first day (early_start_day), while
    the membership, the rule's period and the as-of date allow it."""
    day = early_start_day(cal, rule_start, pension_month, member_from)
    allowed = (day <= member_to) & (rule_start <= day) & (day <= rule_end) & (day <= as_of)
    return cal.where(allowed, day, cal.never)


def earliest_back_payment_year(cal, scheme_start_year, enrolment_year):
    """A back payment may be for a year from the scheme start and the enrolment age on."""
    return cal.maximum(scheme_start_year, enrolment_year)


def record_day(cal, regular, dated, date, year):
    """(judging day, problem code) of what a record says by itself: a regular record is judged on its date (31
    December if undated) within its year; a back payment on the day it was paid, after its year. `date` of an
    undated record may be anything of the right type. A pure function of the record (the person back end keeps it)."""
    year_end = cal.year_end(year)
    back, undated = cal.not_(regular), cal.not_(dated)
    day = cal.where(regular & undated, year_end, date)
    return day, cal.first_of((  # the first that holds is the one reported
        (WRONG_YEAR, regular & dated & (cal.year_of(date) != year)),
        (UNDATED_BACK_PAYMENT, back & undated),
        (BACK_PAYMENT_IN_ITS_YEAR, back & dated & (date <= year_end)),
    ), RECORD_OK)


def person_record_problem(cal, regular, year, day, scheme_start, earliest_back_year, enrolment_day):
    """The problem code of a record (judged on `day`) that the person's own dates refuse: a back payment for a
    year before `earliest_back_year`, a day before the scheme start or before the enrolment age."""
    return cal.first_of((
        (BACK_PAYMENT_TOO_EARLY, cal.not_(regular) & (year < earliest_back_year)),
        (BEFORE_SCHEME_START, day < scheme_start),
        (BEFORE_ENROLMENT_AGE, day < enrolment_day),
    ), RECORD_OK)


def record_problem(cal, regular, dated, date, year, scheme_start, earliest_back_year, enrolment_day, own=None):
    """(judging day, problem code) of a contribution record: what it says by itself (`record_day`, or `own` when
    the caller kept it), then what the person's dates refuse (`person_record_problem`); the first problem is the
    one reported."""
    day, code = own if own is not None else record_day(cal, regular, dated, date, year)
    return day, cal.where(code != RECORD_OK, code, person_record_problem(cal, regular, year, day, scheme_start,
                                                                         earliest_back_year, enrolment_day))


def counted_years(cal, records_counted, required, full_years):
    """Years counted towards the pension: capped at the full requirement only when less is required."""
    return cal.where(required < full_years, cal.minimum(records_counted, full_years), records_counted)


def status(cal, deceased, started, under_pension_age, starts_later):
    """Status code (see STATUSES): deceased, receiving, contributing (young, or a start still to come), not eligible."""
    return cal.where(deceased, 3, cal.where(started, 2, cal.where(under_pension_age | starts_later, 1, 0)))


# ── the account (integer fen) ─────────────────────────────────────────────
def credited(personal, government_paid, subsidy_total, collective):
    """What a record puts in the account: the person's part, 代缴, subsidies and rewards, collective aid."""
    return personal + government_paid + subsidy_total + collective


def yearly_interest(balance_fen, rate_ratio: tuple[int, int]):
    """Interest on the balance at the start of a year, credited at the end of 31 December (half-up to the fen)."""
    num, den = rate_ratio
    return (2 * balance_fen * num + den) // (2 * den)


def account_pension(balance_fen, divisor_ratio: tuple[int, int]):
    """The monthly account pension: the balance at the pension start over the divisor (139), half-up to the fen."""
    num, den = divisor_ratio
    return (2 * balance_fen * den + num) // (2 * num)


def balance_after_start(cal, at_start_fen, monthly_fen, months):
    """What remains of the account after `months` monthly account pensions (never below zero)."""
    return cal.maximum(at_start_fen - monthly_fen * months, 0)
