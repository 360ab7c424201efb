import datetime as dt
import json
from pathlib import Path

import pytest

from engine import Registry, evaluate, read_as_of, read_person

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry(ROOT / "policies")


@pytest.fixture(scope="session")
def determine(registry):
    """determine(region, as_of, person, explain=False) → DETERMINATION dict."""

    def run(region: str, as_of: str, person: dict, explain: bool = False, lang: str = "zh") -> dict:
        policy = registry.policy(region)
        day = read_as_of(as_of)
        return evaluate(policy, read_person(policy, json.loads(json.dumps(person)), day), day, explain, lang)

    return run
