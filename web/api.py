"""The JSON API of contract.md: validation at the boundary, problem+json errors, the decision log."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, current_app, g

from engine import (
    InvalidInput,
    PolicyError,
    Problem,
    Registry,
    UnknownRegion,
    check_texts,
    evaluate,
    policy_from_texts,
    problem_of,
    read_as_of,
    read_person,
    run_case,
)
from engine.core import Decision, decision_json, explanation_json, fmt
from engine.language import UNCONFIRMED, AmountRange, FieldError, Policy, rule_changes, say
from engine.tools import format_text
from web.auth import current_user
from web.bodies import (
    HttpProblem,
    answered_problem,
    encoded_json_response,
    json_response,
    object_body,
    policy_files,
    raise_if,
    request_lang,
)
from web.bounded import within
from web.codec import dumps
from web.live import policy_part, test_part
from web.schema import person_schema
from web.words import reason_texts, with_words

api = Blueprint("api", __name__)
FAR_FUTURE = dt.date(9999, 12, 31)


def registry() -> Registry:
    """The live policies, taken once per request so that a request never mixes two versions."""
    # On the request's own objects: each attribute read through Flask's proxies first fails on the proxy (Python
    # 3.11 formats an AttributeError) and only then forwards — on the answer's path, 2 % of its instructions.
    request_g = g._get_current_object()
    live = request_g.get("registry")
    if live is None:
        live = request_g.registry = current_app._get_current_object().extensions["jubao.live"].current()
    return live


def decision_log():
    return current_app._get_current_object().extensions.get("jubao.decisions")


def _max_nodes() -> int:
    return _settings().max_explanation_nodes


def known_region(region: str) -> None:
    """404 (UnknownRegion) for a region with no live policy."""
    if region not in registry().sources:
        raise UnknownRegion(region, registry().regions)


def region_policy(region: str) -> Policy:
    known_region(region)
    return registry().policy(region)


def _as_of(body: dict, type_errors: list, errors: list) -> dt.date | None:
    value = body.get("as_of")
    if value is None:
        errors.append(FieldError("/as_of", say("http.as-of-required")))
    elif not isinstance(value, str):
        type_errors.append(FieldError("/as_of", say("person.expected-only", expected=say("expect.date"))))
    else:
        try:
            return read_as_of(value)
        except InvalidInput as error:
            errors.extend(error.errors)
    return None


def _person(policy: Policy, value: dict, as_of: dt.date | None, at: str, type_errors: list, errors: list):
    try:
        return read_person(policy, value, as_of or FAR_FUTURE, at=at)
    except InvalidInput as error:
        (type_errors if error.malformed else errors).extend(error.errors)
    return None


def _determine(policy: Policy, as_of: dt.date, person_json: dict, person, explain: bool) -> dict:
    decision = evaluate(policy, person, as_of, explain=explain)
    result = with_words(decision_json(decision, _max_nodes()), decision, policy, request_lang())
    log = decision_log()
    if log is not None:
        stored = {k: v for k, v in result.items() if k != "explanation"}
        result["decision_id"] = _record(log, decision, as_of, person_json, stored)
    return result


def _determine_encoded(policy: Policy, as_of: dt.date, person_json: dict, person, explain: bool) -> bytes:
    """`_determine` as the answer's JSON bytes: the stored result is encoded once, and the answer is those same
    bytes with the explanation (when asked for) and the decision id added at the end, where `_determine`'s dict
    has them (decision_json puts `explanation` last; `decision_id` comes after it)."""
    decision = evaluate(policy, person, as_of, explain=explain)
    result = with_words(decision_json(decision, _max_nodes()), decision, policy, request_lang())
    log = decision_log()
    if log is None:
        return dumps(result)
    explanation = result.pop("explanation", None)
    stored = dumps(result)
    decision_id = _record(log, decision, as_of, person_json, stored)
    tail = b'"decision_id":"' + decision_id.encode("ascii") + b'"}'
    if explanation is not None:
        tail = b'"explanation":' + dumps(explanation) + b"," + tail
    return stored[:-1] + b"," + tail


def _record(log, decision: Decision, as_of: dt.date, person_json: dict, stored) -> str:
    decision_id = log.record(decision, {"as_of": as_of.isoformat(), "person": person_json}, stored)
    request_g = g._get_current_object()  # see registry()
    request_g.decision_ids = request_g.get("decision_ids", []) + [decision_id]
    return decision_id


@api.post("/v1/regions/<region>/entitlements")
def entitlements(region: str):
    policy = region_policy(region)
    body, type_errors, errors = object_body({"as_of", "person", "explain", "decided_on"})
    as_of = _as_of(body, type_errors, errors)
    if body.get("decided_on") is not None:
        policy = _policy_decided_on(region, body["decided_on"], type_errors, errors) or policy
    explain = body.get("explain")
    if explain is not None and not isinstance(explain, bool):
        type_errors.append(FieldError("/explain", say("http.expected-boolean")))
    value = body.get("person")
    person = None
    if value is None:
        errors.append(FieldError("/person", say("http.person-required")))
    elif not isinstance(value, dict):
        type_errors.append(FieldError("/person", say("http.expected-object")))
    else:
        person = _person(policy, value, as_of, "/person", type_errors, errors)
    raise_if(type_errors, errors)
    return encoded_json_response(_determine_encoded(policy, as_of, body["person"], person, bool(explain)))


def _policy_decided_on(region: str, value, type_errors: list, errors: list) -> Policy | None:
    """The region's policy as it was live at the end of `decided_on` (the second time axis)."""
    if not isinstance(value, str):
        type_errors.append(FieldError("/decided_on", say("person.expected-only", expected=say("expect.date"))))
        return None
    try:
        day = read_as_of(value, "/decided_on")
    except InvalidInput as error:
        errors.extend(error.errors)
        return None
    if day > dt.date.today():
        errors.append(FieldError("/decided_on", say("http.decided-on-future", day=day)))
        return None
    try:
        return current_app.extensions["jubao.live"].registry_on(day).policy(region)
    except Problem as problem:
        errors.extend(problem.errors)
        return None


@api.post("/v1/regions/<region>/entitlements/batch")
def entitlements_batch(region: str):
    policy = region_policy(region)
    body, type_errors, errors = object_body({"as_of", "persons"})
    as_of = _as_of(body, type_errors, errors)
    persons = body.get("persons")
    limit = current_app.config["JUBAO_MAX_BATCH"]
    if persons is None:
        errors.append(FieldError("/persons", say("http.persons-required")))
    elif not isinstance(persons, list):
        type_errors.append(FieldError("/persons", say("http.persons-type")))
    elif len(persons) > limit:
        errors.append(FieldError("/persons", say("http.persons-over-limit", count=len(persons), limit=limit)))
    raise_if(type_errors, errors)
    results = []
    for item in persons:
        person_types, person_errors = [], []
        person = None
        if not isinstance(item, dict):
            person_types.append(FieldError("/person", say("http.expected-object")))
        else:
            person = _person(policy, item, as_of, "/person", person_types, person_errors)
        try:
            raise_if(person_types, person_errors)
            results.append(_determine(policy, as_of, item, person, False))
        except (Problem, InvalidInput) as error:
            results.append({"error": answered_problem(problem_of(error))})
    return json_response({"results": results})


@api.get("/v1/regions")
def regions():
    out = []
    for region in registry().regions:
        policy = registry().policy(region)
        out.append({"id": region, "name": policy.labels.zh or region, "policy_version": policy.digest,
                    "effective_from": _effective_from(policy), "files": sorted(registry().sources[region])})
    return json_response(out)


def _effective_from(policy: Policy) -> str | None:
    today = dt.date.today()
    starts = [v.start for layers in policy.definitions.values() for layer in layers for v in layer.versions
              if v.start and v.start <= today]
    return max(starts).isoformat() if starts else None


@api.get("/v1/regions/<region>/policy")
def region_policy_sources(region: str):
    policy = region_policy(region)
    files = {name.rsplit("/", 1)[-1]: src.text for name, src in registry().sources[region].items()}
    parameters, provisional = {}, []
    for name, layers in policy.definitions.items():
        rows = []
        for layer in layers:
            for v in layer.versions:
                entry = {"region": layer.region, "from": v.in_force["from"], "to": v.in_force["to"],
                         "condition": dict([v.condition]) if v.condition else None,
                         "figure": _figure(v.figure), "table": [_row(r) for r in v.rows],
                         "status": v.cite.status, "citation": v.cite.text,
                         "file": v.span.file, "line": v.span.line}
                rows.append(entry)
                if v.cite.status in UNCONFIRMED and layer.region == region:
                    provisional.append({"name": name, "label": layer.label(), **entry})
        parameters[name] = {"kind": layers[0].kind, "label": layers[0].label(), "unit": layers[0].unit,
                            "paid_by": layers[0].paid_by, "versions": rows}
    return json_response({"region": region, "policy_version": policy.digest, "files": files,
                          "parameters": parameters, "provisional": provisional})


def _figure(value):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, AmountRange):
        return {"from": fmt(value.low), "to": fmt(value.high), "step": fmt(value.step)}
    return str(value) if not isinstance(value, dt.date) else value.isoformat()


def _row(row) -> dict:
    out = {}
    for field in ("tier", "group", "position", "amount", "low", "high", "key"):
        if hasattr(row, field):
            out[field] = _figure(getattr(row, field))
    for field in ("subsidy", "by_level", "values"):
        if hasattr(row, field):
            out[field] = {k: _figure(v) for k, v in getattr(row, field)}
    if hasattr(row, "only_daijiao"):
        out["only_daijiao"] = row.only_daijiao
    if getattr(row, "only_groups", ()):
        out["only_groups"] = list(row.only_groups)
    if getattr(row, "band", False):
        out["band"] = True  # keyed by its lowest amount: every amount up to the next band
    if getattr(row, "share", None) is not None:
        out["share"] = str(row.share)  # of the lowest tier
    return out


@api.get("/v1/regions/<region>/schema")
def region_schema(region: str):
    return json_response(person_schema(region_policy(region)), content_type="application/schema+json")


@api.post("/v1/regions/<region>/test")
def test_region(region: str):
    """Check edited sources of a region and run its test cases against them (nothing is saved)."""
    region_policy(region)
    body, type_errors, errors = object_body({"files"})
    files = sent_policy_text(body, type_errors, errors, tests=True)
    live = current_app.extensions["jubao.live"]
    return json_response(within(_settings().work_seconds, _test_run, registry(), region, files, live, request_lang()))


def _test_run(base: Registry, region: str, files: dict, live, lang: str = "zh") -> dict:
    """The sent sources checked and run against the sent test files (tests/*.yaml), or the live version's."""
    try:
        policy = policy_from_texts(policy_part(files), base=base)
        cases = live.cases(region, files if test_part(files) else None)
    except PolicyError as exc:  # the policy does not check, or a test file cannot be read
        return {"ok": False, "diagnostics": [d.as_dict() for d in exc.diagnostics],
                "tests": {"passed": 0, "failed": 0, "failures": []}}
    outcomes = [run_case(policy, case, lang=lang) for case in cases]
    failures = [{"case": o.case.name, "file": o.case.file, "line": o.case.line, "failures": list(o.failures),
                 "policy_lines": list(o.lines)} for o in outcomes if not o.passed]
    return {"ok": not failures, "diagnostics": [],
            "tests": {"passed": len(outcomes) - len(failures), "failed": len(failures), "failures": failures}}


def sent_policy_text(body: dict, type_errors: list, errors: list, tests: bool = False) -> dict:
    """The `files` of a check or test request; 413 past JUBAO_MAX_POLICY_TEXT for a caller not signed in."""
    files = policy_files(body, type_errors, errors, tests)
    size = sum(len(text.encode("utf-8", "surrogatepass")) for text in files.values())
    limit = _settings().max_policy_text
    if size > limit and current_user() is None:
        raise HttpProblem(413, say("http.policy-text-too-large", size=size, limit=limit))
    return files


def _settings():
    return current_app._get_current_object().config["JUBAO_SETTINGS"]  # see registry()


@api.post("/v1/check")
def check():
    body, type_errors, errors = object_body({"files"})
    files = sent_policy_text(body, type_errors, errors)
    diagnostics = within(_settings().work_seconds, check_texts, files, registry())
    # messages and hints in Chinese (the officers' language), English with ?lang=en
    lang = request_lang()
    return json_response({"ok": not diagnostics, "diagnostics": [d.as_dict(lang) for d in diagnostics]})


@api.post("/v1/format")
def format_policy():
    """The canonical layout of each file (`jubao fmt`); a file that does not parse is returned unchanged with its
    diagnostics, so an editor never loses what the officer typed."""
    body, type_errors, errors = object_body({"files"})
    files = sent_policy_text(body, type_errors, errors)
    # formatting parses twice (before and after): as bounded as a check
    return json_response(within(_settings().work_seconds, _formatted, files, request_lang()))


def _formatted(files: dict, lang: str) -> dict:
    formatted, changed, diagnostics = {}, [], []
    for name, text in files.items():
        try:
            formatted[name] = format_text(text, name)
        except PolicyError as exc:
            formatted[name] = text
            diagnostics += [d.as_dict(lang) for d in exc.diagnostics]
        if formatted[name] != text:
            changed.append(name)
    return {"ok": not diagnostics, "files": formatted, "changed": changed, "diagnostics": diagnostics}


@api.get("/v1/decisions/<decision_id>")
def decision(decision_id: str):
    return json_response(stored_decision(decision_id, request_lang()))


def stored_decision(decision_id: str, lang: str = "zh") -> dict:
    """A stored determination, re-evaluated with the policy version it was made with and compared with today's."""
    log = decision_log()
    stored = log.get(decision_id) if log is not None and re.fullmatch(r"[0-9a-f]{12,40}", decision_id) else None
    if stored is None:
        raise HttpProblem(404, say("http.no-decision", decision=decision_id), title="未知决定 Unknown decision")
    result = dict(stored["result"])
    result["eligibility"] = {**result["eligibility"]}
    result["decision_id"] = stored["id"]
    result["decided_at"] = stored["created_at"].isoformat() if stored["created_at"] else None
    result["policy_version"] = stored["policy_version"]
    region = stored["region"]
    request_body = stored["request"]
    then = _policy_of_version(region, stored["policy_version"])
    if then is not None:
        redone = _redo(then, request_body, lang, explain=True)
        result["explanation"] = explanation_json(redone.explanation, _max_nodes())
        words = {(u.file, u.line, u.value): (u.text_zh or u.value) if lang == "zh" else u.value
                 for u in redone.uses_unconfirmed}
    else:
        words = {}
        result["explanation"] = None
        result["explanation_unavailable"] = say("decision.version-missing").in_lang(lang)
    # each unconfirmed figure also in words of the reader's language (`value` stays the canonical English)
    result["uses_unconfirmed"] = [{**u, "text": words.get((u.get("file"), u.get("line"), u.get("value")),
                                                          u.get("value"))}
                                  for u in result.get("uses_unconfirmed", [])]
    now = registry().policy(region) if region in registry().sources else None
    if then is not None or now is not None:
        result["eligibility"]["reason_texts"] = reason_texts(result["eligibility"]["reasons"], then or now, lang)
    if now is not None:
        today = _redo(now, request_body, lang, explain=False)
        differences = _differences(stored["result"], decision_json(today))
        # `same`: today's rules give the same figures; `policy_changed`: the policy version is another one
        result["today"] = {"policy_version": now.digest, "same": not differences,
                           "policy_changed": now.digest != stored["policy_version"], "differences": differences,
                           "rule_changes": rule_changes(then, now, lang) if then is not None else None}
    result["request"] = request_body
    return result


def _policy_of_version(region: str, policy_version: str) -> Policy | None:
    current = registry()
    if region in current.sources and current.policy(region).digest == policy_version:
        return current.policy(region)
    rebuilt = current_app.extensions["jubao.live"].registry_of(region, policy_version)
    return rebuilt.policy(region) if rebuilt is not None else None


def _redo(policy: Policy, body: dict, lang: str, explain: bool) -> Decision:
    as_of = read_as_of(body["as_of"])
    return evaluate(policy, read_person(policy, body["person"], as_of), as_of, explain=explain, lang=lang)


def _differences(then: dict, now: dict) -> list[dict]:
    """Figures that differ between the stored result and today's policy: total, components, account."""
    def figures(result: dict) -> dict:
        out = {"status": result["status"], "monthly_pension.total": result["monthly_pension"]["total"],
               "account.balance": result["account"]["balance"]}
        for c in result["monthly_pension"]["components"]:
            out[f"monthly_pension.{c['id']}"] = c["amount"]
        return out

    a, b = figures(then), figures(now)
    return [{"field": k, "then": a.get(k), "now": b.get(k)} for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


@api.get("/healthz")
def healthz():
    return json_response({"status": "ok"})


@api.get("/readyz")
def readyz():
    problems = {}
    for region in registry().regions:
        diagnostics = registry().diagnostics(region)
        if diagnostics:
            problems[region] = f"{len(diagnostics)} policy problem(s)"
    log = decision_log()
    if log is not None:
        try:
            log.ping()
        except Exception as exc:  # the database being down must be reported, whatever the driver raises
            problems["database"] = type(exc).__name__
    folder = current_app.extensions["jubao.live"].folder_problems
    status = 200 if not problems else 503
    body = {"status": "ready" if status == 200 else "not ready", "problems": problems}
    if folder and status == 200:  # serving the store's live versions; the folder's edits wait for a fix
        body["status"] = "degraded"
    if folder:
        body["policy_folder"] = {region: f"{len(d)} problem(s) in policies/{region}/, first: {d[0]['file']}:"
                                         f"{d[0]['line']}: {d[0]['message']}" for region, d in folder.items()}
    return json_response(body, status)
