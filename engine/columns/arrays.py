"""The population's kind of value (engine.core.algebra's interface over arrays): `Q` exact fractions over numpy
integer arrays, `Money` of `Q` by funding level, bool arrays."""
from __future__ import annotations

import math
from decimal import Decimal

import attrs
import numpy as np

from engine.core.algebra import band_index
from engine.language.model import LEVELS


class Unsupported(Exception):
    """The column back end cannot compute this batch (a division by zero in a formula, an amount past what an
    output column holds …): `engine.columns.columnar` hands the batch's persons to the one-person back end, with why
    (`reason`, one of engine.columns.handed.WHOLE_REASONS). It never leaves the column back end."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ── exact integers of any size ─────────────────────────────────────────────
LIMIT = 1 << 62  # int64 arithmetic is used while every value (and the bound carried with it) is at most this


def peak_of(values: np.ndarray) -> int:
    """The largest |value| (exact, a Python int)."""
    if not values.size:
        return 0
    if values.dtype == object:
        return max(abs(int(v)) for v in values.tolist())
    return max(abs(int(values.max())), abs(int(values.min())))


def _wide(values: np.ndarray) -> np.ndarray:
    """The values as Python's own integers (an object array): any size, exactly."""
    return values if values.dtype == object else values.astype(object)


def _made(values: np.ndarray, den: int, peak: int) -> "Q":
    """A Q of computed values: back to int64 when a wide result fits again (its true peak known by one pass)."""
    if values.dtype == object:
        peak = peak_of(values)
        if peak <= LIMIT:
            values = values.astype(np.int64)
    return Q(values, den, peak)


# ── arrays ─────────────────────────────────────────────────────────────────
@attrs.frozen
class Q:
    """num / den yuan, elementwise; den a positive integer shared by the whole array.

    Exact at any size, never wrapped around: `peak` bounds |num| from above (a Python int, carried through each
    operation without looking at the values), and while it is at most LIMIT the values are int64; past it they are
    computed as Python integers (an object array), and narrowed back to int64 when a result fits again."""

    num: np.ndarray
    den: int
    peak: int = attrs.field(default=attrs.Factory(lambda self: peak_of(self.num), takes_self=True), eq=False)

    @classmethod
    def of(cls, value: Decimal | int, n: int) -> "Q":
        num, den = Decimal(value).as_integer_ratio()
        return cls(np.full(n, num, dtype=np.int64 if abs(num) <= LIMIT else object), den, abs(num))

    @classmethod
    def fen(cls, values: np.ndarray) -> "Q":
        return cls(values.astype("int64"), 100)

    @classmethod
    def of_fractions(cls, fractions: list[tuple[int, int]], index: np.ndarray) -> "Q":
        """The fraction `fractions[index[i]]` for each row (a figure by fact class, a band's amount …): one
        denominator for all, the numerators as wide as they need."""
        den = math.lcm(*(d for _, d in fractions)) if fractions else 1
        nums = [n * (den // d) for n, d in fractions] or [0]
        peak = max(abs(n) for n in nums)
        table = np.array(nums, dtype=np.int64 if peak <= LIMIT else object)
        return cls(table[index], den, peak)

    def _scaled(self, factor: int) -> tuple[np.ndarray, int]:
        """(num × factor, its peak), exactly."""
        if factor == 1:
            return self.num, self.peak
        peak = self.peak * factor
        return (self.num if peak <= LIMIT and factor <= LIMIT else _wide(self.num)) * factor, peak

    def _common(self, other: "Q"):
        den = self.den * other.den // math.gcd(self.den, other.den)
        (a, pa), (b, pb) = self._scaled(den // self.den), other._scaled(den // other.den)
        return a, b, den, pa, pb

    def __add__(self, other: "Q") -> "Q":
        a, b, den, pa, pb = self._common(other)
        if pa + pb > LIMIT:
            a, b = _wide(a), _wide(b)
        return _made(a + b, den, pa + pb)

    def __neg__(self) -> "Q":
        return Q(-self.num, self.den, self.peak)

    def __sub__(self, other: "Q") -> "Q":
        return self + (-other)

    def __mul__(self, other: "Q") -> "Q":
        a, b, peak = self.num, other.num, self.peak * other.peak
        if peak > LIMIT:
            a, b = _wide(a), _wide(b)
        return _made(a * b, self.den * other.den, peak)._reduced()

    def divide(self, other: "Q") -> "Q":
        """Division, exactly: by each distinct divisor in turn (a figure the same for everyone is one), over the
        least common denominator of the quotients."""
        if not other.num.size:
            return self
        if other.num.min() == other.num.max():
            d = int(other.num.min())
            if d == 0:
                raise Unsupported("division_by_zero")
            scaled, peak = self._scaled(other.den)
            return _made(scaled * (-1 if d < 0 else 1), self.den * abs(d), peak)._reduced()
        divisors, which = np.unique(other.num, return_inverse=True)
        if (divisors == 0).any():
            raise Unsupported("division_by_zero")
        parts = [Q(self.num, self.den, self.peak).divide(Q(np.array([d], dtype=other.num.dtype), other.den, abs(int(d))))
                 for d in divisors.tolist()]
        den = math.lcm(*(p.den for p in parts))
        scaled = [p._scaled(den // p.den) for p in parts]
        peak = max(pk for _, pk in scaled)
        out = np.zeros(len(self.num), dtype=np.int64 if peak <= LIMIT else object)
        which = which.reshape(-1)
        for i, (values, _) in enumerate(scaled):
            rows = which == i
            out[rows] = values[rows]
        return _made(out, den, peak)._reduced()

    def _reduced(self) -> "Q":
        if self.den == 1:
            return self
        g = math.gcd(self.den, int(np.gcd.reduce(self.num)) if self.num.size else 0)
        return _made(self.num // g, self.den // g, self.peak // g) if g > 1 else self

    def compare(self, other: "Q", op: str) -> np.ndarray:
        a, b, *_ = self._common(other)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]

    def where(self, mask: np.ndarray, other: "Q") -> "Q":
        a, b, den, pa, pb = self._common(other)
        if a.dtype != b.dtype:
            a, b = _wide(a), _wide(b)
        return _made(np.where(mask, a, b), den, max(pa, pb))

    def round_fen(self) -> "Q":
        """四舍五入到分, half away from zero as Decimal's ROUND_HALF_UP."""
        num = self.num if 200 * self.peak + self.den <= LIMIT else _wide(self.num)
        magnitude = (2 * np.abs(num) * 100 + self.den) // (2 * self.den)
        return _made(np.sign(num) * magnitude, 100, self.peak * 100 // self.den + 1)

    def fen_values(self) -> np.ndarray:
        """Fen as int64 (an output column's type); an amount past it is refused."""
        rounded = self.round_fen()
        if rounded.num.dtype == object:
            raise Unsupported("too_large")
        return rounded.num


@attrs.frozen
class Money:
    """An Amount over arrays: the total and its parts by funding level."""

    total: Q
    by_level: tuple[tuple[str, Q], ...] = ()

    def level_map(self) -> dict[str, Q]:
        return dict(self.by_level)

    def __add__(self, other: "Money") -> "Money":
        merged = self.level_map()
        for level, v in other.by_level:
            merged[level] = merged[level] + v if level in merged else v
        return Money(self.total + other.total, _ordered(merged))

    def __neg__(self) -> "Money":
        return Money(-self.total, tuple((l, -v) for l, v in self.by_level))

    def scaled(self, factor: Q) -> "Money":
        return Money(self.total * factor, tuple((l, v * factor) for l, v in self.by_level))

    def divided(self, divisor: Q) -> "Money":
        return Money(self.total.divide(divisor), tuple((l, v.divide(divisor)) for l, v in self.by_level))

    def rounded(self) -> "Money":
        return Money(self.total.round_fen(), tuple((l, v.round_fen()) for l, v in self.by_level))

    def relevel(self, level: str) -> "Money":
        return Money(self.total, ((level, self.total),))


def _ordered(levels: dict) -> tuple:
    return tuple((l, levels[l]) for l in LEVELS if l in levels)


class _Arrays:
    """Values of n persons at once."""

    money_type = Money

    def __init__(self, n: int):
        self.n = n

    def const(self, value: Decimal) -> Q:
        return Q.of(value, self.n)

    def integer(self, values) -> Q:
        return Q(np.asarray(values, dtype="int64"), 1)

    def zero(self) -> Money:
        return Money(Q(np.zeros(self.n, dtype="int64"), 1, 0))

    def money(self, value) -> Money:
        return value if isinstance(value, Money) else Money(value)

    def money_at(self, level: str | None, value: Q) -> Money:
        return Money(value, ((level, value),) if level else ())

    def is_money(self, value) -> bool:
        return isinstance(value, Money)

    def total(self, value) -> Q:
        return value.total if isinstance(value, Money) else value

    def divide(self, a: Q, b: Q) -> Q:
        return a.divide(b)

    def compare(self, op: str, a: Q, b: Q):
        return a.compare(b, op)

    def round(self, value):
        return value.rounded() if isinstance(value, Money) else value.round_fen()

    def and_(self, a, b):
        return a & b

    def or_(self, a, b):
        return a | b

    def not_(self, a):
        return ~a

    def decided(self, op: str, left) -> bool:
        return False  # arrays evaluate both sides of and/or

    def is_condition(self, value) -> bool:
        return isinstance(value, np.ndarray) and value.dtype == bool

    def choose(self, mask, a, b):
        """Elementwise a where mask else b, for Money, Q or bool arrays."""
        if isinstance(a, Money) or isinstance(b, Money):
            a, b = self.money(a), self.money(b)
            zero = Q(np.zeros(len(a.total.num), dtype="int64"), 1, 0)
            la, lb = a.level_map(), b.level_map()
            levels = {l: la.get(l, zero).where(mask, lb.get(l, zero)) for l in LEVELS if l in la or l in lb}
            return Money(a.total.where(mask, b.total), _ordered(levels))
        if isinstance(a, Q):
            return a.where(mask, b)
        return np.where(mask, a, b)

    def at_least_zero(self, value: Q) -> Q:
        return Q(np.maximum(value.num, 0), value.den, value.peak)

    def pick(self, amounts: tuple[Decimal, ...], index: np.ndarray) -> Q:
        """amounts[index] for each row; 0 where the index is -1 (no band)."""
        return Q.of_fractions([Decimal(a).as_integer_ratio() for a in amounts] + [(0, 1)], index)

    def any_nonzero(self, value: Q) -> bool:
        return bool(value.num.any())

    def band(self, basis: Q, rows) -> np.ndarray:
        return band_index(self, basis, rows)

    def masked(self, value: Money, mask) -> Money:
        """Zero where `mask` is False (a component not paid to that person)."""
        if mask is True:
            return value
        zero = Q(np.zeros(len(value.total.num), dtype="int64"), 1, 0)
        return Money(value.total.where(mask, zero), tuple((l, v.where(mask, zero)) for l, v in value.by_level))


def arrays(n: int) -> _Arrays:
    return _Arrays(n)
