"""The API's words in the asked language, Chinese by default (issue 32, caseworkers):

"`eligibility.reason_texts` beside the contract's `reasons` (which stay as they are), `uses_unconfirmed[].text` on
every answer, jubao test's failure lines (期望 … 实际), problem titles in the asked language only, problem `type`
URIs that resolve to a page of this service that explains the problem (not a placeholder host), a `text/plain` body
answered 415", and "field errors name the field by its label (参保起始日), never by its JSON id".
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from web import create_app

ROOT = Path(__file__).resolve().parent.parent
ROUTES = {  # (region, as_of, PERSON): one person per way a pension starts, or does not
    "poverty route": ("anhui", "2019-07-15", {"birth_date": "1955-04-01", "hukou": {"type": "rural", "county": "明光"},
                                              "groups": [{"id": "poverty_registered", "from": "2019-06-10"}]}),
    "aged 60 at the start": ("national", "2025-06-30", {"birth_date": "1949-05-20", "scheme_start_date": "2011-07-01"}),
    "paid the years": ("ningxia", "2026-03-01",
                       json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text("utf-8"))),
    "not yet": ("ningxia", "2020-06-30", {"birth_date": "1970-01-01", "hukou": {"type": "rural"}}),
    "given": ("ningxia", "2020-06-30", {"birth_date": "1950-01-01", "hukou": {"type": "rural"},
                                        "pension_start_date": "2011-07-01"}),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return create_app({"data_dir": tmp_path_factory.mktemp("words")}).test_client()


def eligibility_words(node: dict) -> str:
    """The Chinese reasons as the explanation's eligibility step words them (engine.core.one_person)."""
    if node["id"] == "eligibility":
        return node["formula"]
    return next((found for child in node["children"] if (found := eligibility_words(child))), "")


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_reason_texts_say_the_reasons_in_chinese_beside_the_contracts_reasons(client, route):
    region, as_of, person = ROUTES[route]
    zh = client.post(f"/v1/regions/{region}/entitlements", json={"as_of": as_of, "person": person,
                                                                 "explain": True}).get_json()
    en = client.post(f"/v1/regions/{region}/entitlements?lang=en", json={"as_of": as_of, "person": person}).get_json()
    assert zh["eligibility"]["reasons"] == en["eligibility"]["reasons"]  # the contract's, unchanged
    assert "；".join(zh["eligibility"]["reason_texts"]) == eligibility_words(zh["explanation"])
    assert en["eligibility"]["reason_texts"] == en["eligibility"]["reasons"]
    stored = client.get(f"/v1/decisions/{zh['decision_id']}").get_json()
    assert stored["eligibility"]["reason_texts"] == zh["eligibility"]["reason_texts"]
    assert client.get(f"/v1/decisions/{zh['decision_id']}?lang=en").get_json()["eligibility"]["reason_texts"] == \
        en["eligibility"]["reasons"]


def test_every_answer_words_its_unconfirmed_figures(client):
    region, as_of, person = ROUTES["poverty route"]
    zh = client.post(f"/v1/regions/{region}/entitlements", json={"as_of": as_of, "person": person}).get_json()
    en = client.post(f"/v1/regions/{region}/entitlements?lang=en", json={"as_of": as_of, "person": person}).get_json()
    batch = client.post(f"/v1/regions/{region}/entitlements/batch", json={"as_of": as_of, "persons": [person]})
    [from_batch] = batch.get_json()["results"]
    assert zh["uses_unconfirmed"] and all(set(u) >= {"value", "text"} for u in zh["uses_unconfirmed"])
    assert [u["text"] for u in zh["uses_unconfirmed"]] == ["制度启动日 2012-01-01"]
    assert [u["text"] for u in en["uses_unconfirmed"]] == [u["value"] for u in en["uses_unconfirmed"]]
    assert [u["text"] for u in from_batch["uses_unconfirmed"]] == ["制度启动日 2012-01-01"]
    assert from_batch["eligibility"]["reason_texts"] == zh["eligibility"]["reason_texts"]


def test_problem_titles_are_in_the_asked_language_only_and_their_type_is_a_page_here(client):
    for lang, title in ((None, "请求内容无效"), ("en", "Invalid request")):
        answer = client.post("/v1/regions/ningxia/entitlements" + (f"?lang={lang}" if lang else ""),
                             json={"as_of": "2020-02-30", "person": {"birth_date": "1950-01-01"}})
        problem = answer.get_json()
        assert answer.status_code == 422 and problem["title"] == title
        assert problem["type"] == "http://localhost/problems/422" and "jubao.example" not in answer.get_data(True)
        page = client.get(problem["type"].removeprefix("http://localhost") + ("?lang=en" if lang else ""))
        assert page.status_code == 200 and page.content_type.startswith("text/html")
        html = page.get_data(as_text=True)
        assert ("请求内容无效" in html and "怎么办" in html) if lang is None else "Invalid request" in html
    unknown = client.get("/v1/regions/atlantis/policy").get_json()
    assert unknown["title"] == "未知地区" and unknown["type"].endswith("/problems/404")
    assert client.get("/problems/404").status_code == 200 and client.get("/problems/299").status_code == 404


def test_a_body_that_is_not_json_is_answered_415(client):
    person = {"as_of": "2019-07-15", "person": ROUTES["poverty route"][2]}
    for kind in ("text/plain", "application/x-www-form-urlencoded", "text/csv"):
        answer = client.post("/v1/regions/anhui/entitlements", data=json.dumps(person), content_type=kind)
        problem = answer.get_json()
        assert answer.status_code == 415 and problem["title"] == "不支持的媒体类型", problem
        assert kind in problem["detail"] and problem["type"].endswith("/problems/415")
    assert client.post("/v1/regions/anhui/entitlements", data=json.dumps(person),
                       content_type="application/json; charset=utf-8").status_code == 200
    assert client.post("/v1/regions/anhui/entitlements", data=json.dumps(person),
                       content_type="application/merge-patch+json").status_code == 200
    assert client.post("/v1/regions/anhui/entitlements", data=json.dumps(person)).status_code == 200  # none said


def details(answer) -> dict:
    return {e["pointer"]: e["detail"] for e in answer.get_json()["errors"]}


def test_field_errors_name_the_field_by_its_label(client):
    yuxi = details(client.post("/v1/regions/yuxi/entitlements", json={"as_of": "2021-01-01", "person": {
        "birth_date": "1960-01-01", "hukou": {"type": "rural"}}}))
    assert yuxi["/person/hukou/county"].startswith("必须填写户籍所在县，可选：")
    assert "（或填写参保起始日）" in yuxi["/person/hukou/county"] and "scheme_start_date" not in str(yuxi)
    cadre = details(client.post("/v1/regions/yuxi/entitlements", json={"as_of": "2021-01-01", "person": {
        "birth_date": "1960-01-01", "scheme_start_date": "2011-07-01",
        "groups": [{"id": "village_cadre", "from": "2019-01-01"}]}}))
    assert cadre["/person/groups/0/position"] == "人员类别「村干部」须填写「职务」，可选：书记/主任、副职、委员"
    twice = details(client.post("/v1/regions/yuxi/entitlements", json={"as_of": "2021-01-01", "person": {
        "birth_date": "1960-01-01", "scheme_start_date": "2011-07-01",
        "contributions": [{"year": 2019, "tier": "100.00", "kind": "regular", "date": "2019-03-01"},
                          {"year": 2019, "tier": "100.00", "kind": "regular", "date": "2019-04-01"}]}}))
    assert twice["/person/contributions/1/year"].endswith("（第一条是第 1 条缴费记录）")
    hukou = details(client.post("/v1/regions/ningxia/entitlements", json={"as_of": "2021-01-01", "person": {
        "birth_date": "1960-01-01", "hukou": {"type": "nomad"}}}))
    assert hukou["/person/hukou/type"] == "'nomad' 不在可选范围内：农村、城镇"
    english = details(client.post("/v1/regions/yuxi/entitlements?lang=en", json={"as_of": "2021-01-01", "person": {
        "birth_date": "1960-01-01", "hukou": {"type": "rural"}}}))
    assert "hukou.county" in english["/person/hukou/county"]  # the English keeps the rule book's ids


def test_the_cli_answers_a_problem_titled_in_its_language_with_the_services_page(tmp_path):
    jubao = str(Path(sys.executable).with_name("jubao"))
    for lang, title in (("zh", "请求内容无效"), ("en", "Invalid request")):
        run = subprocess.run([jubao, "eval", "--region", "ningxia", "--as-of", "2020-02-30", "-", "--format", "json",
                              "--lang", lang], input="{}", capture_output=True, text=True, cwd=tmp_path, timeout=120)
        problem = json.loads(run.stdout)
        assert run.returncode == 2 and problem["title"] == title and problem["type"] == "/problems/422"
