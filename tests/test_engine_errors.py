"""The engine speaks its own errors; the front ends choose the status (contract.md's 400/404/422/503)."""
import ast
import pickle
from pathlib import Path

import pytest

from engine import (
    InvalidInput,
    InvalidPerson,
    InvalidRecord,
    Problem,
    UnknownRegion,
    problem_of,
    read_as_of,
    read_person,
)
from engine.core.one_person import evaluate
from engine.language.errors import Diagnostic, FieldError, PolicyError
from engine.language.source import Span

ENGINE = Path(__file__).resolve().parent.parent / "engine"
FRONT_ENDS = {"problem.py", "cli.py", "cases.py", "batch.py", "__init__.py"}  # batch renders its error rows


@pytest.mark.parametrize("error", [
    InvalidPerson("the person is not valid", [FieldError("/person/birth_date", "required")]),
    InvalidPerson("wrong types", [FieldError("/person/groups", "expected a list")], malformed=True),
    InvalidRecord("records", [FieldError("/person/contributions/0/tier", "tier 250 is not open")]),
    InvalidInput("as_of is not a valid date", [FieldError("/as_of", "not a date")]),
    UnknownRegion("atlantis", ["anhui", "ningxia"]),
    Problem(422, "detail", [FieldError("/x", "y")], {"more": 1}),
])
def test_errors_pickle_with_every_field(error):
    # batch workers send them between processes
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
    assert problem_of(back).as_dict() == problem_of(error).as_dict()


def test_statuses_of_engine_errors():
    assert problem_of(InvalidPerson("x", malformed=True)).status == 400
    assert problem_of(InvalidRecord("x")).status == 422
    assert problem_of(UnknownRegion("x")).status == 404
    body = problem_of(PolicyError([Diagnostic("syntax", "bad", Span("a.policy", 3, 4))])).as_dict()
    assert body["status"] == 503 and body["diagnostics"][0]["line"] == 3


def test_invalid_records_raise_invalid_record(registry):
    policy = registry.policy("ningxia")
    day = read_as_of("2015-06-01")
    person = read_person(policy, {"birth_date": "1960-01-01", "hukou": {"type": "rural"},
                                  "contributions": [{"year": 2013, "tier": "250.00", "kind": "regular"}]}, day)
    with pytest.raises(InvalidRecord) as caught:
        evaluate(policy, person, day)
    assert [e.pointer for e in caught.value.errors] == ["/person/contributions/0/tier"]


def test_wrong_json_types_are_malformed(registry):
    with pytest.raises(InvalidPerson) as caught:
        read_person(registry.policy("anhui"), {"birth_date": 1950}, read_as_of("2020-01-01"))
    assert caught.value.malformed and caught.value.errors[0].pointer == "/person/birth_date"


def test_the_evaluation_raises_no_http_status():
    for path in ENGINE.glob("*.py"):
        if path.name in FRONT_ENDS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "engine.core.problem":
                pytest.fail(f"{path.name} imports engine.core.problem: only front ends report statuses")
            if isinstance(node, ast.Name) and node.id == "Problem":
                pytest.fail(f"{path.name} uses Problem")


def test_every_ningxia_row_carries_the_family_planning_reward(determine):
    """contract.md: "a Ningxia row also carries "family_planning_reward": "20.00" (or "0.00")" — back payments too."""
    person = {"birth_date": "1960-05-01", "hukou": {"type": "rural"},
              "contributions": [{"year": 2012, "tier": "300.00", "kind": "regular"},
                                {"year": 2013, "tier": "300.00", "kind": "back_payment", "date": "2014-03-01"}]}
    rows = determine("ningxia", "2015-01-01", person)["contributions"]
    assert [r["kind"] for r in rows] == ["regular", "back_payment"]
    assert all(r["family_planning_reward"] == "0.00" for r in rows)
