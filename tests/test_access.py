"""Every route's access rule, from one table (web/access.py), tried route by route in both query modes.

The test walks the app's URL map, so a new route that is not in the table fails here.
"""
import json

import pytest

from web import create_app
from web.access import ROUTES

PERSON = {"id": "mg-1", "birth_date": "1955-04-01", "hukou": {"type": "rural", "county": "明光"},
          "groups": [{"id": "poverty_registered", "from": "2019-06-10"}], "contributions": []}
VALUES = {"region": "anhui", "draft_id": "0123456789abcdef", "name": "pension.policy", "filename": "app.css"}


def _app(tmp_path, mode):
    folder = tmp_path / mode
    return create_app({"data_dir": folder, "database_url": f"sqlite:///{folder / 'j.sqlite3'}", "query_auth": mode})


def _routes(app, decision_id):
    for rule in app.url_map.iter_rules():
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        url = rule.rule
        for arg in rule.arguments:
            value = VALUES.get(arg, decision_id)
            url = url.replace(f"<{arg}>", value).replace(f"<path:{arg}>", value)
        yield rule.endpoint, method, url


def _call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data="{}", content_type="application/json")


@pytest.mark.parametrize("mode", ["open", "token"])
def test_every_route_is_in_the_table_and_keeps_its_rule(tmp_path, mode):
    app = _app(tmp_path, mode)
    store = app.extensions["jubao.store"]
    token = store.add_user("reader-1", "reader", [])
    signed = {"Authorization": f"Bearer {token}"}
    made = app.test_client().post("/v1/regions/anhui/entitlements", headers=signed, content_type="application/json",
                                  data=json.dumps({"as_of": "2019-07-15", "person": PERSON}))
    assert made.status_code == 200, made.get_json()
    decision_id = made.get_json()["decision_id"]
    seen = set()
    for endpoint, method, url in _routes(app, decision_id):
        seen.add(endpoint)
        assert endpoint in ROUTES, f"{endpoint} ({url}) has no access rule in web/access.py"
        rule = ROUTES[endpoint]
        r = _call(app.test_client(), method, url)
        refused = r.status_code == 401 or (r.status_code == 303 and r.headers["Location"].startswith("/login"))
        must_refuse = rule == "user" or (rule == "reader" and mode == "token")
        assert refused == must_refuse, (endpoint, mode, r.status_code)
        if rule == "reader" and mode == "token":
            assert _call(_signed(app.test_client(), signed), method, url).status_code in (200, 400, 422), endpoint
    assert seen == set(ROUTES), set(ROUTES) - seen


def _signed(client, headers):
    client.environ_base.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    return client


def test_token_mode_closes_the_decision_page(tmp_path):
    """A stored determination shows a person and amounts: in token mode, not without signing in."""
    app = _app(tmp_path, "token")
    token = app.extensions["jubao.store"].add_user("cw", "caseworker", [])
    r = app.test_client().post("/v1/regions/anhui/entitlements", headers={"Authorization": f"Bearer {token}"},
                               content_type="application/json",
                               data=json.dumps({"as_of": "2019-07-15", "person": PERSON}))
    decision_id = r.get_json()["decision_id"]
    page = app.test_client().get(f"/decisions/{decision_id}")
    assert page.status_code == 303 and page.headers["Location"].startswith(f"/login?next=/decisions/{decision_id}")
    assert "110.00" not in page.get_data(as_text=True)


def test_token_mode_caseworker_page_posts_with_its_csrf_token(tmp_path):
    """The calculator's request carries the session's CSRF token (token mode answered 403 without it)."""
    app = _app(tmp_path, "token")
    token = app.extensions["jubao.store"].add_user("cw", "caseworker", [])
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    login_csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.post("/login", data={"name": "cw", "token": token, "csrf": login_csrf}).status_code == 303
    page = client.get("/?region=anhui").get_data(as_text=True)
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    body = json.dumps({"as_of": "2019-07-15", "person": PERSON})
    assert client.post("/v1/regions/anhui/entitlements", data=body, content_type="application/json").status_code == 403
    r = client.post("/v1/regions/anhui/entitlements", data=body, content_type="application/json",
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200
    script = app.test_client().get("/static/calculator.js").get_data(as_text=True)
    assert '"X-CSRF-Token": csrfToken()' in script


def test_a_cookie_saved_before_sign_out_no_longer_signs_in(tmp_path):
    """Hardening issue: "a cookie saved before sign-out still works after it" — sessions are kept on the
    server (web/migrations/versions/0002_page_sessions.py) and signing out ends them."""
    app = _app(tmp_path, "token")
    store = app.extensions["jubao.store"]
    token = store.add_user("cw", "caseworker", [])
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    login_csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert client.post("/login", data={"name": "cw", "token": token, "csrf": login_csrf}).status_code == 303
    saved = client.get_cookie("session").value
    page = client.get("/?region=anhui")
    assert page.status_code == 200
    csrf = page.get_data(as_text=True).split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303

    thief = app.test_client()
    thief.set_cookie("session", saved)
    again = thief.get("/?region=anhui")
    assert again.status_code == 303 and again.headers["Location"].startswith("/login")

    # a session also ends when its user is revoked, or signs in with a new token
    other = app.test_client()
    form = other.get("/login").get_data(as_text=True)
    login_csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert other.post("/login", data={"name": "cw", "token": token, "csrf": login_csrf}).status_code == 303
    assert other.get("/?region=anhui").status_code == 200
    store.revoke_user("cw")
    assert other.get("/?region=anhui").status_code == 303
