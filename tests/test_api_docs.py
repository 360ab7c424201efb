"""The API's reference: /openapi.json documents every route of the API, and /docs shows it from vendored assets.

Tooling issue: "every endpoint in the document (a test compares the app's URL map with the document's paths) …
The route list the test compares is `/v1/*`, `/healthz`, `/readyz` and `/openapi.json`; share it with the
hardening issue's per-route access table."
"""
import re

import jsonschema
import pytest

from web import create_app
from web.access import ROUTES
from web.app import API_PREFIXES


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs")
    return create_app({"data_dir": folder, "database_url": f"sqlite:///{folder / 'j.sqlite3'}"})


def _shape(path: str) -> str:
    """`/v1/drafts/<draft_id>/approve` and `/v1/drafts/{id}/approve` name the same route."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def test_every_api_route_is_in_the_document_and_nothing_else(app):
    served = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIXES):
            assert rule.endpoint in ROUTES, f"{rule.rule} has no access rule"  # the same list as web/access.py
            served.setdefault(_shape(rule.rule), set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    doc = app.test_client().get("/openapi.json").get_json()
    documented = {_shape(path): set(operations) for path, operations in doc["paths"].items()}
    assert documented == served
    assert "/v1/regions/{}/test" in documented  # was missing from the document


def test_the_contract_example_is_in_the_document_and_valid(app):
    doc = app.test_client().get("/openapi.json").get_json()
    operation = doc["paths"]["/v1/regions/{region}/entitlements"]["post"]
    request = operation["requestBody"]["content"]["application/json"]
    answer = operation["responses"]["200"]["content"]["application/json"]
    components = {"components": doc["components"]}
    jsonschema.validate(request["example"], {**request["schema"], **components},
                        cls=jsonschema.Draft202012Validator)
    jsonschema.validate(answer["example"], {**answer["schema"], **components}, cls=jsonschema.Draft202012Validator)
    # contract.md, "DETERMINATION — a consistent example": total "110.00", central 88.00 + province 22.00
    assert answer["example"]["monthly_pension"]["total"] == "110.00"
    assert answer["example"]["monthly_pension"]["components"][0]["by_level"] == {"central": "88.00",
                                                                                 "province": "22.00"}
    live = app.test_client().post("/v1/regions/anhui/entitlements", json=request["example"]).get_json()
    assert live["monthly_pension"] == answer["example"]["monthly_pension"]
    check = doc["paths"]["/v1/check"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert app.test_client().post("/v1/check", json=check).get_json()["diagnostics"][0]["code"] == "unknown-name"


def test_the_docs_page_uses_only_this_sites_assets(app):
    client = app.test_client()
    page = client.get("/docs")
    assert page.status_code == 200 and "接口文档" in page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources  # no CDN
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/static/api_docs.js"):
        assert asset in html
        assert client.get(asset).status_code == 200
    assert client.get("/docs/assets/swagger-ui-bundle.js.map").status_code == 404  # only what the page uses
    assert client.get("/docs/assets/..%2Fapp.py").status_code == 404


def test_format_endpoint_gives_the_canonical_layout_or_the_diagnostics(app):
    from pathlib import Path

    from engine.tools.fmt import format_text

    tidy = (Path(__file__).resolve().parent.parent / "policies" / "ningxia" / "pension.policy").read_text("utf-8")
    messy = tidy.replace("  from ", "      from ") + "\n\n"
    client = app.test_client()
    r = client.post("/v1/format", json={"files": {"pension.policy": messy, "same.policy": tidy}})
    assert r.status_code == 200
    assert r.get_json() == {"ok": True, "files": {"pension.policy": format_text(messy), "same.policy": tidy},
                            "changed": ["pension.policy"], "diagnostics": []}
    assert format_text(messy) == tidy
    broken = tidy.replace("  from ", "  form ", 1)
    answer = client.post("/v1/format", json={"files": {"pension.policy": broken}}).get_json()
    assert answer["ok"] is False and answer["files"]["pension.policy"] == broken and answer["changed"] == []
    assert answer["diagnostics"][0]["file"] == "pension.policy" and answer["diagnostics"][0]["line"] > 1
    assert client.post("/v1/format", json={"files": "x"}).status_code == 400


def test_every_v1_operation_documents_the_lang_parameter_it_honours(app):
    """Every /v1 route answers problems in Chinese by default and in English with ?lang=en
    (web.bodies.request_lang); the document says so on each operation."""
    doc = app.test_client().get("/openapi.json").get_json()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", [])]
            assert ("lang" in names) == path.startswith("/v1/"), f"{method} {path}"
    lang = next(p for p in doc["paths"]["/v1/check"]["post"]["parameters"] if p["name"] == "lang")
    assert lang["schema"] == {"enum": ["zh", "en"], "default": "zh"}
    chinese = app.test_client().post("/v1/regions/nowhere/entitlements", json={}).get_json()["detail"]
    english = app.test_client().post("/v1/regions/nowhere/entitlements?lang=en", json={}).get_json()["detail"]
    assert re.search(r"[\u4e00-\u9fff]", chinese) and not re.search(r"[\u4e00-\u9fff]", english)
