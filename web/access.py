"""Who may call each route: one table for the whole app, enforced by one hook (`enforce`).

- "anyone": open in both query modes (health, the policy texts, sign-in, the document of the API);
- "reader": open by default; with JUBAO_QUERY_AUTH=token only for a signed-in user of any role
  (a page sends the visitor to sign in; the API answers 401);
- "user": a signed-in user always; the endpoint then checks the role it needs (drafts, review, rollback).

tests/test_access.py walks the app's URL map: a route missing from this table fails the tests, and each
route is tried in both modes without a user.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app, redirect, request

from engine.language import say
from web.auth import current_user, require_user
from web.bodies import HttpProblem

ROUTES = {
    # API
    "api.healthz": "anyone", "api.readyz": "anyone", "openapi": "anyone",
    "api.regions": "anyone", "api.region_policy_sources": "anyone", "api.region_schema": "anyone",
    "api.check": "anyone", "api.test_region": "anyone", "api.format_policy": "anyone",
    "api.entitlements": "reader", "api.entitlements_batch": "reader", "api.decision": "reader",
    "lifecycle.versions": "anyone", "lifecycle.diff": "anyone",
    "lifecycle.create_draft": "user", "lifecycle.approve": "user", "lifecycle.rebase": "user",
    "lifecycle.rollback": "user",
    # pages
    "static": "anyone", "pages.favicon": "anyone", "pages.login": "anyone", "pages.logout": "anyone",
    "pages.policy_index": "anyone", "pages.policy_region": "anyone", "pages.policy_file": "anyone",
    "pages.policy_edit": "anyone", "pages.policy_versions": "anyone",
    "pages.api_docs": "anyone", "pages.api_docs_asset": "anyone", "pages.problem_page": "anyone",
    "pages.calculator": "reader", "pages.determination": "reader",
}
PAGES = "pages."


def enforce() -> object | None:
    """before_request: refuse what the table refuses (unknown endpoints fall through to their 404/405)."""
    endpoint = request._get_current_object().endpoint  # not through the proxy's failing lookup (web.api.registry)
    rule = ROUTES.get(endpoint or "")
    if rule is None or rule == "anyone":
        return None
    if rule == "reader" and current_app._get_current_object().config["JUBAO_SETTINGS"].query_auth != "token":
        return None
    if (endpoint or "").startswith(PAGES):
        if current_user() is None:
            return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}", 303)
        return None
    if rule == "reader":
        require_user()  # 401 without a user; a browser session's writes also need the CSRF token
    elif current_user() is None:
        raise HttpProblem(401, say("http.sign-in"))
    return None
