"""Units of policy figures (元/月, 元/年, 年, 岁 …) and their algebra, for the checker."""
from __future__ import annotations

DIMENSIONS = {
    "元": "yuan", "yuan": "yuan",
    "月": "month", "month": "month",
    "年": "year", "year": "year",
    "岁": "age", "age": "age",
}
NON_NUMERIC = {"date", "日期", "yes_no", "是否", "text", "文本", "groups", "contributions", "opening_balance"}

Unit = tuple[tuple[str, int], ...]
DIMENSIONLESS: Unit = ()


def parse_unit(text: str) -> Unit | None:
    """`元/月` → {yuan: 1, month: -1}; None if a word is not a known unit."""
    if text == "%":
        return DIMENSIONLESS
    exps: dict[str, int] = {}
    for i, word in enumerate(text.split("/")):
        if i == 0 and word == "%":  # a percentage per something: `%/年` (1% of the basic pension per year)
            continue
        dim = DIMENSIONS.get(word)
        if dim is None:
            return None
        exps[dim] = exps.get(dim, 0) + (1 if i == 0 else -1)
    return normalise(exps)


def normalise(exps: dict[str, int]) -> Unit:
    return tuple(sorted((d, e) for d, e in exps.items() if e != 0))


def multiply(a: Unit, b: Unit, sign: int = 1) -> Unit:
    exps = dict(a)
    for d, e in b:
        exps[d] = exps.get(d, 0) + sign * e
    return normalise(exps)


NAMES = {"yuan": "元", "month": "月", "year": "年", "age": "岁"}


def describe(unit: Unit | None, lang: str = "zh") -> str:
    if unit is None:
        return "未知" if lang == "zh" else "unknown"
    if not unit:
        return "无单位的数" if lang == "zh" else "a plain number"
    top = "·".join(NAMES[d] for d, e in unit if e > 0 for _ in range(e)) or "1"
    bottom = "/".join(NAMES[d] for d, e in unit if e < 0 for _ in range(-e))
    return f"{top}/{bottom}" if bottom else top


def share_text(share) -> str:
    """A share as a policy writes it: 0.5 → 50%, 0.015 → 1.5%."""
    return f"{(share * 100).normalize():f}%"
