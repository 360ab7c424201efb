"""The "why" a caseworker reads (issue "Chinese first"): each figure is printed once — a later use of the
same step is one line that refers back to it — and a formula names the numbers it shows. The JSON
explanation stays the full tree (contract.md)."""
import json
import re
from pathlib import Path

import pytest

from engine import evaluate, read_as_of, read_person
from engine.core.render import decision_json, decision_text, explanation_text, fold_repeats
from engine.core.trace import Step

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ningxia-tier500-2011-2025.json"  # README: jubao eval --region ningxia …
AS_OF = "2026-03-01"
# Measured on the README example before this change: the text was 325 lines (the account subtree twice);
# with each figure once it is 165. The JSON explanation had 105 nodes, and still has.
LINES_BEFORE = 325
LINES_BOUND = 170
JSON_NODES = 105


def _example(registry, lang="zh"):
    policy = registry.policy("ningxia")
    day = read_as_of(AS_OF)
    person = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return evaluate(policy, read_person(policy, person, day), day, explain=True, lang=lang)


def _node_lines(text: str) -> list[str]:
    """The lines that start a node (label = value, or a reference back), without the tree's drawing."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^([│ ]*)([├└] )?(.*)$", line)
        body = m.group(3)
        if m.group(2) or (not m.group(1) and body):
            out.append(body)
    return out


def _count(node) -> int:
    return 1 + sum(_count(c) for c in node["children"])


def _nodes(node):
    yield node
    for child in node["children"]:
        yield from _nodes(child)


def test_the_readme_example_prints_the_balance_at_pension_start_once_and_refers_back(registry):
    text = explanation_text(_example(registry).explanation)
    nodes = _node_lines(text)
    full = [n for n in nodes if n.startswith("领取时账户余额 = ")]
    refs = [n for n in nodes if n.startswith("见上：领取时账户余额")]
    assert full == ["领取时账户余额 = 9639.11 【暂定值】  ← policies/national/pension.policy:20"]
    assert refs == ["见上：领取时账户余额 9639.11"]
    # the reference is one line: the next line is the end of the tree (it was the last child)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "见上：领取时账户余额" in line)
    assert at == len(lines) - 1
    # the yearly records and interest under it appear once each
    assert sum(1 for n in nodes if n.startswith("2011 年缴费 = ")) == 1
    assert sum(1 for n in nodes if n.startswith("2025 年利息 = ")) == 1


def test_every_figure_line_of_the_readme_example_is_printed_once(registry):
    for lang in ("zh", "en"):
        nodes = _node_lines(explanation_text(_example(registry, lang).explanation, lang))
        shown = [n for n in nodes if not n.startswith(("见上：", "see above: "))]
        assert len(shown) == len(set(shown)), [n for n in shown if shown.count(n) > 1]
        assert any(n.startswith(("见上：", "see above: ")) for n in nodes)


def test_the_readme_example_text_is_well_below_its_former_length(registry):
    decision = _example(registry)
    lines = decision_text(decision).splitlines()
    assert len(lines) <= LINES_BOUND < LINES_BEFORE // 2 + 10
    en = decision_text(_example(registry, "en"), "en").splitlines()
    assert len(en) <= LINES_BOUND
    assert en[-1].endswith("see above: balance at pension start 9639.11")


def test_formula_lines_name_their_numbers(registry):
    text = explanation_text(_example(registry).explanation)
    # required years: the figure and the two years, each with its name (was min(15, 2026 − 2011))
    assert "min(累计缴费年限要求 15, 年满领取年龄年份 2026 − 参保起始年份 2011)" in text
    # the balance now: was max(0, 9639.11 − 69.35 × 2); the 0 is the formula's own
    assert "max(0, 领取时账户余额 9639.11 − 个人账户养老金 69.35 × 已领月数 2)" in text
    # interest: was 570.00 × 3.00%
    assert "年初余额 570.00 × 记账利率 3.00%" in text
    # a bonus beyond N: N (15) is written in the policy and stays bare; the builtin is named
    assert "每年 2.00 × max(0, 累计缴费年限 15 − 15)" in text
    assert "计入的缴费记录 15" in text
    # no formula line of a mechanics step is left with only bare numbers between its operators
    assert "min(15, " not in text and "max(0, 9639.11" not in text

    en = explanation_text(_example(registry, "en").explanation, "en")
    assert "min(required contribution years 15, year reaching pension age 2026 − scheme start year 2011)" in en
    assert "max(0, balance at pension start 9639.11 − account pension 69.35 × months paid 2)" in en
    assert "balance at start of year 570.00 × interest rate 3.00%" in en
    assert "2.00 a year × max(0, counted years 15 − 15)" in en


def test_required_years_of_someone_of_pension_age_at_the_scheme_start_names_both_ages(determine):
    person = {"birth_date": "1945-04-01", "hukou": {"type": "rural", "county": "明光"}, "contributions": []}
    d = determine("anhui", "2019-07-15", person, explain=True)
    required = next(n for n in _nodes(d["explanation"]) if n["id"] == "required_years")
    assert re.fullmatch(r"参保时年龄 \d+ ≥ 领取年龄 60", required["formula"]), required["formula"]
    counted = next(n for n in _nodes(d["explanation"]) if n["id"] == "counted_years")
    assert counted["formula"] == "min(计入的缴费记录 0, 累计缴费年限要求 15)"  # less than 15 required: capped


def test_the_json_explanation_stays_the_full_tree(registry):
    for lang in ("zh", "en"):
        tree = decision_json(_example(registry, lang))["explanation"]
        assert _count(tree) == JSON_NODES
        # the balance at pension start is there in full both times, with its records and interest
        uses = [n for n in _nodes(tree) if n["id"] == "balance_at_pension_start"]
        assert len(uses) == 2 and uses[0] == uses[1] and len(uses[0]["children"]) == 29
        for node in _nodes(tree):
            assert set(node) == {"id", "label", "value", "formula", "source", "citation", "in_force", "status",
                                 "children"}


def test_fold_repeats_marks_later_uses_and_leaves_the_json_alone(registry):
    tree = decision_json(_example(registry))["explanation"]
    before = json.dumps(tree, ensure_ascii=False, sort_keys=True)
    folded = fold_repeats(tree)
    assert json.dumps(tree, ensure_ascii=False, sort_keys=True) == before  # not changed in place
    refs = [n for n in _nodes(folded) if n.get("see_above")]
    assert {"id": "balance_at_pension_start", "label": "领取时账户余额", "value": "9639.11", "see_above": True,
            "children": []} in refs
    shown = [n for n in _nodes(folded) if not n.get("see_above")]
    assert sum(1 for n in shown if n["id"] == "balance_at_pension_start") == 1
    assert _count(folded) < JSON_NODES


def _step(id, value, children=(), formula=None):
    return Step(id, id, value, formula, children=tuple(children))


def test_a_shared_step_and_an_equal_step_are_printed_once_but_a_different_one_is_not():
    leaf = _step("rate", "3.00%")
    shared = _step("balance", "10.00", [leaf], "a + b")
    equal = _step("balance", "10.00", [_step("rate", "3.00%")], "a + b")  # another object, same content
    other = _step("balance", "10.00", [_step("rate", "2.75%")], "a + b")  # same label and value, other reasons
    root = _step("root", "1", [shared, shared, equal, other])
    text = explanation_text(root)
    assert text.count("见上：balance 10.00") == 2
    assert text.count("balance = 10.00") == 2  # the first, and the one with other reasons
    assert "rate = 3.00%" in text and "rate = 2.75%" in text
    en = explanation_text(root, "en")
    assert en.count("see above: balance 10.00") == 2


@pytest.fixture()
def client(tmp_path):
    from web import create_app

    app = create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    return app.test_client()


def test_the_decision_page_shows_each_figure_once(client):
    person = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    d = client.post("/v1/regions/ningxia/entitlements", data=json.dumps({"as_of": AS_OF, "person": person}),
                    content_type="application/json").get_json()
    html = client.get(f"/decisions/{d['decision_id']}").get_data(as_text=True)
    assert html.count('<summary><span class="why-label">领取时账户余额</span> = ') == 1
    assert html.count('<div class="why-ref">见上：<span class="why-label">领取时账户余额</span> '
                      '<span class="why-value">9639.11</span></div>') == 1
    assert html.count("2011 年缴费</span> = ") == 1
    en = client.get(f"/decisions/{d['decision_id']}?lang=en").get_data(as_text=True)
    assert en.count('<div class="why-ref">see above: <span class="why-label">balance at pension start</span> '
                    '<span class="why-value">9639.11</span></div>') == 1
    # the API's explanation of the same decision is the full tree
    api = client.get(f"/v1/decisions/{d['decision_id']}").get_json()
    assert _count(api["explanation"]) == JSON_NODES
