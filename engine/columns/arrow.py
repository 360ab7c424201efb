"""Arrow columns read as numpy arrays: validity, owners of list items, dictionary codes, dates as day numbers and money as fen, each distinct text read once."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.columns.arrays import Unsupported
from engine.columns.days import day_number, from_ymd, ymd
from engine.core.person import (
    DATE_PATTERN,
    EARLIEST,
    LATEST,
    MONEY,
)


def exact_fen(x: Decimal) -> int | None:
    """The fen of an amount, or None when it is finer than a fen."""
    scaled = x * 100
    return int(scaled) if scaled == scaled.to_integral_value() else None


def owners(column: pa.ListArray) -> np.ndarray:
    """For each flattened list item, the row it belongs to."""
    offsets = np.asarray(column.offsets.to_numpy(zero_copy_only=False), dtype="int64")
    lengths = np.diff(offsets)
    if column.null_count:
        lengths = np.where(np.asarray(column.is_valid().to_numpy(zero_copy_only=False)), lengths, 0)
    return np.repeat(np.arange(len(column), dtype="int64"), lengths)


def is_valid(values) -> np.ndarray:
    return np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def day_numbers(values) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of YYYY-MM-DD strings and whether each is a valid date in range (null → not valid)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    n = len(values)
    if pa.types.is_null(values.type) or n == 0:
        return np.zeros(n, "int64"), np.zeros(n, bool)
    if pa.types.is_dictionary(values.type) and is_text(values.type):
        # each distinct text read once (a Parquet column read as a dictionary: a few thousand dates), then gathered
        days, ok = day_numbers(values.dictionary)
        index = indices(values)
        return np.append(days, 0)[index], np.append(ok, False)[index]
    if not pa.types.is_string(values.type):
        raise Unsupported("column_type")
    try:
        # Arrow's own reading takes exactly YYYY-MM-DD of ASCII digits and a real calendar date, as the pattern and
        # the round trip below do; a column with any other text fails as a whole and takes the long way.
        days = values.cast(pa.date32()).view(pa.int32())
    except pa.ArrowInvalid:
        pass
    else:
        numbers = np.asarray(days.fill_null(0).to_numpy(zero_copy_only=False), dtype="int64")
        ok = is_valid(days) & (numbers >= day_number(EARLIEST)) & (numbers <= day_number(LATEST))
        return np.where(ok, numbers, 0), ok
    shaped = np.asarray(pc.match_substring_regex(values, DATE_PATTERN).fill_null(False).to_numpy(zero_copy_only=False),
                        dtype=bool)
    text = pc.if_else(pa.array(shaped), values, "1970-01-01")
    y, m, d = (np.asarray(pc.cast(pc.utf8_slice_codeunits(text, a, b), pa.int64()).to_numpy(zero_copy_only=False))
               for a, b in ((0, 4), (5, 7), (8, 10)))
    # A calendar date survives the round trip through a day number ("1970-02-30" does not).
    numbers = from_ymd(y, np.clip(m, 1, 12), np.clip(d, 1, 31))
    back = ymd(numbers)
    ok = shaped & (back[0] == y) & (back[1] == m) & (back[2] == d)
    ok &= (numbers >= day_number(EARLIEST)) & (numbers <= day_number(LATEST))
    return np.where(ok, numbers, 0), ok


def money_fen(values) -> tuple[np.ndarray, np.ndarray]:
    """Fen of money strings like "300.00" (at most two decimals, no sign)."""
    fen, ok, _, _ = money_codes(values)
    return fen, ok


def money_codes(values) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(fen, valid, code of the text among the distinct texts (-1 for a null), number of distinct texts) of money
    strings like "300.00" (at most two decimals, no sign)."""
    if not is_text(values.type):
        raise Unsupported("column_type")
    dictionary, indices = encoded(values)
    fen_of = []
    for text in dictionary.to_pylist():
        fen_of.append(exact_fen(Decimal(text)) if text is not None and is_money(text) else -1)
    fen = np.array(fen_of + [-1], dtype="int64")[indices]
    return np.maximum(fen, 0), fen >= 0, indices, max(len(fen_of), 1)


def is_text(type_) -> bool:
    """A text column: strings, or strings by dictionary (a Parquet column read as its dictionary)."""
    return pa.types.is_string(type_) or (pa.types.is_dictionary(type_) and pa.types.is_string(type_.value_type))


def indices(values) -> np.ndarray:
    """A dictionary array's indices as int64, -1 for a null."""
    return np.asarray(values.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype="int64") \
        if values.null_count else np.asarray(values.indices.to_numpy(zero_copy_only=False), dtype="int64")


def encoded(values) -> tuple[pa.Array, np.ndarray]:
    """(distinct texts, index into them per row with -1 for a null) of a text column, plain or by dictionary."""
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    index = indices(values)
    if values.dictionary.null_count:  # a null among the texts is a null
        index = np.append(is_valid(values.dictionary), False)[index] * (index + 1) - 1
    return values.dictionary, index


def is_money(text: str) -> bool:
    return bool(MONEY.fullmatch(text))
