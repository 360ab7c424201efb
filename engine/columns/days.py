"""The population's calendar (engine.core.mechanics' `cal` interface over arrays): dates as day numbers since
1970-01-01 in numpy int64 arrays, with engine.core.dates' rules vectorised."""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import numpy as np

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
    """A population: numpy arrays of day numbers (engine.core.dates' rules, vectorised)."""

    never = FAR

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


DAY_ARRAYS = _DayArrays()
