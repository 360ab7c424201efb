"""Exact money: Decimal yuan, split by funding level, rounded half-up only when asked."""
from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

import attrs

from engine.language.model import LEVELS

FEN = Decimal("0.01")
ZERO = Decimal(0)


def round_fen(x: Decimal) -> Decimal:
    """四舍五入到分: half-up to 0.01 yuan."""
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


def fmt(x: Decimal) -> str:
    """Money as the API carries it: a string with two decimals (exact values only)."""
    if not x:  # the one value whose equal keys print apart (0 and −0): never through the memo
        return "-0.00" if x.is_signed() else "0.00"
    return _fmt_nonzero(x)


@functools.lru_cache(maxsize=8192, typed=True)
def _fmt_nonzero(x: Decimal) -> str:
    # An answer prints the same few hundred amounts again and again (tiers, subsidies, credits): the memo
    # (190 ns) saves the quantize (750 ns) about 140 times per answer. Equal Decimals (570.0, 570.00) print
    # alike after the quantize, so the memo may answer one for the other.
    # A Decimal quantized to 0.01 prints as plain digits with two decimals, in a third of format()'s time.
    return str(x.quantize(FEN, rounding=ROUND_HALF_UP))


@attrs.frozen
class Amount:
    """An amount and who funds it: `by_level` maps central/province/city/county to parts."""

    total: Decimal = ZERO
    by_level: tuple[tuple[str, Decimal], ...] = ()

    @classmethod
    def at(cls, level: str | None, value: Decimal) -> "Amount":
        return cls(value, ((level, value),) if level else ())

    def levels(self) -> dict[str, Decimal]:
        return dict(self.by_level)

    def __add__(self, other: "Amount") -> "Amount":
        merged = self.levels()
        for level, v in other.by_level:
            merged[level] = merged.get(level, ZERO) + v
        return Amount(self.total + other.total, _ordered(merged))

    def __neg__(self) -> "Amount":
        return Amount(-self.total, tuple((l, -v) for l, v in self.by_level))

    def scaled(self, factor: Decimal) -> "Amount":
        return Amount(self.total * factor, tuple((l, v * factor) for l, v in self.by_level))

    def divided(self, divisor: Decimal) -> "Amount":
        return Amount(self.total / divisor, tuple((l, v / divisor) for l, v in self.by_level))

    def rounded(self) -> "Amount":
        return Amount(round_fen(self.total), tuple((l, round_fen(v)) for l, v in self.by_level))

    def relevel(self, level: str) -> "Amount":
        return Amount.at(level, self.total)


def _ordered(levels: dict[str, Decimal]) -> tuple[tuple[str, Decimal], ...]:
    return tuple((l, levels[l]) for l in LEVELS if l in levels)
