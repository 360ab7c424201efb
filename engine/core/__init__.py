"""The core: a checked policy and a person → a `Decision` and its explanation.

Owns: reading a PERSON (`person`), dates and exact money (`dates`, `money`), a policy's figures for a person
(`lookup`), the plan of a region's formulas (`plan`) over the value interface (`algebra`), the scheme's mechanics
written once for both back ends (`mechanics`), pricing a contribution record (`pricing`), the one-person back end
(`evaluate`), the typed result (`decision`), the explanation (`explain`, `trace`) and its renderings (`render`), and
problem objects (`problem`).

May import: `engine.language`. Never NumPy or pyarrow (the column back end, `engine.columns`, does): one person
needs neither.
"""

from engine.core.decision import Decision
from engine.core.money import fmt
from engine.core.one_person import evaluate
from engine.core.person import (
           CONTRIBUTION_FIELDS,
           CONTRIBUTION_REQUIRED,
           DATE_PATTERN,
           FIRST_YEAR,
           GROUP_REQUIRED,
           LAST_YEAR,
           MONEY_PATTERN,
           OPENING_FIELDS,
           read_as_of,
           read_person,
)
from engine.core.plan import compile_plan
from engine.core.problem import ENGINE_ERRORS, Problem, problem_of
from engine.core.render import decision_json, decision_text, explanation_json, fold_repeats

__all__ = ["CONTRIBUTION_FIELDS", "CONTRIBUTION_REQUIRED", "DATE_PATTERN", "ENGINE_ERRORS", "FIRST_YEAR",
           "GROUP_REQUIRED", "LAST_YEAR", "MONEY_PATTERN", "OPENING_FIELDS", "Decision", "Problem", "compile_plan", "decision_json", "decision_text",
           "evaluate", "explanation_json", "fmt", "fold_repeats", "problem_of", "read_as_of", "read_person"]
