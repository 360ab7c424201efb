"""The population's kind of value (engine.core.algebra's interface over arrays): `Q` exact fractions over numpy
integer arrays, `Money` of `Q` by funding level, bool arrays."""
from __future__ import annotations

import math
from decimal import Decimal

import attrs
import numpy as np

from engine.language.model import LEVELS


class Unsupported(Exception):
    """The population back end cannot compute this (a per-person divisor, an amount finer than a fen):
    the rows concerned are answered by the scalar back end."""


# ── arrays ─────────────────────────────────────────────────────────────────
@attrs.frozen
class Q:
    """num / den yuan, elementwise; den a positive integer shared by the whole array."""

    num: np.ndarray
    den: int

    @classmethod
    def of(cls, value: Decimal | int, n: int) -> "Q":
        frac = Decimal(value).as_integer_ratio()
        return cls(np.full(n, frac[0], dtype="int64"), frac[1])

    @classmethod
    def fen(cls, values: np.ndarray) -> "Q":
        return cls(values.astype("int64"), 100)

    def _common(self, other: "Q"):
        den = self.den * other.den // math.gcd(self.den, other.den)
        return self.num * (den // self.den), other.num * (den // other.den), den

    def __add__(self, other: "Q") -> "Q":
        a, b, den = self._common(other)
        return Q(a + b, den)

    def __neg__(self) -> "Q":
        return Q(-self.num, self.den)

    def __sub__(self, other: "Q") -> "Q":
        return self + (-other)

    def __mul__(self, other: "Q") -> "Q":
        return Q(self.num * other.num, self.den * other.den)._reduced()

    def divide(self, other: "Q") -> "Q":
        """Division by a figure that is the same for everyone (e.g. the account divisor)."""
        # the same for everyone: its least and greatest agree (np.unique sorted a million of them to say so)
        if not other.num.size or other.num.min() != other.num.max() or other.num.min() == 0:
            raise Unsupported("division by a per-person or zero amount")
        d = int(other.num.min())
        sign = -1 if d < 0 else 1
        return Q(self.num * other.den * sign, self.den * abs(d))._reduced()

    def _reduced(self) -> "Q":
        if self.den == 1:
            return self
        g = math.gcd(self.den, int(np.gcd.reduce(self.num)) if self.num.size else 0)
        return Q(self.num // g, self.den // g) if g > 1 else self

    def compare(self, other: "Q", op: str) -> np.ndarray:
        a, b, _ = self._common(other)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]

    def where(self, mask: np.ndarray, other: "Q") -> "Q":
        a, b, den = self._common(other)
        return Q(np.where(mask, a, b), den)

    def round_fen(self) -> "Q":
        """四舍五入到分, half away from zero as Decimal's ROUND_HALF_UP."""
        magnitude = (2 * np.abs(self.num) * 100 + self.den) // (2 * self.den)
        return Q(np.sign(self.num) * magnitude, 100)

    def fen_values(self) -> np.ndarray:
        return self.round_fen().num


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
        return Money(Q(np.zeros(self.n, dtype="int64"), 1))

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
            zero = Q(np.zeros_like(a.total.num), 1)
            la, lb = a.level_map(), b.level_map()
            levels = {l: la.get(l, zero).where(mask, lb.get(l, zero)) for l in LEVELS if l in la or l in lb}
            return Money(a.total.where(mask, b.total), _ordered(levels))
        if isinstance(a, Q):
            return a.where(mask, b)
        return np.where(mask, a, b)

    def masked(self, value: Money, mask) -> Money:
        """Zero where `mask` is False (a component not paid to that person)."""
        if mask is True:
            return value
        zero = Q(np.zeros_like(value.total.num), 1)
        return Money(value.total.where(mask, zero), tuple((l, v.where(mask, zero)) for l, v in value.by_level))


def arrays(n: int) -> _Arrays:
    return _Arrays(n)
