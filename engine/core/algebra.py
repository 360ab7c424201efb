"""The value interface the scheme's formulas compute with, and its one-person kind.

`SCALAR`: one person — `Decimal` numbers, `Amount` money (exact, split by funding level), bools. The population's
kind (`Q` exact fractions over integer arrays, `Money` of `Q` by level, bool arrays) is `engine.columns.arrays`.
The formulas (`engine.core.plan`) and the mechanics are written once against this interface: `binary`, `extreme`
and `band_index` below take either.
"""
from __future__ import annotations

from decimal import Decimal

from engine.core.memo import Memo
from engine.core.money import Amount, round_fen


# ── one person ─────────────────────────────────────────────────────────────
class _Scalars:
    """Values of one person."""

    money_type = Amount

    def const(self, value: Decimal) -> Decimal:
        return value

    def integer(self, value) -> Decimal:
        return Decimal(value)

    def zero(self) -> Amount:
        return Amount()

    def money(self, value) -> Amount:
        return value if isinstance(value, Amount) else Amount(value)

    def money_at(self, level: str | None, value: Decimal) -> Amount:
        return Amount.at(level, value)

    def is_money(self, value) -> bool:
        return isinstance(value, Amount)

    def total(self, value) -> Decimal:
        return value.total if isinstance(value, Amount) else value

    def divide(self, a: Decimal, b: Decimal) -> Decimal:
        return a / b

    def compare(self, op: str, a, b) -> bool:
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]

    def round(self, value):
        return value.rounded() if isinstance(value, Amount) else round_fen(value)

    def and_(self, a, b):
        return a and b

    def or_(self, a, b):
        return a or b

    def not_(self, a):
        return not a

    def decided(self, op: str, left) -> bool:
        """and/or whose left side decides: the right side is not evaluated (nor explained)."""
        return (op == "and" and not left) or (op == "or" and bool(left))

    def is_condition(self, value) -> bool:
        return isinstance(value, bool)

    def choose(self, mask, a, b):
        return a if mask else b

    def masked(self, value: Amount, mask) -> Amount:
        return value if mask else Amount()

    def at_least_zero(self, value: Decimal) -> Decimal:
        return value if value > 0 else Decimal(0)

    def pick(self, amounts: tuple[Decimal, ...], index: int) -> Decimal:
        """amounts[index]; 0 where the index is -1 (no band)."""
        return amounts[index] if index >= 0 else Decimal(0)

    def any_nonzero(self, value) -> bool:
        return bool(value)

    def band(self, basis: Decimal, rows) -> int:
        """band_index, a pure function of a schedule's rows and the basis: kept in BANDS (a person's bonus asks it at
        every evaluation, with the same few ages and years)."""
        key = (id(rows), basis)
        hit = BANDS.get(key)
        if hit is not None and hit[0] is rows:
            return hit[1]
        index = band_index(self, basis, rows)
        BANDS.put(key, (rows, index))
        return index


SCALAR = _Scalars()
# (a schedule's rows' id, basis) → (the rows, the band): each entry holds its rows, so an id is never another's
BANDS = Memo()


def binary(alg, op: str, a, b):
    """An operator of the policy language over either kind of value (money keeps its funding levels)."""
    if op == "and":
        return alg.and_(a, b)
    if op == "or":
        return alg.or_(a, b)
    if op in ("+", "-"):
        if alg.is_money(a) or alg.is_money(b):
            a, b = alg.money(a), alg.money(b)
            return a + b if op == "+" else a + (-b)
        return a + b if op == "+" else a - b
    if op == "*":
        if alg.is_money(a) and not alg.is_money(b):
            return a.scaled(b)
        if alg.is_money(b) and not alg.is_money(a):
            return b.scaled(a)
        return alg.total(a) * alg.total(b)
    if op == "/":
        if alg.is_money(a) and not alg.is_money(b):
            return a.divided(b)
        return alg.divide(alg.total(a), alg.total(b))
    return alg.compare(op, alg.total(a), alg.total(b))


def extreme(alg, fn: str, values: list):
    """max/min of the language: the first of equals is kept (as Python's max/min)."""
    out = values[0]
    for v in values[1:]:
        a, b = alg.total(out), alg.total(v)
        better = alg.compare(">" if fn == "max" else "<", b, a)
        out = alg.choose(better, v, out)
    return out


def band_index(alg, basis, rows):
    """The index of the first band containing `basis`, -1 when none does."""
    index = -1
    for i in range(len(rows) - 1, -1, -1):  # the earliest band wins: it is chosen last
        band = rows[i]
        inside = alg.compare(">=", basis, alg.const(band.low))
        if band.high is not None:
            inside = alg.and_(inside, alg.compare("<=", basis, alg.const(band.high)))
        index = alg.choose(inside, i, index)
    return index
