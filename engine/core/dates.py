"""Calendar arithmetic of the scheme: birthdays, completed ages, month starts, month counts."""
from __future__ import annotations

import datetime as dt
import functools


def anniversary(birth: dt.date, years: int) -> dt.date:
    """The birthday `years` after birth; 29 February falls on 1 March in common years."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years (周岁) on `day`."""
    years = day.year - birth.year
    return years if anniversary(birth, years) <= day else years - 1


def first_of_next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def first_of_month_on_or_after(day: dt.date) -> dt.date:
    return day if day.day == 1 else first_of_next_month(day)


def months_inclusive(start: dt.date, end: dt.date) -> int:
    """Months from start's month through end's month, both included; 0 if end is earlier."""
    n = (end.year - start.year) * 12 + end.month - start.month + 1
    return max(n, 0)


@functools.lru_cache(maxsize=512)  # a person's every undated record and interest step asks again
def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)
