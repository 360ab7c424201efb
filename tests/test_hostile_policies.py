"""Hostile policy text cannot make a request do exponential work (issue: hold under hostile input).

Each `let` below adds the previous one to itself: the steps are shared, so the evaluation and its
explanation are linear in the number of lines, while the explanation *as a tree* doubles with each
line. The tree is cut at a node budget; case runs do not build explanations unless a case fails, and
then walk shared steps once. These tests count work (steps, nodes), not seconds.
"""
import json
from pathlib import Path

from engine import Registry, evaluate, policy_from_texts, read_as_of, read_person
from engine.core.render import decision_json, explanation_text
from engine.tools.cases import load_cases, run_case

ROOT = Path(__file__).resolve().parent.parent
PERSON = {"id": "mg-1", "birth_date": "1955-04-01", "hukou": {"type": "rural", "county": "明光"},
          "groups": [{"id": "poverty_registered", "from": "2019-06-10"}], "contributions": []}


def doubling(n: int) -> str:
    lines = ["region anhui", "let d0 = central_basic_pension", "  cite 安徽高质量发展"]
    for i in range(1, n + 1):
        lines += [f"let d{i} = d{i - 1} + d{i - 1}", "  cite 安徽高质量发展"]
    lines += [f'component basic_pension "基础养老金" = d{n}', "  cite 安徽高质量发展"]
    return "\n".join(lines) + "\n"


def _distinct(step, seen):
    if id(step) in seen:
        return
    seen.add(id(step))
    for child in step.children:
        _distinct(child, seen)


def _count(node) -> int:
    return 1 + sum(_count(c) for c in node["children"])


def test_shared_steps_are_built_once_and_the_tree_is_cut_at_its_budget(registry):
    policy = policy_from_texts({"doubling.policy": doubling(40)}, base=registry)
    as_of = read_as_of("2019-07-15")
    decision = evaluate(policy, read_person(policy, PERSON, as_of), as_of, explain=True)
    basic = decision.monthly_pension.component("basic_pension").amount.total
    assert basic == 88 * 2 ** 40  # the figures are complete (central basic pension 88.00 from 2018-01-01)
    seen: set = set()
    _distinct(decision.explanation, seen)
    assert len(seen) < 400  # linear in the lines (2^40 paths)
    tree = decision_json(decision, max_nodes=5_000)["explanation"]
    assert _count(tree) <= 5_000 + 50
    text = json.dumps(tree, ensure_ascii=False)
    assert "explanation_cut" in text
    # The caseworker text shows each shared step once and refers back to it: linear, no cut needed ...
    full = explanation_text(decision.explanation, max_nodes=2_000)
    assert "说明过长" not in full and "见上：" in full
    assert len(full.splitlines()) < 6 * len(seen)
    # ... and a smaller budget still cuts it
    assert "说明过长" in explanation_text(decision.explanation, max_nodes=20)


def test_case_runs_walk_shared_steps_once(registry):
    policy = policy_from_texts({"doubling.policy": doubling(40)}, base=registry)
    cases = [c for c in load_cases(ROOT / "policies" / "anhui", "anhui", ROOT)
             if any("monthly_pension" in str(k) for k in (c.expect or {}))][:5]
    outcomes = [run_case(policy, case) for case in cases]
    assert any(not o.passed for o in outcomes)
    assert all(len(o.lines) <= 8 for o in outcomes)


def test_the_test_endpoint_answers_a_doubling_policy(tmp_path):
    from web import create_app

    app = create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'j.sqlite3'}"})
    r = app.test_client().post("/v1/regions/anhui/test", data=json.dumps({"files": {"doubling.policy": doubling(30)}}),
                               content_type="application/json")
    assert r.status_code == 200
    body = r.get_json()
    assert body["tests"]["failed"] > 0 and not body["ok"]


def test_the_api_cuts_an_explanation_at_its_setting(tmp_path):
    from web import create_app

    app = create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'j.sqlite3'}",
                      "max_explanation_nodes": 10})
    r = app.test_client().post("/v1/regions/anhui/entitlements", content_type="application/json",
                               data=json.dumps({"as_of": "2019-07-15", "explain": True, "person": PERSON}))
    assert r.status_code == 200
    d = r.get_json()
    assert d["monthly_pension"]["total"] == "110.00"
    assert _count(d["explanation"]) <= 10 + 5 and "explanation_cut" in json.dumps(d["explanation"])


def test_registry_fixture_is_untouched(registry: Registry):
    assert "doubling.policy" not in {n.rsplit("/", 1)[-1] for n in registry.sources["anhui"]}


def test_parsing_feeds_each_line_to_the_parser_once():
    """Block-by-block parsing once padded each block with all earlier newlines (quadratic in blocks)."""
    from engine.language.parse import _chunks

    text = "region anhui\n" + "".join(f"let x{i} = {i}\n  cite s\n" for i in range(2000))
    fed = sum(len(chunk) for _, chunk in _chunks(text))
    assert fed <= len(text) + 2 * 2001


def test_many_versions_are_checked_with_their_lines_right(registry):
    """A value with thousands of versions checks clean, and one overlap among them is found at its line."""
    import datetime as dt

    from engine import check_texts

    day = dt.date(1950, 1, 1)
    lines = ["region anhui", 'value many "多版本": 元/月']
    lines += [f"  from {day + dt.timedelta(days=i)}  1.00  cite 安徽高质量发展" for i in range(3000)]
    assert check_texts({"many.policy": "\n".join(lines) + "\n"}, base=registry) == []
    lines[1000] = lines[1000].replace("  1.00", " until 2099-12-31  1.00")
    found = check_texts({"many.policy": "\n".join(lines) + "\n"}, base=registry)
    # the version on line 1001 now runs to 2099: each later one is reported once, at its own line
    assert {d.code for d in found} == {"overlapping-periods"} and found[0].span.line == 1002
    assert [d.span.line for d in found[:3]] == [1002, 1003, 1004] and len(found) < 2100
