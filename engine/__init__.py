"""jubao's engine: policy text → checked model → compiled plan → two back ends → Decision and explanation.

    policies/<region>/*.policy        text (language.source)
       │ language.parse               Lark LALR; the only module that imports lark (parsed_files: kept nodes)
       ▼
    language.nodes                    the policy as written; every node has a span
       │ language.check               named checks; all diagnostics at once
       ▼
    language.model.Policy             layered on `national`, names resolved, versions dated
       │ core.plan.compile_plan       formulas compiled once, names bound; the days figures change
       ▼
    core.one_person (one person)      ┐ the same mechanics (core.mechanics), pricing (core.pricing)
    columns.columnar (many)           ┘ and formulas (core.plan over core.algebra / columns.arrays)
       ▼
    core.decision.Decision            typed; core.explain builds the Step tree; core.render: JSON and text

The rooms (docs/architecture.md): `language` → `core` → `columns` → `populations`; `tools` beside them.
`language.registry.Registry` prepares every region once; the API and web sit on top and import the rooms' faces.
"""
from engine import compiled

compiled.install()  # before any other engine module is imported: a compiled module runs only while up to date

from engine.core import Problem, evaluate, problem_of, read_as_of, read_person  # noqa: E402
from engine.language import (  # noqa: E402
    Diagnostic,
    InvalidInput,
    InvalidPerson,
    InvalidRecord,
    PolicyError,
    Registry,
    UnknownRegion,
    check_texts,
    keywords,
    policy_from_texts,
)
from engine.tools import load_cases, run_case  # noqa: E402

__all__ = ["Diagnostic", "InvalidInput", "InvalidPerson", "InvalidRecord", "PolicyError", "Problem", "UnknownRegion",
           "problem_of", "Registry", "check_texts", "evaluate", "keywords", "load_cases",
           "policy_from_texts", "read_as_of", "read_person", "run_case"]
