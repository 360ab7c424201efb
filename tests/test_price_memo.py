"""The pricing memo (engine.core.pricing): a record's figures kept per policy version without an explanation.

A memo keyed on less than what the figures depend on would hand one person another's figures (another
group's 代缴, another hukou's tier table) or drop an unconfirmed figure from `uses_unconfirmed`. Every person of
a mixed population is decided with the memo warm from everyone before, and again with the memo off: the
DETERMINATIONs, explanations included, must be equal, field by field.
"""
from __future__ import annotations

import datetime as dt

import pytest

from engine import evaluate, read_person
from engine.core.memo import Memo
from engine.core.render import decision_json
from engine.language.errors import InvalidInput
from engine.populations.population import generate

AS_OF = dt.date(2026, 3, 1)


def _decide(policy, data, explain=False):
    try:
        return decision_json(evaluate(policy, read_person(policy, data, AS_OF), AS_OF, explain=explain))
    except InvalidInput as error:
        return {"error": str(error)}


@pytest.mark.parametrize("explain", [False, True], ids=["figures", "explained"])
@pytest.mark.parametrize("region", ["anhui", "ningxia", "yuxi", "nanjing", "chongqing"])
def test_memo_gives_every_person_their_own_figures(registry, region, explain, monkeypatch):
    policy = registry.policy(region)
    people = list(generate(policy, 300 if not explain else 120, seed=7, as_of=AS_OF))
    hits, get = [], Memo.get

    def counting_get(self, key):
        found = get(self, key)
        if found is not None:
            hits.append(key)
        return found

    monkeypatch.setattr(Memo, "get", counting_get)
    warm = [_decide(policy, p, explain) for p in people]
    assert len(hits) > 20, "the memo answered too rarely: the test would prove nothing"
    monkeypatch.setattr(Memo, "get", lambda self, key: None)
    cold = [_decide(policy, p, explain) for p in people]
    assert sum("error" not in w for w in warm) > len(people) * 0.8
    for person, a, b in zip(people, warm, cold):
        assert a == b, person["id"]


def test_memo_is_bounded():
    memo = Memo()
    for i in range(Memo.MOST * 2):
        memo.put(i, i)
    assert len(memo) == Memo.MOST and memo.get(Memo.MOST * 2 - 1) == Memo.MOST * 2 - 1
