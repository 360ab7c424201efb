"""contract.md: the DETERMINATION example, reproduced by `jubao eval --format json`."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUBAO = [sys.executable, "-m", "engine.cli"]


def jubao(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(JUBAO + list(args), input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)


MINGGUANG = {"id": "mg-1", "birth_date": "1955-04-01", "hukou": {"type": "rural", "county": "明光"},
             "groups": [{"id": "poverty_registered", "from": "2019-06-10"}], "contributions": []}


def test_contract_determination_example_is_reproduced():
    run = jubao("eval", "--region", "anhui", "--as-of", "2019-07-15", "-", "--format", "json", "--explain",
                stdin=json.dumps(MINGGUANG, ensure_ascii=False))
    assert run.returncode == 0, run.stderr
    d = json.loads(run.stdout)
    # Figures and fields exactly as in contract.md's "DETERMINATION — a consistent example".
    assert d["region"] == "anhui" and d["as_of"] == "2019-07-15" and d["person_id"] == "mg-1"
    assert d["policy_version"].startswith("sha256:") and len(d["policy_version"]) == 7 + 64
    assert d["status"] == "receiving"
    e = d["eligibility"]
    assert (e["eligible"], e["required_years"], e["counted_years"], e["pension_start_date"]) == \
        (True, 3, 0, "2019-07-01")
    assert e["reasons"] == ["poverty_registered aged 60+ without a pension draws the basic pension (2018-11 rule)"]
    assert d["monthly_pension"] == {"total": "110.00", "components": [
        {"id": "basic_pension", "amount": "110.00", "by_level": {"central": "88.00", "province": "22.00"}},
        {"id": "long_contribution_bonus", "amount": "0.00"},
        {"id": "age_addon", "amount": "0.00"},
        {"id": "account_pension", "amount": "0.00"}]}
    assert d["contributions"] == []
    assert d["account"] == {"balance": "0.00", "balance_at_pension_start": "0.00"}
    assert d["death"] == {"funeral_grant": "0.00", "inheritable_balance": "0.00"}
    assert d["tier_options"] == []
    [unconfirmed] = d["uses_unconfirmed"]
    assert unconfirmed["value"] == "anhui default scheme start 2012-01-01"
    assert unconfirmed["status"] == "provisional" and unconfirmed["used_by"] == ["eligibility.required_years"]
    assert unconfirmed["file"].startswith("policies/anhui/") and unconfirmed["file"].endswith(".policy")
    root = d["explanation"]
    assert (root["id"], root["label"], root["value"]) == ("monthly_pension", "月养老金", "110.00")
    assert root["formula"] == "基础养老金 110.00 + 长缴多得 0.00 + 高龄补贴 0.00 + 个人账户养老金 0.00"
    assert root["in_force"]["from"] == "2019-01-01"
    assert set(root) >= {"source", "citation", "in_force", "status", "children"}


def _walk(node):
    yield node
    for child in node["children"]:
        yield from _walk(child)


def test_every_explanation_node_has_source_period_and_citation():
    person = json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8"))
    run = jubao("eval", "--region", "ningxia", "--as-of", "2026-03-01", "-", "--format", "json", "--explain",
                stdin=json.dumps(person))
    root = json.loads(run.stdout)["explanation"]
    for node in _walk(root):
        if node["id"] in ("age", "counted_years_fact", "scheme_start") and node["source"] is None:
            continue
        assert node["source"] and node["source"]["line"] >= 1, node["id"]
        assert node["citation"], node["id"]
        assert node["in_force"] is not None, node["id"]
        assert node["status"] in ("law", "seed", "proposal", "provisional"), node["id"]


def test_explanation_in_english():
    run = jubao("eval", "--region", "anhui", "--as-of", "2019-07-15", "-", "--format", "json", "--explain",
                "--lang", "en", stdin=json.dumps(MINGGUANG))
    root = json.loads(run.stdout)["explanation"]
    assert root["label"] == "monthly pension"
    assert root["formula"] == "basic pension 110.00 + long-contribution bonus 0.00 + age add-on 0.00 + " \
                              "account pension 0.00"


def test_text_explanation_marks_provisional_values():
    person = (ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8")
    run = jubao("eval", "--region", "ningxia", "--as-of", "2026-03-01", "-", "--explain", stdin=person)
    assert run.returncode == 0
    assert "宁夏基础养老金 = 90.00 【暂定值】  ← policies/ningxia/pension.policy:" in run.stdout
    assert "月养老金 = 322.35" in run.stdout
