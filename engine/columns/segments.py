"""Records grouped by person in flat arrays: their order, distinct keys and first rows, intervals among sorted days."""
from __future__ import annotations

import numpy as np


def distinct_keys(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(key, return_inverse=True) for non-negative keys below `size`: by counting when the range is small
    (no sort: linear in the rows), else by sorting."""
    if size > max(8 * len(key), 1 << 21):  # counting costs a few passes over `size`; a sort, log n over the rows
        unique, inverse = np.unique(key, return_inverse=True)
        return unique, inverse.reshape(-1)
    seen = np.bincount(key, minlength=size) > 0
    unique = np.flatnonzero(seen)
    rank = np.cumsum(seen) - 1
    return unique, rank[key]


def intervals(bounds: np.ndarray, days: np.ndarray) -> np.ndarray:
    """np.searchsorted(bounds, days, side="right"): looked up in a table of the days' span when it is short (the
    records of a batch fall within a few years), else searched."""
    if len(days) and int(days.max()) - int(days.min()) < len(days):
        low = int(days.min())
        table = np.searchsorted(bounds, np.arange(low, int(days.max()) + 1, dtype="int64"), side="right")
        return table[days - low]
    return np.searchsorted(bounds, days, side="right")


def taken(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """`values` in `person_order`'s order."""
    return values if order is None else values[order]


def first_of(inverse: np.ndarray, size: int) -> np.ndarray:
    """For each of `size` values, the index of its first row in `inverse` (np.unique's return_index)."""
    first = np.zeros(size, dtype="int64")
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # the last write, the lowest index, holds
    return first


def person_order(major: np.ndarray, minor: np.ndarray) -> np.ndarray | None:
    """np.lexsort((minor, major)): stable, by major then minor; None when the rows are already in that order (a
    person's records are by year, mostly: the callers then use the rows as they are), else one sort of a combined
    key."""
    n = len(major)
    if n < 2 or np.all((major[1:] > major[:-1]) | ((major[1:] == major[:-1]) & (minor[1:] >= minor[:-1]))):
        return None
    low, span = int(minor.min()), int(minor.max()) - int(minor.min()) + 1
    if int(major.min()) >= 0 and (int(major.max()) + 1) * span < 2**62:
        return np.argsort(major * span + (minor - low), kind="stable")
    return np.lexsort((minor, major))
