"""Policy lifecycle endpoints (contract.md): drafts, review and publish, versions, rollback."""
from __future__ import annotations

import datetime as dt
import difflib
import re

from flask import Blueprint, current_app, request

from engine.language import FieldError, rule_changes, say
from web.api import known_region, registry
from web.auth import require_user, store
from web.bodies import HttpProblem, json_response, object_body, policy_files, request_lang
from web.bounded import within
from web.live import LivePolicies, own_files

lifecycle = Blueprint("lifecycle", __name__)
MAX_MESSAGE = 2000


def live() -> LivePolicies:
    return current_app.extensions["jubao.live"]


def _draft_body() -> tuple[dict, str]:
    body, type_errors, errors = object_body({"files", "message"})
    message = body.get("message", "")
    if not isinstance(message, str):
        type_errors.append(FieldError("/message", say("http.expected-string")))
    elif len(message) > MAX_MESSAGE:
        errors.append(FieldError("/message", say("http.message-long", limit=MAX_MESSAGE)))
    if body.get("files") == {}:
        errors.append(FieldError("/files", say("http.files-empty")))
    files = policy_files(body, type_errors, errors, tests=True)  # raises with every problem found, the message's too
    return files, message


@lifecycle.post("/v1/regions/<region>/drafts")
def create_draft(region: str):
    user = require_user()
    known_region(region)
    if not user.may_draft(region):
        raise HttpProblem(403, say("http.may-not-draft", user=user.name, role=user.role, region=region))
    files, message = _draft_body()
    # files not sent stay as they are live, the test files (tests/*.yaml) the live version carries included
    live_id = store().live().get(region)
    live_files = store().version(live_id)["files"] if live_id else own_files(registry(), region)
    merged = {**live_files, **files}
    assessment = within(current_app.config["JUBAO_SETTINGS"].work_seconds, live().assess, region, merged)
    draft_id = store().add_version(region, merged, assessment.bases, assessment.policy_version or "",
                                   user.name, message, parent=store().live().get(region),
                                   remote=request.remote_addr)
    return json_response({"draft_id": draft_id, "ok": assessment.ok, "diagnostics": assessment.diagnostics,
                          "tests": assessment.tests}, 201)


@lifecycle.post("/v1/drafts/<draft_id>/approve")
def approve(draft_id: str):
    user = require_user()
    version = store().version(draft_id) if re.fullmatch(r"[0-9a-f]{12,40}", draft_id) else None
    if version is None or version["status"] != "draft":
        raise HttpProblem(404, say("http.no-draft", draft=draft_id), title="未知草稿 Unknown draft")
    if not user.may_review():
        raise HttpProblem(403, say("http.may-not-approve", user=user.name, role=user.role))
    if version["author"] == user.name:
        raise HttpProblem(403, say("http.second-person"))
    return json_response(live().publish(draft_id, user.name, request.remote_addr))


@lifecycle.post("/v1/drafts/<draft_id>/rebase")
def rebase(draft_id: str):
    """A new draft: this draft's changes (against the version it was written on) applied to what is live now.

    Three-way, file by file: a file only the draft changed takes the draft's text, one only the live side
    changed takes the live text; a file both changed differently is a conflict (409, nothing is saved).
    """
    user = require_user()
    old = store().version(draft_id) if re.fullmatch(r"[0-9a-f]{12,40}", draft_id) else None
    if old is None or old["status"] != "draft":
        raise HttpProblem(404, say("http.no-draft", draft=draft_id), title="未知草稿 Unknown draft")
    region = old["region"]
    if not user.may_draft(region):
        raise HttpProblem(403, say("http.may-not-draft", user=user.name, role=user.role, region=region))
    live_id = store().live().get(region)
    if old["parent"] == live_id:
        raise HttpProblem(409, say("http.already-on-live", draft=draft_id, live=live_id))
    base = (store().version(old["parent"]) or {}).get("files", {}) if old["parent"] else {}
    theirs = store().version(live_id)["files"]
    merged, conflicts = merge_files(base, old["files"], theirs)
    if conflicts:
        raise HttpProblem(409, say("http.rebase-conflict", files=", ".join(conflicts)),
                          extra={"conflicts": conflicts, "live_version_id": live_id})
    assessment = live().assess(region, merged)
    message = f"{old['message']} (rebased from {draft_id} on {live_id})".strip()
    new_id = store().add_version(region, merged, assessment.bases, assessment.policy_version or "", user.name,
                                 message[:MAX_MESSAGE], parent=live_id, remote=request.remote_addr)
    return json_response({"draft_id": new_id, "rebased_from": draft_id, "ok": assessment.ok,
                          "diagnostics": assessment.diagnostics, "tests": assessment.tests}, 201)


def merge_files(base: dict, ours: dict, theirs: dict) -> tuple[dict, list[str]]:
    """Three-way merge of whole files: (merged files, names changed differently on both sides)."""
    merged, conflicts = {}, []
    for name in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(name), ours.get(name), theirs.get(name)
        if o == b:
            result = t
        elif t == b or t == o:
            result = o
        else:
            conflicts.append(name)
            continue
        if result is not None:
            merged[name] = result
    return merged, conflicts


@lifecycle.get("/v1/regions/<region>/versions")
def versions(region: str):
    known_region(region)
    rows = store().versions(region)
    return json_response([{"version_id": r["id"], "policy_version": r["policy_version"], "status": r["status"],
                           "author": r["author"], "approved_by": r["approved_by"],
                           "time": _utc(r["approved_at"] or r["created_at"]).isoformat(), "message": r["message"],
                           "live": r["live"]} for r in rows])


def _utc(moment):
    """A stored time with its zone said (SQLite gives back naive UTC): 2026-12-08T01:22:56+00:00."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


@lifecycle.post("/v1/regions/<region>/rollback")
def rollback(region: str):
    user = require_user()
    known_region(region)
    if not user.may_review():
        raise HttpProblem(403, say("http.may-not-roll-back", user=user.name, role=user.role))
    body, type_errors, errors = object_body({"policy_version"})
    wanted = body.get("policy_version")
    if not isinstance(wanted, str):
        raise HttpProblem(422, say("person.required", name="policy_version"), [FieldError(
            "/policy_version", say("http.policy-version-from"))])
    target = find_version([r for r in store().versions(region) if r["status"] == "published"], wanted)
    if target is None:
        raise HttpProblem(422, say("http.no-published-version"), [FieldError(
            "/policy_version", say("http.not-published", version=wanted, region=region))])
    return json_response(live().publish(target["id"], user.name, request.remote_addr, action="rollback"))


SHORTEST_ID = 8  # hex digits of a shortened id that /diff and rollback accept (the versions page shows 12)


def find_version(versions: list[dict], key: str | None) -> dict | None:
    """The version a caller names: its row id or policy_version, whole or shortened as the versions page shows it
    (`sha256:` and the first digits); a shortened id that fits more than one version names none."""
    if not key:
        return None
    exact = next((v for v in versions if key in (v["id"], v["policy_version"])), None)
    if exact is not None:
        return exact
    digits = key.removeprefix("sha256:").rstrip("…")
    if len(digits) < SHORTEST_ID or not re.fullmatch(r"[0-9a-f]+", digits):
        return None
    named = {v["policy_version"] if key.startswith("sha256:") else v["id"]: v for v in reversed(versions)
             if (v["policy_version"].removeprefix("sha256:") if key.startswith("sha256:") else v["id"])
             .startswith(digits)}
    return next(iter(named.values())) if len(named) == 1 else None


@lifecycle.get("/v1/regions/<region>/diff")
def diff(region: str):
    """Two versions compared: a unified diff of the files and the changes in rule terms (default `to`: live)."""
    known_region(region)
    versions = store().versions(region)

    def find(key: str | None, name: str) -> dict:
        if key is None and name == "to":
            return next(v for v in versions if v["live"])
        found = find_version(versions, key)
        if found is None:
            raise HttpProblem(422, say("http.no-version", version=key, region=region), [FieldError(
                f"/{name}", say("http.version-from"))])
        return found

    if not request.args.get("from"):
        raise HttpProblem(422, say("person.required", name="from"), [FieldError("/from", say("http.from-query"))])
    old, new = find(request.args.get("from"), "from"), find(request.args.get("to"), "to")
    text = []
    for name in sorted(set(old["files"]) | set(new["files"])):
        text.extend(difflib.unified_diff(old["files"].get(name, "").splitlines(keepends=True),
                                         new["files"].get(name, "").splitlines(keepends=True),
                                         f"{old['policy_version'][:19]}/{name}",
                                         f"{new['policy_version'][:19]}/{name}"))
    try:
        changes = rule_changes(live().registry_of_version(old).policy(region),
                               live().registry_of_version(new).policy(region), request_lang())
    except Exception:  # a draft that does not check has no rules to compare; the text diff still shows it
        changes = None
    # Versions are named by policy_version, as versions, rollback and every determination name them; the row
    # ids are given beside (a draft is known by its id before it has a policy of its own)
    return json_response({"region": region, "from": old["policy_version"], "to": new["policy_version"],
                          "from_version_id": old["id"], "to_version_id": new["id"], "text": "".join(text),
                          "changes": changes})
