"""The OpenAPI 3.1 document of the API, built from the same schemas the API validates with."""
from __future__ import annotations

from flask import Flask

from engine import evaluate, read_as_of, read_person
from engine.core import ENGINE_ERRORS, decision_json
from web.schema import DATE, person_schema

# The worked example of contract.md ("DETERMINATION — a consistent example"): the request as written there,
# the answer computed from the live policy when the deployment has that region (so it can never drift).
CONTRACT_EXAMPLE_REGION = "anhui"
CONTRACT_EXAMPLE = {"as_of": "2019-07-15", "person": {
    "id": "mg-1", "birth_date": "1955-04-01", "hukou": {"type": "rural", "county": "明光"},
    "groups": [{"id": "poverty_registered", "from": "2019-06-10"}], "contributions": []}}
CHECK_EXAMPLE = {"files": {"pension.policy": "region anhui\n\nvalue 示例: 元/月\n  from 2020-01-01  10.00  cite 没有这个文献\n"}}

MONEY_OUT = {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}
LEVELS = {"type": "object", "additionalProperties": MONEY_OUT,
          "propertyNames": {"enum": ["central", "province", "city", "county"]}}
NULLABLE_DATE = {"anyOf": [DATE, {"type": "null"}]}

COMPONENTS = {
    "Problem": {
        "type": "object", "required": ["type", "title", "status", "detail", "errors"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                       "detail": {"type": "string"},
                       "errors": {"type": "array", "items": {
                           "type": "object", "required": ["pointer", "detail"],
                           "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}}}}},
    },
    "Step": {
        "type": "object", "required": ["id", "label", "value", "children"],
        "properties": {
            "id": {"type": "string"}, "label": {"type": "string"}, "value": {"type": "string"},
            "formula": {"type": ["string", "null"]},
            "source": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {
                "file": {"type": "string"}, "line": {"type": "integer"}, "column": {"type": "integer"}}}]},
            "citation": {"type": ["string", "null"]},
            "in_force": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {
                "from": NULLABLE_DATE, "to": NULLABLE_DATE}}]},
            "status": {"enum": ["law", "seed", "proposal", "provisional", None]},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}},
        },
    },
    "Contribution": {
        "type": "object",
        "required": ["year", "tier", "kind", "date", "personal", "government_paid", "subsidy", "collective",
                     "credited", "counted"],
        "properties": {
            "year": {"type": "integer"}, "tier": MONEY_OUT, "kind": {"enum": ["regular", "back_payment"]},
            "date": DATE, "personal": MONEY_OUT, "government_paid": MONEY_OUT,
            "subsidy": {"type": "object", "required": ["total", "by_level"],
                        "properties": {"total": MONEY_OUT, "by_level": LEVELS}},
            "collective": MONEY_OUT, "credited": MONEY_OUT, "counted": {"type": "boolean"},
        },
        "additionalProperties": MONEY_OUT,
    },
    "Determination": {
        "type": "object",
        "required": ["region", "policy_version", "as_of", "person_id", "status", "eligibility", "monthly_pension",
                     "contributions", "account", "death", "tier_options", "uses_unconfirmed"],
        "properties": {
            "region": {"type": "string"}, "policy_version": {"type": "string"}, "as_of": DATE,
            "person_id": {"type": ["string", "null"]},
            "status": {"enum": ["receiving", "contributing", "not_eligible", "deceased"]},
            "decision_id": {"type": "string"},
            "eligibility": {"type": "object", "required": ["eligible", "required_years", "counted_years",
                                                          "pension_start_date", "reasons"],
                            "properties": {"eligible": {"type": "boolean"}, "required_years": {"type": "integer"},
                                           "counted_years": {"type": "integer"},
                                           "continuous_years": {"type": "integer"},
                                           "pension_start_date": NULLABLE_DATE,
                                           "reasons": {"type": "array", "items": {"type": "string"}}}},
            "monthly_pension": {"type": "object", "required": ["total", "components"], "properties": {
                "total": MONEY_OUT,
                "components": {"type": "array", "items": {
                    "type": "object", "required": ["id", "amount"],
                    "properties": {"id": {"type": "string"}, "amount": MONEY_OUT, "by_level": LEVELS}}}}},
            "contributions": {"type": "array", "items": {"$ref": "#/components/schemas/Contribution"}},
            "account": {"type": "object", "required": ["balance", "balance_at_pension_start"],
                        "properties": {"balance": MONEY_OUT, "balance_at_pension_start": MONEY_OUT}},
            "death": {"type": "object", "required": ["funeral_grant", "inheritable_balance"],
                      "properties": {"funeral_grant": MONEY_OUT, "inheritable_balance": MONEY_OUT}},
            "tier_options": {"type": "array", "items": {
                "type": "object", "required": ["tier", "personal", "government_paid", "subsidy"],
                "properties": {k: MONEY_OUT for k in ("tier", "personal", "government_paid", "subsidy")}}},
            "uses_unconfirmed": {"type": "array", "items": {
                "type": "object", "required": ["value", "status", "used_by", "file", "line"],
                "properties": {"value": {"type": "string"}, "status": {"enum": ["proposal", "provisional"]},
                               "used_by": {"type": "array", "items": {"type": "string"}},
                               "file": {"type": "string"}, "line": {"type": "integer"}}}},
            "explanation": {"$ref": "#/components/schemas/Step"},
        },
    },
    "Diagnostic": {
        "type": "object",
        "required": ["severity", "code", "message", "file", "line", "column", "end_line", "end_column", "hint"],
        "properties": {"severity": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"},
                       "file": {"type": "string"}, "line": {"type": "integer"}, "column": {"type": "integer"},
                       "end_line": {"type": "integer"}, "end_column": {"type": "integer"},
                       "hint": {"type": ["string", "null"]}},
    },
}


def _problem(*statuses: int) -> dict:
    return {str(s): {"description": {400: "malformed JSON or a value of the wrong JSON type",
                                     404: "unknown region or decision", 413: "body over the limit",
                                     422: "well-formed but invalid: every offending field by JSON pointer",
                                     401: "no valid bearer token", 403: "the role or region does not allow it",
                                     409: "the version does not check clean or its tests fail",
                                     503: "policy not loadable"}.get(s, "error"),
                     "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for s in statuses}


def _ok(schema: dict, description: str = "OK", media: str = "application/json") -> dict:
    return {"200": {"description": description, "content": {media: {"schema": schema}}}}


def _json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# What a client does after a publish (approve or rollback): look at the versions, roll back to the one published,
# compare it with what was live. Schemathesis's stateful run follows these links (tests/test_api_fuzz.py).
AFTER_PUBLISH = {
    "versions": {"operationId": "listVersions", "parameters": {"region": "$response.body#/region"}},
    "rollback": {"operationId": "rollback", "parameters": {"region": "$response.body#/region"},
                 "requestBody": {"policy_version": "$response.body#/policy_version"}},
    "diff": {"operationId": "diffVersions", "parameters": {"region": "$response.body#/region",
                                                           "from": "$response.body#/policy_version"}},
}


def _links(responses: dict, links: dict) -> dict:
    responses["200"]["links"] = links
    return responses


def _example(body: dict, example: dict) -> dict:
    body["content"]["application/json"]["example"] = example
    return body


def _example_ok(schema: dict, example: dict | None) -> dict:
    ok = _ok(schema)
    if example is not None:
        ok["200"]["content"]["application/json"]["example"] = example
    return ok


def _contract_answer(registry) -> dict | None:
    """The example's answer, or none where the deployment lacks the region or its rules no longer take the
    example person (the document must not fail for an example)."""
    if CONTRACT_EXAMPLE_REGION not in registry.regions:
        return None
    try:
        policy = registry.policy(CONTRACT_EXAMPLE_REGION)
        day = read_as_of(CONTRACT_EXAMPLE["as_of"])
        return decision_json(evaluate(policy, read_person(policy, CONTRACT_EXAMPLE["person"], day), day))
    except ENGINE_ERRORS:
        return None


BEARER = [{"bearer": []}]
# web.bodies.request_lang: every /v1 route answers its problems (and a check its diagnostics) in this language
LANG = {"name": "lang", "in": "query", "required": False, "schema": {"enum": ["zh", "en"], "default": "zh"},
        "description": "language of problem details and diagnostics: Chinese (zh) by default, English with en"}
# name.policy → its text; the names as web/bodies.py accepts them (ASCII, no folders)
POLICY_FILES = {"type": "object", "propertyNames": {"pattern": "^[A-Za-z0-9_-]+\\.policy$"},
                "additionalProperties": {"type": "string"}}
# drafts and test runs carry the region's test cases too (tests/<name>.yaml)
POLICY_AND_TEST_FILES = {"type": "object",
                         "propertyNames": {"pattern": "^([A-Za-z0-9_-]+\\.policy|tests/[A-Za-z0-9_-]+\\.yaml)$"},
                         "additionalProperties": {"type": "string"}}
TEST_RUN = {"type": "object", "required": ["ok", "diagnostics", "tests"], "properties": {
    "ok": {"type": "boolean"}, "diagnostics": {"type": "array", "items": {"$ref": "#/components/schemas/Diagnostic"}},
    "tests": {"type": "object", "required": ["passed", "failed", "failures"], "properties": {
        "passed": {"type": "integer"}, "failed": {"type": "integer"}, "failures": {"type": "array"}}}}}
PUBLISHED = {"type": "object", "required": ["region", "policy_version", "live"],
             "properties": {"region": {"type": "string"}, "policy_version": {"type": "string"},
                            "live": {"const": True}, "version_id": {"type": "string"}}}


def openapi_document(app: Flask) -> dict:
    registry = app.extensions["jubao.live"].current()
    REGION = [{"name": "region", "in": "path", "required": True,  # noqa: N806 (read like the constants around it)
               "schema": {"type": "string", "enum": registry.regions}}]
    person = person_schema(registry.policy("national"))
    person.pop("$schema", None)
    person["properties"]["hukou"] = {"anyOf": [{"type": "object", "additionalProperties": False, "properties": {
        "type": {"anyOf": [{"enum": ["rural", "urban"]}, {"type": "null"}]},
        "county": {"type": ["string", "null"]}}}, {"type": "null"}]}
    schemas = {**COMPONENTS, "Person": person}
    limit = app.config["JUBAO_MAX_BATCH"]
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    paths = {
        "/v1/regions": {"get": {"operationId": "listRegions", "summary": "Regions and their live policy versions",
                                "responses": _ok({"type": "array", "items": {"type": "object", "required": [
                                    "id", "name", "policy_version", "effective_from", "files"]}})}},
        "/v1/regions/{region}/policy": {"get": {
            "operationId": "getPolicy", "summary": "Live sources, parameters by date, provisional values",
            "parameters": REGION, "responses": {**_ok({"type": "object", "required": [
                "region", "policy_version", "files", "parameters", "provisional"]}), **_problem(404)}}},
        "/v1/regions/{region}/schema": {"get": {
            "operationId": "getPersonSchema", "summary": "JSON Schema of the PERSON for this region",
            "parameters": REGION, "responses": {**_ok({"type": "object"}, media="application/schema+json"),
                                                **_problem(404)}}},
        "/v1/regions/{region}/entitlements": {"post": {
            "operationId": "determine", "summary": "Determine one person's entitlement on a date",
            "parameters": REGION,
            "requestBody": _example(_json_body({"type": "object", "additionalProperties": False,
                                                "required": ["as_of", "person"],
                                                "properties": {"as_of": DATE, "person": ref("Person"),
                                                               "explain": {"type": "boolean"}, "decided_on": DATE}}),
                                    CONTRACT_EXAMPLE),
            "responses": {**_links(_example_ok(ref("Determination"), _contract_answer(registry)), {
                "decision": {"operationId": "getDecision", "parameters": {"id": "$response.body#/decision_id"}}}),
                          **_problem(400, 404, 413, 422)}}},
        "/v1/regions/{region}/entitlements/batch": {"post": {
            "operationId": "determineBatch",
            "summary": f"Determine up to {limit} persons; a bad person gets an error entry in its place",
            "parameters": REGION,
            "requestBody": _json_body({"type": "object", "additionalProperties": False,
                                       "required": ["as_of", "persons"],
                                       "properties": {"as_of": DATE, "persons": {
                                           "type": "array", "maxItems": limit, "items": ref("Person")}}}),
            "responses": {**_ok({"type": "object", "required": ["results"], "properties": {"results": {
                "type": "array", "items": {"anyOf": [ref("Determination"), {
                    "type": "object", "required": ["error"], "properties": {"error": ref("Problem")}}]}}}}),
                **_problem(400, 404, 413, 422)}}},
        "/v1/check": {"post": {
            "operationId": "checkPolicy", "summary": "Check policy sources and return every diagnostic",
            "requestBody": _example(_json_body({"type": "object", "additionalProperties": False,
                                                "required": ["files"],
                                                "properties": {"files": POLICY_FILES}}), CHECK_EXAMPLE),
            "responses": {**_ok({"type": "object", "required": ["ok", "diagnostics"], "properties": {
                "ok": {"type": "boolean"}, "diagnostics": {"type": "array", "items": ref("Diagnostic")}}}),
                **_problem(400, 413, 422)}}},
        "/v1/format": {"post": {
            "operationId": "formatPolicy",
            "summary": "Policy files in the canonical layout (jubao fmt); a file that does not parse comes back "
                       "unchanged with its diagnostics",
            "requestBody": _json_body({"type": "object", "additionalProperties": False, "required": ["files"],
                                       "properties": {"files": POLICY_FILES}}),
            "responses": {**_ok({"type": "object", "required": ["ok", "files", "changed", "diagnostics"],
                                 "properties": {"ok": {"type": "boolean"},
                                                "files": {"type": "object",
                                                          "additionalProperties": {"type": "string"}},
                                                "changed": {"type": "array", "items": {"type": "string"}},
                                                "diagnostics": {"type": "array", "items": ref("Diagnostic")}}}),
                          **_problem(400, 413, 422)}}},
        "/v1/decisions/{id}": {"get": {
            "operationId": "getDecision", "summary": "A stored determination with its explanation re-rendered",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_ok(ref("Determination")), **_problem(404)}}},
        "/v1/regions/{region}/drafts": {"post": {
            "operationId": "createDraft", "summary": "Save a draft (officer of the region); checked and tested at once",
            "security": BEARER, "parameters": REGION,
            "requestBody": _json_body({"type": "object", "additionalProperties": False, "required": ["files"],
                                       "properties": {"files": POLICY_AND_TEST_FILES,
                                                      "message": {"type": "string"}}}),
            "responses": {"201": {"description": "saved", "content": {"application/json": {"schema": {
                "type": "object", "required": ["draft_id", "ok", "diagnostics", "tests"]}}},
                "links": {"approve": {"operationId": "approveDraft",
                                      "parameters": {"id": "$response.body#/draft_id"}},
                          "rebase": {"operationId": "rebaseDraft",
                                     "parameters": {"id": "$response.body#/draft_id"}}}},
                **_problem(400, 401, 403, 404, 413, 422)}}},
        "/v1/drafts/{id}/approve": {"post": {
            "operationId": "approveDraft", "summary": "Approve and publish a draft (a reviewer other than its author)",
            "security": BEARER,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {**_links(_ok(PUBLISHED), AFTER_PUBLISH), **_problem(401, 403, 404, 409)}}},
        "/v1/drafts/{id}/rebase": {"post": {
            "operationId": "rebaseDraft",
            "summary": "A new draft: this draft's changes applied to the live version (409 on a file both changed)",
            "security": BEARER,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"201": {"description": "the rebased draft, checked and tested", "content": {
                "application/json": {"schema": {"type": "object", "required": ["draft_id", "rebased_from", "ok"]}}}},
                **_problem(401, 403, 404, 409)}}},
        "/v1/regions/{region}/versions": {"get": {
            "operationId": "listVersions", "summary": "Every version and draft of a region, newest first",
            "parameters": REGION, "responses": {**_ok({"type": "array", "items": {"type": "object", "required": [
                "policy_version", "author", "approved_by", "time", "message", "live"]}}), **_problem(404)}}},
        "/v1/regions/{region}/diff": {"get": {
            "operationId": "diffVersions", "summary": "Two versions compared: unified text diff and rule changes",
            "parameters": REGION + [
                {"name": "from", "in": "query", "required": True, "schema": {"type": "string"},
                 "description": "a policy_version (sha256:…) or a version_id from listVersions"},
                {"name": "to", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "as `from`; the live version when absent"}],
            "responses": {**_ok({"type": "object", "required": ["region", "from", "to", "from_version_id",
                                                                "to_version_id", "text", "changes"],
                                 "properties": {"from": {"type": "string", "description": "policy_version"},
                                                "to": {"type": "string", "description": "policy_version"},
                                                "from_version_id": {"type": "string"},
                                                "to_version_id": {"type": "string"}}}),
                          **_problem(404, 422)}}},
        "/v1/regions/{region}/rollback": {"post": {
            "operationId": "rollback", "summary": "Publish an earlier version again (reviewer)",
            "security": BEARER, "parameters": REGION,
            "requestBody": _json_body({"type": "object", "additionalProperties": False,
                                       "required": ["policy_version"],
                                       "properties": {"policy_version": {"type": "string"}}}),
            "responses": {**_links(_ok(PUBLISHED), AFTER_PUBLISH), **_problem(400, 401, 403, 404, 409, 413, 422)}}},
        "/v1/regions/{region}/test": {"post": {
            "operationId": "testPolicy",
            "summary": "Check edited sources of a region and run its test cases against them (nothing is saved)",
            "parameters": REGION,
            "requestBody": _json_body({"type": "object", "additionalProperties": False, "required": ["files"],
                                       "properties": {"files": POLICY_AND_TEST_FILES}}),
            "responses": {**_ok(TEST_RUN), **_problem(400, 404, 413, 422),
                          "503": {"description": "the run took longer than JUBAO_WORK_SECONDS and was stopped",
                                  "content": {"application/problem+json": {"schema": ref("Problem")}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                  "responses": _ok({"type": "object", "required": ["openapi", "paths"]})}},
        "/healthz": {"get": {"operationId": "health", "summary": "Liveness",
                             "responses": _ok({"type": "object", "required": ["status"]})}},
        "/readyz": {"get": {"operationId": "ready", "summary": "Readiness: policies check, database reachable",
                            "responses": {**_ok({"type": "object"}),
                                          "503": {"description": "not ready", "content": {
                                              "application/json": {"schema": {"type": "object"}}}}}}},
    }
    for path, operations in paths.items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["parameters"] = [*operation.get("parameters", []), LANG]
    return {"openapi": "3.1.0",
            "info": {"title": "jubao 居保 API", "version": "1.0.0",
                     "description": "Entitlements of the urban-rural residents' basic pension, with explanations."},
            "paths": paths, "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a token from `jubao users add`"}}}}
