"""jubao's engine: policy text → checked model → compiled plan → two back ends → Decision and explanation.

    policies/<region>/*.policy      text (SourceFile)
       │ parse.parse                Lark LALR; the only module that imports lark (parsed_files: kept nodes)
       ▼
    nodes.PolicyFile                the policy as written; every node has a span
       │ check.check                named checks; all diagnostics at once
       ▼
    model.Policy                    layered on `national`, names resolved, versions dated
       │ plan.compile_plan          formulas compiled once, names bound; the days figures change
       ▼
    evaluate.evaluate (one person)  ┐ the same mechanics (mechanics.py), pricing (pricing.py)
    columnar.evaluate_batch (many)  ┘ and formulas (plan.py over algebra.py)
       ▼
    decision.Decision               typed; explain.Trace builds the Step tree; render.py: JSON and text

`registry.Registry` prepares every region once; the API and web sit on top.
"""
from engine import compiled

compiled.install()  # before any other engine module is imported: a compiled module runs only while up to date

from engine.errors import Diagnostic, InvalidInput, InvalidPerson, InvalidRecord, PolicyError, UnknownRegion
from engine.problem import Problem, problem_of
from engine.evaluate import evaluate
from engine.person import read_as_of, read_person
from engine.registry import Registry, check_texts, policy_from_texts
from engine.grammar import keywords
from engine.cases import load_cases, run_case

__all__ = ["Diagnostic", "InvalidInput", "InvalidPerson", "InvalidRecord", "PolicyError", "Problem", "UnknownRegion",
           "problem_of", "Registry", "check_texts", "evaluate", "keywords", "load_cases",
           "policy_from_texts", "read_as_of", "read_person", "run_case"]
