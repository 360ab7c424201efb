"""Every answer the engine gives on a fixed set of persons, as JSON lines: the policy test cases of every region
and a synthetic population per region, each evaluated with its explanation (JSON and Chinese text) and without.

tests/test_compiled.py runs this twice, compiled and with JUBAO_PURE_PYTHON=1, and compares the two outputs.
Run: python tests/answers_dump.py [PERSONS_PER_REGION]
"""
import json
import sys
from pathlib import Path

import engine
from engine import Registry, evaluate, load_cases, problem_of, read_as_of, read_person
from engine.core.render import decision_json, decision_text
from engine.language.errors import InvalidInput
from engine.populations import population

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-03-01"


def answer(policy, person: dict, as_of_text: str, explain: bool) -> dict:
    try:
        as_of = read_as_of(as_of_text)
        decision = evaluate(policy, read_person(policy, person, as_of), as_of, explain=explain)
    except InvalidInput as error:
        return {"error": problem_of(error).as_dict()}
    out = decision_json(decision)
    if explain:
        out["text"] = decision_text(decision, "zh")
    return out


def main(size: int) -> None:
    registry = Registry(ROOT / "policies")
    print(json.dumps({"engine": engine.compiled.summary()}, ensure_ascii=False))
    for region in registry.regions:
        policy = registry.policy(region)
        persons = [(case.as_of, case.person) for case in load_cases(ROOT / "policies" / region, region, ROOT)]
        persons += [(AS_OF, p) for p in population.generate(policy, size, 7, read_as_of(AS_OF))]
        for i, (as_of, person) in enumerate(persons):
            for explain in (False, True):
                print(json.dumps({"region": region, "person": i, "explain": explain,
                                  "answer": answer(policy, person, str(as_of), explain)},
                                 ensure_ascii=False, sort_keys=True, default=str))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
