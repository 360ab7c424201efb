"""The scalar back end's shortcuts without an explanation (engine.core.one_person, engine.core.lookup, engine.core.person).

What is kept per policy version (interest rates by year, bonus bands, credited amounts, layers, the texts of
unconfirmed figures) must not change a figure: every person of a mixed population is decided with the memos warm from
everyone before and again with them emptied, and without the explanation as with it. `read_person`'s one-pass
reading of a plain record must give what the field-by-field reading gives, problems included.
"""
from __future__ import annotations

import datetime as dt
import importlib
import json
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from engine import evaluate, read_person
from engine.core import person as person_module
from engine.core.algebra import SCALAR, band_index
from engine.core.memo import Memo
from engine.core.prepared import Prepared, prepare
from engine.core.schedules import band_amount
from engine.language.errors import InvalidInput
from engine.populations.population import generate

AS_OF = dt.date(2026, 3, 1)
evaluate_module = importlib.import_module("engine.core.one_person")  # the module (engine.core.one_person is the function)


def memos(prepared: Prepared) -> dict:
    """Every memo a prepared policy keeps (its Memo and dict fields), by field: whatever they are named."""
    return {f.name: getattr(prepared, f.name) for f in attrs.fields(Prepared)
            if isinstance(getattr(prepared, f.name), (Memo, dict)) and f.name != "caps"}


def forget(policy) -> None:
    for memo in memos(prepare(policy)).values():
        memo.clear()


def _decide(policy, data, explain=False):
    try:
        return evaluate(policy, read_person(policy, data, AS_OF), AS_OF, explain=explain)
    except InvalidInput as error:
        return str(error)


@pytest.mark.parametrize("region", ["anhui", "ningxia", "yuxi", "nanjing", "chongqing"])
def test_memos_and_quiet_evaluation_change_no_figure(registry, region):
    policy = registry.policy(region)
    people = list(generate(policy, 150, seed=11, as_of=AS_OF))
    forget(policy)  # warmed by earlier tests on the session's registry: this test must see them made
    warm = [_decide(policy, p) for p in people]
    used = [name for name, memo in memos(prepare(policy)).items() if memo]
    assert len(used) >= 5, f"only {used} were used: the test would prove little"
    cold = []
    for p in people:
        forget(policy)
        for memo in (evaluate_module._RECORD_DAYS, person_module._MONEY_READ, person_module._DATES_READ):
            memo.clear()  # kept per process, not per policy
        cold.append(_decide(policy, p))
    explained = [_decide(policy, p, explain=True) for p in people]
    decided = [d for d in warm if not isinstance(d, str)]
    assert len(decided) > len(people) * 0.8
    assert any(d.uses_unconfirmed for d in decided) or region == "nanjing"
    for p, a, b, c in zip(people, warm, cold, explained):
        assert a == b, p["id"]
        if isinstance(c, str):
            assert a == c, p["id"]
        else:
            assert c.explanation is not None
            assert a == attrs.evolve(c, explanation=None), p["id"]


@pytest.mark.parametrize("region", ["anhui", "ningxia", "yuxi", "nanjing", "chongqing"])
def test_bands_and_layers_as_worked_out(registry, region):
    policy = registry.policy(region)
    bands = 0
    for name, layers in policy.definitions.items():
        for version in policy.all_versions(name):
            layer = policy.layer_of(version)  # worked out when the model was built
            assert layer in layers and any(v is version for v in layer.versions)
            if layers[0].kind == "bonus" and version.rows:
                for basis in [Decimal(n) for n in range(0, 111)] + [Decimal("64.5"), Decimal("15.0")]:
                    index = band_index(SCALAR, basis, version.rows)  # the schedule's band, written once
                    assert band_amount(SCALAR, version.rows, basis) == (version.rows[index].amount if index >= 0 else 0)
                bands += 1
    if region == "ningxia":
        assert bands, "no banded bonus: the test would prove nothing"


RECORDS = [
    {"year": 2015, "tier": "500.00", "kind": "regular", "date": "2015-03-01"},
    {"year": 2015, "tier": "500", "kind": "regular"},
    {"year": 2014, "tier": "300.5", "kind": "back_payment", "date": "2016-01-02", "collective": "20.00"},
    {"year": 2014, "tier": 500, "kind": "regular"},
    {"year": 2014, "tier": 500.0, "kind": "regular"},
    {"year": 2014, "tier": "500.00", "kind": "regular", "collective": 0},
    {"year": 2014, "tier": "500.00", "kind": "regular", "collective": "-1"},
    {"year": 2014.0, "tier": "500.00", "kind": "regular"},
    {"year": True, "tier": "500.00", "kind": "regular"},
    {"year": 1899, "tier": "500.00", "kind": "regular"},
    {"year": 2101, "tier": "500.00", "kind": "regular"},
    {"year": "2014", "tier": "500.00", "kind": "regular"},
    {"year": 2014, "tier": "5e2", "kind": "regular"},
    {"year": 2014, "tier": "-500", "kind": "regular"},
    {"year": 2014, "tier": "500.001", "kind": "regular"},
    {"year": 2014, "tier": "500.00\n", "kind": "regular"},
    {"year": 2014, "tier": None, "kind": "regular"},
    {"year": 2014, "tier": "500.00", "kind": "Regular"},
    {"year": 2014, "tier": "500.00", "kind": 1},
    {"year": 2014, "tier": "500.00"},
    {"year": 2014, "tier": "500.00", "kind": "regular", "date": "2014-02-30"},
    {"year": 2014, "tier": "500.00", "kind": "regular", "date": "2014-2-3"},
    {"year": 2014, "tier": "500.00", "kind": "regular", "date": "1899-12-31"},
    {"year": 2014, "tier": "500.00", "kind": "regular", "date": 20140203},
    {"year": 2014, "tier": "500.00", "kind": "regular", "date": None},
    {"year": 2014, "tier": "500.00", "kind": "regular", "note": "x"},
    None,
    [],
    "2014",
]


@pytest.mark.parametrize("item", RECORDS, ids=range(len(RECORDS)))
def test_plain_record_read_as_field_by_field(registry, item, monkeypatch):
    policy = registry.policy("ningxia")
    data = {"birth_date": "1966-01-15", "hukou": {"type": "rural"},
            "contributions": [{"year": 2013, "tier": "500.00", "kind": "regular", "date": "2013-03-01"}, item]}

    def read():
        try:
            person = read_person(policy, data, AS_OF)
            # the texts too: Decimals compare by value (500 == 500.00), the answers print what was read
            return person, [(str(r.tier), str(r.collective), r.date) for r in person.contributions]
        except InvalidInput as error:
            return type(error), str(error), [(str(e.pointer), str(e.detail)) for e in error.errors], error.malformed

    fast = read()
    assert read() == fast  # the texts read before now come from the reader's memos
    person_module._MONEY_READ.clear()
    person_module._DATES_READ.clear()
    assert read() == fast
    monkeypatch.setattr(person_module, "_plain_record", lambda i, item: None)
    assert read() == fast


def test_texts_read_again_are_the_same_objects(registry):
    """Equal texts give the very same Decimal and date: the price memo's keys then compare by identity (speed
    only), and a text refused once is refused again (nothing invalid is kept)."""
    policy = registry.policy("ningxia")
    data = {"birth_date": "1966-01-15", "hukou": {"type": "rural"}, "contributions": [
        {"year": 2013, "tier": "500.00", "kind": "regular", "date": "2013-03-01"},
        {"year": 2014, "tier": "500.00", "kind": "regular", "date": "2014-03-01", "collective": "500.00"}]}
    first, second = (read_person(policy, data, AS_OF).contributions for _ in range(2))
    assert first[0].tier is second[0].tier is first[1].tier is first[1].collective
    assert first[0].date is second[0].date
    for _ in range(2):
        assert person_module._plain_date("2014-02-30") is None and person_module._plain_money("5e2") is None


def test_rows_kept_on_shared_figures_keep_each_persons_texts(registry):
    """Two persons paying 500 and 500.00 on the same day share one `Priced` (equal keys), and the answer's row
    kept on it: each answer still carries the tier as its person wrote it."""
    policy = registry.policy("ningxia")

    def person(tier):
        return {"birth_date": "1966-01-15", "hukou": {"type": "rural"},
                "contributions": [{"year": 2013, "tier": tier, "kind": "regular", "date": "2013-03-01"}]}

    for first, second in (("500", "500.00"), ("500.00", "500")):
        for tier in (first, second, first):
            decision = evaluate(policy, read_person(policy, person(tier), AS_OF), AS_OF)
            assert str(decision.contributions[0].tier) == tier


def test_a_shared_row_is_rendered_once_and_each_answer_owns_its_json(registry):
    """Rows shared between answers keep their JSON (engine.core.render.row_json): two persons paying alike render the
    same text as a row rendered afresh, and changing one answer's JSON changes no other."""
    from engine.core.render import _row_json, decision_json

    policy = registry.policy("ningxia")
    data = json.loads((Path(__file__).parent.parent / "examples" / "ningxia-tier500-2011-2025.json").read_text())
    first, second = (evaluate(policy, read_person(policy, data, AS_OF), AS_OF) for _ in range(2))
    assert first.contributions[0] is second.contributions[0], "rows not shared: the test would prove nothing"
    a, b = decision_json(first), decision_json(second)
    assert a["contributions"] == b["contributions"] == [_row_json(r) for r in first.contributions]
    a["contributions"][0]["tier"] = "changed"
    a["contributions"][0]["subsidy"]["by_level"]["province"] = "changed"
    again = decision_json(second)["contributions"][0]
    assert again == _row_json(second.contributions[0]) and again["tier"] != "changed"
    assert "changed" not in again["subsidy"]["by_level"].values()
