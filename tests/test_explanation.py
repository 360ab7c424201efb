"""The explanation as the recorder builds it: periods never backwards, the source's parentheses, the
table row used, shared definitions of the mechanics, and a recorder that only notes the lines used."""
import ast
import datetime as dt
from pathlib import Path

import pytest

from engine import evaluate, read_as_of, read_person
from engine.core.explain import RowsUsed
from engine.core.render import decision_json
from engine.tools.cases import _plain, load_cases

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["national", "anhui", "ningxia", "yuxi"]


def _steps(step):
    yield step
    for child in step.children:
        yield from _steps(child)


def _cases(registry, region):
    return [c for c in load_cases(ROOT / "policies" / region, region, ROOT) if not c.expect_error]


@pytest.mark.parametrize("region", REGIONS)
def test_in_force_is_never_backwards_in_any_case(registry, region):
    """Every node of every case's explanation: from ≤ to; the root's period holds the as-of date."""
    policy = registry.policy(region)
    checked = 0
    for case in _cases(registry, region):
        as_of = read_as_of(_plain(case.as_of))
        decision = evaluate(policy, read_person(policy, case.person, as_of), as_of, explain=True)
        for step in _steps(decision.explanation):
            period = step.in_force or {}
            if period.get("from") and period.get("to"):
                assert period["from"] <= period["to"], (case.name, step.id, period)
            checked += 1
        root = decision.explanation.in_force
        assert (root["from"] or "0000") <= as_of.isoformat() <= (root["to"] or "9999"), (case.name, root)
    assert checked > 500


def test_the_readme_example_root_period_contains_its_as_of_date(registry):
    # README's example: `jubao eval --region ningxia --as-of 2026-03-01 …` showed 2026-01-01 → 2014-11-21.
    policy = registry.policy("ningxia")
    import json

    data = json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8"))
    as_of = read_as_of("2026-03-01")
    root = decision_json(evaluate(policy, read_person(policy, data, as_of), as_of, explain=True))["explanation"]
    assert root["in_force"]["from"] <= "2026-03-01" and (root["in_force"]["to"] or "9999") >= "2026-03-01"


def test_formula_text_keeps_the_sources_parentheses(determine):
    # yuxi/city.policy: max(0, 低保标准 - (basic_pension + … + land_expropriated_addon))
    # Case "被征地农民 2014-07-01：加发 50，补足至农村低保 172.50": 172.50 − (70 + 5 + 0 + 0 + 50)
    person = {"birth_date": "1950-03-10", "hukou": {"type": "rural", "county": "红塔"},
              "groups": [{"id": "land_expropriated", "from": "2012-01-01"}], "contributions": []}
    d = determine("yuxi", "2014-07-01", person, explain=True)
    topup = next(s for s in _json_steps(d["explanation"]) if s["id"] == "land_expropriated_topup")
    assert topup["value"] == "47.50"
    assert "172.50 − (" in topup["formula"] and topup["formula"].endswith("))")


def _json_steps(node):
    yield node
    for child in node["children"]:
        yield from _json_steps(child)


def test_the_explanation_names_the_tier_row_used(registry):
    """A contribution's subsidy step points at the row of the tier table it used, not only at the table."""
    policy = registry.policy("ningxia")
    person = {"birth_date": "1960-05-01", "hukou": {"type": "rural"},
              "contributions": [{"year": 2012, "tier": "500.00", "kind": "regular"}]}
    as_of = read_as_of("2013-01-01")
    decision = evaluate(policy, read_person(policy, person, as_of), as_of, explain=True)
    step = next(s for s in _steps(decision.explanation) if s.id == "tier_subsidy")
    line = policy.files[step.span.file].line_text(step.span.line)
    assert "500" in line and "|" in line, line  # the 500 row of the 2011 table
    assert step.value == "70.00"  # domain.md §4: Ningxia 2011 tier 500 → province 70


def test_rows_used_recorder_notes_lines_without_building_steps(registry):
    policy = registry.policy("ningxia")
    person = {"birth_date": "1960-05-01", "hukou": {"type": "rural"},
              "contributions": [{"year": 2012, "tier": "500.00", "kind": "regular"}]}
    as_of = read_as_of("2013-01-01")
    used = RowsUsed(policy)
    decision = evaluate(policy, read_person(policy, person, as_of), as_of, recorder=used)
    assert decision.explanation is None
    files = {f for f, _ in used.lines}
    assert any(f.endswith("ningxia/contributions.policy") for f in files)
    tier_line = next(line for f, line in used.lines if f.endswith("ningxia/contributions.policy")
                     and "500" in policy.files[f].line_text(line) and "|" in policy.files[f].line_text(line))
    assert tier_line


def test_the_scalar_back_end_has_no_explain_branches():
    """The explanation comes from a recorder: the evaluation never asks whether one is wanted."""
    for name in ("core/one_person.py", "core/pricing.py", "core/plan.py", "core/mechanics.py", "columns/columnar.py"):
        tree = ast.parse((ROOT / "engine" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "explain":
                pytest.fail(f"{name} reads .explain")
            if isinstance(node, ast.Name) and node.id == "explain" and name != "core/one_person.py":
                pytest.fail(f"{name} uses `explain`")


def test_both_back_ends_import_the_same_mechanics():
    """One definition: the scalar and the population back ends use engine.core.mechanics, .plan and .pricing."""
    for name in ("core/one_person.py", "columns/columnar.py"):
        tree = ast.parse((ROOT / "engine" / name).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | \
            {f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
             for a in n.names}
        assert {"engine.core.mechanics", "engine.core.plan", "engine.core.pricing", "engine.core.lookup"} <= imported, name


def test_period_of_a_day_before_any_bound(registry, determine):
    # A person on the as-of date of the poverty route's start: every node still from ≤ to.
    person = {"id": "mg-1", "birth_date": "1955-04-01", "hukou": {"type": "rural", "county": "明光"},
              "groups": [{"id": "poverty_registered", "from": "2019-06-10"}], "contributions": []}
    d = determine("anhui", "2019-07-15", person, explain=True)
    for node in _json_steps(d["explanation"]):
        period = node["in_force"] or {}
        if period.get("from") and period.get("to"):
            assert dt.date.fromisoformat(period["from"]) <= dt.date.fromisoformat(period["to"])


def test_jubao_plan_shows_every_name_resolved():
    from tests.test_contract import jubao

    run = jubao("plan", "ningxia")
    assert run.returncode == 0, run.stderr
    assert "component basic_pension while receiving" in run.stdout
    assert "figure:central_basic_pension" in run.stdout and "builtin:balance_at_pension_start" in run.stdout
    missing = jubao("plan", "atlantis")
    assert missing.returncode == 2 and "未知地区" in missing.stderr and "Traceback" not in missing.stderr


def test_the_caseworker_text_names_components_and_unconfirmed_figures_in_chinese():
    from tests.test_contract import jubao

    run = jubao("eval", "--region", "ningxia", "--as-of", "2026-03-01",
                str(ROOT / "examples" / "ningxia-tier500-2011-2025.json"))
    assert run.returncode == 0, run.stderr
    head = run.stdout.split("\n\n", 1)[0]
    assert "基础养老金: 253.00（中央 163.00，省级 90.00）" in head and "basic_pension" not in head
    assert "未确认数值【暂定值】宁夏基础养老金 90.00（policies/ningxia/pension.policy:8）" in head
    assert "from 2019" not in head and "interest rate" not in head
    english = jubao("eval", "--region", "ningxia", "--as-of", "2026-03-01", "--lang", "en",
                    str(ROOT / "examples" / "ningxia-tier500-2011-2025.json"))
    assert "basic_pension: 253.00 (central 163.00, province 90.00)" in english.stdout
    assert "ningxia Ningxia basic pension 90.00" in english.stdout  # the canonical text, as in the JSON


def test_jubao_version():
    from tests.test_contract import jubao

    run = jubao("--version")
    assert run.returncode == 0 and run.stdout.startswith("jubao, version ")
