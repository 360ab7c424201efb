"""Every officer-written case in policies/<region>/tests/*.yaml, as a pytest case."""
from pathlib import Path

import pytest

from engine.language.registry import Registry
from engine.tools.cases import load_cases, run_case

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = Registry(ROOT / "policies")
CASES = [case for region in REGISTRY.regions
         for case in load_cases(ROOT / "policies" / region, region, ROOT)]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.region}:{c.line}:{c.name}" for c in CASES])
def test_policy_case(case):
    outcome = run_case(REGISTRY.policy(case.region), case)
    assert outcome.passed, f"{case.file}:{case.line} {case.name}\n" + "\n".join(outcome.failures) + \
        ("\npolicy lines: " + ", ".join(outcome.lines) if outcome.lines else "")


def test_every_region_has_cases():
    regions_with_cases = {c.region for c in CASES}
    assert regions_with_cases >= {"national", "ningxia", "anhui"} & set(REGISTRY.regions)
