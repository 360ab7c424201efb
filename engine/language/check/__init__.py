"""Parsed policy files of a region and its bases → the checked model, or every problem at once.

`check(layers)` runs an ordered list of named checks (OPA-style), each in the module of its kind (`blocks`, `tables`,
`formulas`); each appends Diagnostics to the one `Checker` (`checker`).
"""
from __future__ import annotations

from engine.language import model
from engine.language.check.blocks import check_blocks, check_declarations, check_regions, check_sources
from engine.language.check.checker import (
    BASES,
    BUILTIN_ALIASES,
    BUILTINS,
    FUNCTIONS,
    WHILE_WORDS,
    Checker,
    Layer,
    unique,
)
from engine.language.check.formulas import check_formulas, fact_test, fact_value
from engine.language.check.tables import check_floors, check_periods, check_raises, check_tables
from engine.language.errors import PolicyError


def check(layers: list[Layer]) -> model.Policy:
    """`layers` runs from the base (national) to the region being checked."""
    checker = Checker(layers)
    for step in CHECKS:
        step(checker)
    if checker.diagnostics:
        raise PolicyError(unique(checker.diagnostics))
    return checker.build()


CHECKS = (check_regions, check_sources, check_declarations, check_blocks, check_periods, check_raises, check_tables,
          check_floors, check_formulas)

# the language's words and tests, read by the plan, the language server and the registry
__all__ = ["BASES", "BUILTINS", "BUILTIN_ALIASES", "CHECKS", "FUNCTIONS", "WHILE_WORDS", "Layer", "check", "fact_test",
           "fact_value"]
