"""Policy test cases written by officers: YAML files in `policies/<region>/tests/`.

A case gives an as-of date, a PERSON and the expected figures (dotted paths into the
DETERMINATION) or the expected error (status and pointers).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from engine.core.one_person import evaluate
from engine.core.person import read_as_of, read_person
from engine.core.problem import Problem, problem_of
from engine.core.render import STATUS_WORDS, decision_json
from engine.core.trace import Step
from engine.language.catalogue import diagnostic, say
from engine.language.errors import InvalidInput, PolicyError
from engine.language.model import Policy
from engine.language.source import Span
from engine.language.text import in_lang


@attrs.frozen
class Case:
    region: str
    file: str
    line: int
    name: str
    as_of: object
    person: object
    expect: dict | None
    expect_error: dict | None


@attrs.frozen
class Outcome:
    case: Case
    failures: tuple[str, ...]
    lines: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(folder: Path, region: str, display_root: Path) -> list[Case]:
    texts = {}
    for path in sorted((folder / "tests").glob("*.yaml")):
        try:
            texts[_display(path, display_root)] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError([diagnostic("bad-test-file", "bad-test-file", Span(_display(path, display_root), 1, 1),
                                          "bad-test-file.hint", a=exc)]) from None
    return cases_from_texts(texts, region)


def cases_from_texts(texts: dict[str, str], region: str) -> list[Case]:
    """The cases of test files given as text (display name → YAML), e.g. those a draft carries."""
    import yaml  # here, not at the top: a process that runs no case (jubao batch, eval) never loads it

    cases = []
    for display, text in sorted(texts.items()):
        try:
            nodes = yaml.compose(text)
            data = yaml.safe_load(text) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            mark = getattr(exc, "problem_mark", None)
            raise PolicyError([diagnostic(
                "bad-test-file", "bad-test-file", Span(display, mark.line + 1 if mark else 1, mark.column + 1 if mark
                                                       else 1), "bad-test-file.hint",
                a=getattr(exc, "problem", None) or exc)]) from None
        items = data.get("cases", []) if isinstance(data, dict) else []
        node_items = _case_nodes(nodes)
        for i, item in enumerate(items):
            line = node_items[i].start_mark.line + 1 if i < len(node_items) else 1
            cases.append(Case(region, display, line, str(item.get("name", f"case {i + 1}")), item.get("as_of"),
                              _plain(item.get("person")), item.get("expect"), item.get("expect_error")))
    return cases


def _case_nodes(root) -> list:
    if root is None or not hasattr(root, "value") or not isinstance(root.value, list):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "cases" and isinstance(value.value, list):
            return value.value
    return []


def _plain(value):
    """YAML may read dates as date objects; the API takes strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def run_case(policy: Policy, case: Case, recorder=None, lang: str = "zh") -> Outcome:
    """The case's outcome, its failure lines in `lang` (Chinese unless "en"); `recorder` listens to the evaluation
    (engine.tools.coverage counts the lines it reads)."""
    try:
        as_of = read_as_of(_plain(case.as_of))
        person = read_person(policy, case.person, as_of)
        decision = evaluate(policy, person, as_of, recorder=recorder)  # the explanation only for a failing case
    except InvalidInput as error:  # the officers' YAML pins the status a front end reports (expect_error.status)
        return _check_error(case, problem_of(error), lang)
    if case.expect_error:
        status = STATUS_WORDS.get(decision.status, decision.status) if lang == "zh" else decision.status
        return Outcome(case, (say("case.expected-error", expected=case.expect_error, status=status).in_lang(lang),))
    result = decision_json(decision)  # the officers' paths are the DETERMINATION's (docs/api.md)
    failures = []
    for path, expected in (case.expect or {}).items():
        found, actual = resolve(result, path)
        if not found:
            failures.append(say("case.no-field", path=path, expected=_show(expected)).in_lang(lang))
        elif not _equal(expected, actual):
            failures.append(say("case.mismatch", path=path, expected=_show(expected), actual=_show(actual))
                            .in_lang(lang))
    lines = _policy_lines(evaluate(policy, person, as_of, explain=True).explanation, case.expect or {}) \
        if failures else ()
    return Outcome(case, tuple(failures), lines)


def _check_error(case: Case, problem: Problem, lang: str = "zh") -> Outcome:
    got = sorted(e.pointer for e in problem.errors)
    listed = "; ".join(f"{e.pointer}: {in_lang(e.detail, lang)}" for e in problem.errors)
    if not case.expect_error:
        details = listed or in_lang(problem.detail, lang)
        return Outcome(case, (say("case.unexpected-error", status=problem.status, details=details).in_lang(lang),))
    failures = []
    if "status" in case.expect_error and case.expect_error["status"] != problem.status:
        failures.append(say("case.status", expected=case.expect_error["status"], actual=problem.status).in_lang(lang))
    wanted = sorted(case.expect_error.get("pointers", []))
    if "pointers" in case.expect_error and wanted != got:
        failures.append(say("case.pointers", expected=wanted, actual=got, details=listed).in_lang(lang))
    return Outcome(case, tuple(failures))


def resolve(data, path: str):
    """Follow a dotted path; list steps match by id, year or tier before falling back to an index."""
    current = data
    for step in str(path).split("."):
        if isinstance(current, dict):
            if step not in current:
                return False, None
            current = current[step]
        elif isinstance(current, list):
            match = _list_item(current, step)
            if match is None:
                return False, None
            current = match
        else:
            return False, None
    return True, current


def _list_item(items: list, step: str):
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("id") == step:
            return item
        if "year" in item and str(item["year"]) == step:
            return item
        if "tier" in item and _same_number(item["tier"], step):
            return item
    if step.isdigit() and int(step) < len(items):
        return items[int(step)]
    return None


def _same_number(a, b) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return False


def _equal(expected, actual) -> bool:
    if isinstance(expected, (dt.date, dt.datetime)):
        expected = expected.isoformat()
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, (int, float)) and isinstance(actual, str):
        # an officer may write money as a number (293 or 293.5): compared as decimals with the "293.00" string
        try:
            return Decimal(str(expected)) == Decimal(actual)
        except InvalidOperation:
            return False
    return expected == actual


def _show(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value) if not isinstance(value, bool) else str(value).lower()


def _policy_lines(explanation: Step | None, expect: dict) -> tuple[str, ...]:
    """The policy lines behind the figures a failing case looked at."""
    if not explanation:
        return ()
    keys = {str(p).split(".")[2] if str(p).startswith("monthly_pension.components.") else str(p).split(".")[0]
            for p in expect}
    years = {str(p).split(".")[1] for p in expect if str(p).startswith("contributions.")}
    found: dict[str, None] = {}

    seen: set[tuple[int, bool]] = set()

    def walk(step: Step, inside: bool) -> None:
        if (id(step), inside) in seen:  # steps are shared (a `let` used many times): each is walked once
            return
        seen.add((id(step), inside))
        here = inside or step.id in keys or any(step.id == f"contribution_{y}" for y in years)
        if here and step.span:
            found[f"{step.span.file}:{step.span.line}"] = None
        for child in step.children:
            walk(child, here)

    walk(explanation, False)
    return tuple(list(found)[:8])


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
