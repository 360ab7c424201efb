"""The scheme's mechanics (domain.md §2), written once for both back ends.

Each function takes a calendar `cal` — `DATES` for one person (`datetime.date` values, Python ints
and bools) or `DAY_ARRAYS` for a population (numpy arrays of day numbers, ints and bools) — and
computes with it elementwise. The policy's figures come in as arguments; nothing here reads a policy.
Money in the account is integer fen in both back ends (exact; rounded half-up where a rule says so).
"""
from __future__ import annotations

import datetime as dt
import operator
from typing import NamedTuple

import numpy as np

from engine import dates

# Why a record cannot be used, in the order the scalar back end reports them (0: it can).
RECORD_OK, WRONG_YEAR, UNDATED_BACK_PAYMENT, BACK_PAYMENT_IN_ITS_YEAR, BACK_PAYMENT_TOO_EARLY, \
    BEFORE_SCHEME_START, BEFORE_ENROLMENT_AGE = range(7)
STATUSES = ("not_eligible", "contributing", "receiving", "deceased")  # codes 0–3


# ── calendars ──────────────────────────────────────────────────────────────
class _Dates:
    """One person: `datetime.date` values."""

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


EPOCH = dt.date(1970, 1, 1)
FAR = np.int64(10**9)  # "never" as a day number


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def from_day_number(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def ymd(days) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of day numbers (proleptic Gregorian): looked up in a table for the years the rules live in,
    else by numpy's datetime64 calendar (the same figures as H. Hinnant's civil_from_days)."""
    d = np.asarray(days, dtype="int64")
    if _in_table(d):
        table = _table()
        i = d - _TABLE_FIRST
        return table.year[i], table.month[i], table.day[i]
    return _ymd_by_datetime(d)


def years_of(days) -> np.ndarray:
    """Year of day numbers (ymd's first figure, without the month and day)."""
    d = np.asarray(days, dtype="int64")
    if _in_table(d):
        return _table().year[d - _TABLE_FIRST]
    return d.astype("M8[D]").astype("M8[Y]").astype("int64") + 1970


def from_ymd(y, m, d) -> np.ndarray:
    """Day numbers of (year, month, day) arrays (days_from_civil; a day past the month's end runs on into the next)."""
    y, m, d = (np.asarray(v, dtype="int64") for v in (y, m, d))
    if y.size and m.size and _TABLE_YEARS[0] <= y.min() and y.max() <= _TABLE_YEARS[1] and 1 <= m.min() \
            and m.max() <= 12:
        return _table().month_start[(y - _TABLE_YEARS[0]) * 12 + (m - 1)] + (d - 1)
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _ymd_by_datetime(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dates = d.astype("M8[D]")
    month = dates.astype("M8[M]")
    months = month.astype("int64")  # months since 1970-01
    years = months // 12
    return years + 1970, months - years * 12 + 1, (dates - month.astype("M8[D]")).astype("int64") + 1


class _Calendar(NamedTuple):
    year: np.ndarray  # by day number from _TABLE_FIRST
    month: np.ndarray
    day: np.ndarray
    month_start: np.ndarray  # day number of the first of each month from January of _TABLE_YEARS[0]


_TABLE_YEARS = (1800, 2299)  # births from 1900, anniversaries a century on, dates to 2100, with room
_TABLE_FIRST = int((np.datetime64(f"{_TABLE_YEARS[0]}-01-01") - np.datetime64("1970-01-01")).astype("int64"))
_TABLE_LAST = int((np.datetime64(f"{_TABLE_YEARS[1]}-12-31") - np.datetime64("1970-01-01")).astype("int64"))
_CALENDAR: list = []


def _table() -> _Calendar:
    if not _CALENDAR:
        year, month, day = _ymd_by_datetime(np.arange(_TABLE_FIRST, _TABLE_LAST + 1, dtype="int64"))
        starts = np.arange(np.datetime64(f"{_TABLE_YEARS[0]}-01"), np.datetime64(f"{_TABLE_YEARS[1] + 1}-01"),
                           dtype="M8[M]").astype("M8[D]").astype("int64")
        _CALENDAR.append(_Calendar(year, month, day, starts))
    return _CALENDAR[0]


def _in_table(d: np.ndarray) -> bool:
    return bool(d.size) and _TABLE_FIRST <= d.min() and d.max() <= _TABLE_LAST


def _leap(y) -> np.ndarray:
    return (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))


class _DayArrays:
    """A population: numpy arrays of day numbers (engine.dates' rules, vectorised)."""

    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    not_ = staticmethod(np.logical_not)

    @staticmethod
    def first_of(codes_and_conditions, otherwise):
        """Elementwise, the code of the first condition that holds (small codes in one byte each)."""
        values = [value for value, _ in codes_and_conditions] + [otherwise]
        small = all(-128 <= v < 128 for v in values)
        code = np.full(np.broadcast_shapes(*(np.shape(c) for _, c in codes_and_conditions)), otherwise,
                       dtype="int8" if small else "int64")
        for value, condition in reversed(codes_and_conditions):
            np.copyto(code, value, where=np.asarray(condition, dtype=bool))
        return code

    @staticmethod
    def year_of(days):
        return years_of(days)

    @staticmethod
    def year_end(years):
        return from_ymd(years, 12, 31)

    @staticmethod
    def first_of_month(days):
        y, m, _ = ymd(days)
        return from_ymd(y, m, 1)

    @staticmethod
    def first_of_next_month(days):
        y, m, _ = ymd(days)
        return from_ymd(y + (m == 12), m % 12 + 1, 1)

    @classmethod
    def first_of_month_on_or_after(cls, days):
        return np.where(ymd(days)[2] == 1, days, cls.first_of_next_month(days))

    @staticmethod
    def months_inclusive(start, end):
        sy, sm, _ = ymd(start)
        ey, em, _ = ymd(end)
        return np.maximum((ey - sy) * 12 + em - sm + 1, 0)

    @staticmethod
    def anniversary(by, bm, bd, years: int):
        """Year, month, day of the birthday `years` on: 29 February falls on 1 March in common years."""
        y = by + years
        moved = (bm == 2) & (bd == 29) & ~_leap(y)
        return y, np.where(moved, 3, bm), np.where(moved, 1, bd)

    @staticmethod
    def age_on(by, bm, bd, y, m, d):
        """Completed years (周岁) on (y, m, d)."""
        moved = (bm == 2) & (bd == 29) & ~_leap(y)
        am, ad = np.where(moved, 3, bm), np.where(moved, 1, bd)
        return y - by - ((am * 100 + ad) > (m * 100 + d))


DATES = _Dates()
DAY_ARRAYS = _DayArrays()


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
