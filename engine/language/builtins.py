"""The language's own names: the builtins a formula may read (their Chinese and English words and units), the bases
a schedule is looked up `by` or counted `per`, the functions, and how a formula names a fact's value. The checker
checks formulas with them, the plan compiles formulas with them, the explanation names the builtins with them.
"""
from __future__ import annotations

from engine.language import model, nodes, units

BUILTINS = {
    "age": ("年龄", units.parse_unit("岁")),
    "counted_years": ("累计缴费年限", units.parse_unit("年")),
    "continuous_years": ("连续缴费年限", units.parse_unit("年")),
    "regular_years": ("正常缴费年限", units.parse_unit("年")),  # counted years less back payments
    "balance_at_pension_start": ("领取时账户余额", units.parse_unit("元")),
    # history: the person's pension start (0 while no start is known)
    "age_at_pension_start": ("领取时年龄", units.parse_unit("岁")),
    "pension_start_year": ("领取起始年份", units.DIMENSIONLESS),
}
BUILTIN_ALIASES = {zh: name for name, (zh, _) in BUILTINS.items()}
BUILTIN_WORDS = {  # name → (Chinese, English), as the explanation names them
    "age": ("年龄", "age"), "counted_years": ("累计缴费年限", "counted years"),
    "continuous_years": ("连续缴费年限", "continuous years"), "regular_years": ("正常缴费年限", "regular years"),
    "balance_at_pension_start": ("领取时账户余额", "balance at pension start"),
    "age_at_pension_start": ("领取时年龄", "age at pension start"),
    "pension_start_year": ("领取起始年份", "pension start year"),
}
# what a bonus or raise table is looked up `by`, or a bonus counted `per`
BASES = ("age", "counted_years", "continuous_years", "regular_years", "age_at_pension_start")
FUNCTIONS = {"max": "max", "min": "min", "round": "round", "member": "member", "属于": "member",
             "最大": "max", "最小": "min", "四舍五入": "round"}

def fact_test(facts: dict, aliases: dict, expr: nodes.Binary) -> tuple[str, str, nodes.Ref] | None:
    """(fact, value as written, the value's node) of `fact == value` / `value == fact`, else None."""
    for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
        if isinstance(side, nodes.Ref) and side.name in facts and side.name not in aliases:
            value = other.name if isinstance(other, nodes.Ref) else (
                f"{other.value.normalize():f}" if isinstance(other, nodes.Number) else None)
            return side.name, value, other
    return None


def fact_value(fact: model.FactDef, written: str) -> str | None:
    """The canonical value of a fact as written (a choice by its name or its Chinese label), or None."""
    if not fact.choices:
        return written
    return next((name for name, zh in fact.choices if written in (name, zh)), None)
