"""The HTTP API of contract.md: endpoints, errors, batch, check, OpenAPI conformance, decision log."""
import json
from pathlib import Path

import jsonschema
import pytest
from conftest import database_kinds, sqlite_write_switch
from conftest import database_url as url_for

from web import create_app

ROOT = Path(__file__).resolve().parent.parent
MINGGUANG = json.loads((ROOT / "examples" / "anhui-mingguang.json").read_text(encoding="utf-8"))


@pytest.fixture(params=list(database_kinds()))
def app(request, tmp_path):
    url = url_for(request.param, tmp_path)
    return create_app({"data_dir": tmp_path, "database_url": url, "max_body": 200_000, "max_batch": 5})


@pytest.fixture
def client(app):
    return app.test_client()


def post(client, path, body):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body, ensure_ascii=False)
    return client.post(path, data=data, content_type="application/json")


def validate(app, response, name):
    doc = app.test_client().get("/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    jsonschema.validate(response.get_json(), schema, cls=jsonschema.Draft202012Validator)


def test_entitlement_matches_the_contract_example(app, client):
    r = post(client, "/v1/regions/anhui/entitlements", {"as_of": "2019-07-15", "explain": True, "person": MINGGUANG})
    assert r.status_code == 200
    d = r.get_json()
    assert d["monthly_pension"]["total"] == "110.00"
    assert d["eligibility"]["pension_start_date"] == "2019-07-01"
    assert d["decision_id"] and d["explanation"]["id"] == "monthly_pension"
    validate(app, r, "Determination")


def test_decision_log_stores_and_re_renders(app, client):
    d = post(client, "/v1/regions/anhui/entitlements", {"as_of": "2019-07-15", "person": MINGGUANG}).get_json()
    assert "explanation" not in d
    stored = client.get(f"/v1/decisions/{d['decision_id']}")
    assert stored.status_code == 200
    s = stored.get_json()
    assert s["decision_id"] == d["decision_id"] and s["policy_version"] == d["policy_version"]
    assert s["monthly_pension"] == d["monthly_pension"]
    assert s["explanation"]["value"] == "110.00"
    validate(app, stored, "Determination")
    log = app.extensions["jubao.decisions"]
    row = log.get(d["decision_id"])
    assert row["region"] == "anhui" and row["request"]["person"]["hukou"]["county"] == "明光"


def test_unknown_decision_is_404(client):
    r = client.get("/v1/decisions/0123456789abcdef")
    assert r.status_code == 404 and r.content_type.startswith("application/problem+json")


def test_unknown_region_is_404_with_empty_errors(client):
    r = post(client, "/v1/regions/shanghai/entitlements", {"as_of": "2019-07-15", "person": MINGGUANG})
    assert r.status_code == 404 and r.get_json()["errors"] == []


def test_malformed_json_is_400(client):
    r = post(client, "/v1/regions/anhui/entitlements", b'{"as_of": "2019-07-15", "person": {')
    assert r.status_code == 400 and r.content_type.startswith("application/problem+json")


def test_wrong_types_are_400_listing_only_those(client):
    r = post(client, "/v1/regions/anhui/entitlements",
             {"as_of": 20190715, "person": {"birth_date": "1955-04-01", "groups": {}, "nickname": "x"}})
    assert r.status_code == 400
    assert sorted(e["pointer"] for e in r.get_json()["errors"]) == ["/as_of", "/person/groups"]


def test_invalid_fields_are_422_all_at_once(client):
    person = {"birth_date": "1955-02-30", "groups": [{"id": "dibao_x", "from": "2019-01-01"}], "extra": 1,
              "contributions": [{"year": 2019, "tier": "100.00", "kind": "regular"}]}
    r = post(client, "/v1/regions/anhui/entitlements", {"as_of": "2019-07-15", "person": person, "colour": "red"})
    assert r.status_code == 422
    assert sorted(e["pointer"] for e in r.get_json()["errors"]) == \
        ["/colour", "/person/birth_date", "/person/extra", "/person/groups/0/id"]


def test_tier_not_open_is_422_at_the_tier(client):
    # domain.md §3: from 2019-01-01 "Tier 100 stays open only to the 代缴 groups".
    person = {"birth_date": "1970-01-01", "contributions": [
        {"year": 2020, "tier": "100.00", "kind": "regular", "date": "2020-03-01"}]}
    r = post(client, "/v1/regions/anhui/entitlements", {"as_of": "2020-07-01", "person": person})
    assert r.status_code == 422
    assert [e["pointer"] for e in r.get_json()["errors"]] == ["/person/contributions/0/tier"]


def test_body_over_the_limit_is_413(client):
    r = post(client, "/v1/regions/anhui/entitlements", b'{"as_of": "' + b"x" * 300_000 + b'"}')
    assert r.status_code == 413


def test_batch_answers_each_person_in_order(app, client):
    bad = {"birth_date": "not a date"}
    r = post(client, "/v1/regions/anhui/entitlements/batch",
             {"as_of": "2019-07-15", "persons": [MINGGUANG, bad, "nope", MINGGUANG]})
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert results[0]["monthly_pension"]["total"] == "110.00"
    assert results[1]["error"]["status"] == 422
    assert results[1]["error"]["errors"][0]["pointer"] == "/person/birth_date"
    assert results[2]["error"]["status"] == 400
    assert results[3]["person_id"] == "mg-1"
    doc = client.get("/openapi.json").get_json()
    schema = doc["paths"]["/v1/regions/{region}/entitlements/batch"]["post"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    jsonschema.validate(r.get_json(), {**schema, "components": doc["components"]},
                        cls=jsonschema.Draft202012Validator)


def test_batch_over_the_limit_is_one_problem(client):
    r = post(client, "/v1/regions/anhui/entitlements/batch", {"as_of": "2019-07-15", "persons": [MINGGUANG] * 6})
    assert r.status_code == 422 and r.get_json()["errors"][0]["pointer"] == "/persons"


def test_check_endpoint_reports_diagnostics(client):
    text = (ROOT / "policies" / "ningxia" / "pension.policy").read_text(encoding="utf-8")
    ok = post(client, "/v1/check", {"files": {"pension.policy": text}}).get_json()
    assert ok["ok"] is True, ok
    broken = text.replace("cite 宁夏2011模式\n", "cite 宁夏2011模式x\n", 1)
    r = post(client, "/v1/check", {"files": {"pension.policy": broken}}).get_json()
    assert r["ok"] is False
    [d] = r["diagnostics"]
    assert d["code"] == "unknown-name" and d["hint"] == "是否想写 '宁夏2011模式'？"
    assert d["file"] == "pension.policy" and d["line"] == 12  # the first `cite 宁夏2011模式` line end


def test_check_rejects_path_traversal_in_file_names(client):
    r = post(client, "/v1/check", {"files": {"../../etc/passwd.policy": "region x\n"}})
    assert r.status_code == 422 and r.get_json()["errors"][0]["pointer"] == "/files/..~1..~1etc~1passwd.policy"


def test_schema_regions_policy_and_health(client):
    schema = client.get("/v1/regions/yuxi/schema").get_json()
    assert "birth_date" in schema["required"]
    assert "dibao" in schema["properties"]["groups"]["anyOf"][0]["items"]["properties"]["id"]["enum"]
    regions = client.get("/v1/regions").get_json()
    assert {r["id"] for r in regions} >= {"national", "anhui", "ningxia", "yuxi"}
    policy = client.get("/v1/regions/ningxia/policy").get_json()
    assert "pension.policy" in policy["files"]
    assert any(p["name"] == "local_basic_pension" for p in policy["provisional"])
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_unknown_endpoint_and_wrong_method_are_problems(client):
    assert client.get("/v1/nothing").status_code == 404
    r = client.get("/v1/regions/anhui/entitlements")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_openapi_document_is_valid_3_1(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_the_answer_is_the_stored_row_encoded_once(app, client):
    """The decision is encoded once: the stored `result` is the answer without `explanation` and `decision_id`,
    the answer's bytes begin with the stored JSON, and the request is stored as sent (Chinese readable)."""
    for explain in (False, True):
        r = post(client, "/v1/regions/anhui/entitlements", {"as_of": "2019-07-15", "explain": explain,
                                                            "person": MINGGUANG})
        d = r.get_json()
        assert r.status_code == 200 and list(d)[-1] == "decision_id"
        assert ("explanation" in d) is explain and (not explain or list(d)[-2] == "explanation")
        row = app.extensions["jubao.decisions"].get(d["decision_id"])
        answer = {k: v for k, v in d.items() if k not in ("explanation", "decision_id")}
        assert row["result"] == answer and "decision_id" not in row["result"]
        assert row["request"] == {"as_of": "2019-07-15", "person": MINGGUANG}
        log = app.extensions["jubao.decisions"]
        if log.engine.dialect.name == "sqlite":
            with log.engine.connect() as conn:
                text, request = conn.exec_driver_sql("SELECT result, request FROM decisions WHERE id = ?",
                                                     (d["decision_id"],)).one()
            assert r.get_data().startswith(text.encode()[:-1] + b",")
            assert "明光" in request


def test_the_decision_log_writes_on_one_kept_connection(tmp_path):
    """SQLite: the decision log's transactions run on one connection kept by the process (a pool checkout each —
    pre-ping, reset — cost as much as a row); after a failed write it goes back to the pool and the next
    transaction checks one out again."""
    import sqlalchemy as sa

    app = create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'j.sqlite3'}"})
    log = app.extensions["jubao.decisions"]
    checkouts = []
    sa.event.listen(log.engine, "checkout", lambda *args: checkouts.append(1))
    refuse_inserts = sqlite_write_switch(log.engine)

    client = app.test_client()
    ask = lambda: post(client, "/v1/regions/anhui/entitlements", {"as_of": "2019-07-15", "person": MINGGUANG})
    assert [ask().status_code for _ in range(10)] == [200] * 10
    assert len(checkouts) == 1
    refuse_inserts(True)
    refused = ask()
    assert refused.status_code == 503 and refused.get_json()["retry_after"] == 5
    refuse_inserts(False)
    assert [ask().status_code for _ in range(3)] == [200] * 3
    assert len(checkouts) == 2 and log.count() == 13


def test_sqlite_checkpoints_the_write_ahead_log_in_small_steps(tmp_path):
    """Every ~400 decision rows SQLite's default checkpoint (1000 pages) made one commit 8-13 ms slower; each
    connection checkpoints every 250 pages instead, and the log stays near 1 MB under steady writes."""
    from web.decisions import DecisionLog

    log = DecisionLog(f"sqlite:///{tmp_path / 'j.sqlite3'}")
    with log.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 250
    import datetime as dt

    big = "x" * 7000
    for batch in range(100):
        log._insert([dict(id=f"{batch:04d}{i:08d}", created_at=dt.datetime.now(dt.timezone.utc), region="anhui",
                          policy_version="v", as_of="2019-07-15", request_json=f'{{"a": "{big}"}}',
                          result_json="{}") for i in range(8)])
    assert log.count() == 800
    assert (tmp_path / "j.sqlite3-wal").stat().st_size < 2_000_000
