"""Apps made by the factory in one process are independent: one app's settings never leak into another's.

The blueprints are module-level objects; a factory that registers hooks on them would change every
app created after it (an open app answering 401, or a token app failing with AssertionError).
"""
import json

from web import create_app

PERSON = {"as_of": "2019-07-15", "person": {"id": "f-1", "birth_date": "1955-04-01",
                                             "hukou": {"type": "rural", "county": "明光"},
                                             "groups": [{"id": "poverty_registered", "from": "2019-06-10"}],
                                             "contributions": []}}


def _app(tmp_path, name: str, **settings):
    folder = tmp_path / name
    return create_app({"data_dir": folder, "database_url": f"sqlite:///{folder / 'jubao.sqlite3'}", **settings})


def _ask(app) -> int:
    return app.test_client().post("/v1/regions/anhui/entitlements", data=json.dumps(PERSON),
                                  content_type="application/json").status_code


def test_a_token_app_after_an_open_app(tmp_path):
    open_app = _app(tmp_path, "open")
    token_app = _app(tmp_path, "token", query_auth="token")
    assert _ask(open_app) == 200
    assert _ask(token_app) == 401


def test_an_open_app_after_a_token_app(tmp_path):
    token_app = _app(tmp_path, "token", query_auth="token")
    open_app = _app(tmp_path, "open")
    assert _ask(token_app) == 401
    assert _ask(open_app) == 200


def test_two_token_apps_in_one_process(tmp_path):
    first = _app(tmp_path, "a", query_auth="token")
    second = _app(tmp_path, "b", query_auth="token")
    assert _ask(first) == 401 and _ask(second) == 401


def test_the_access_line_is_one_json_object_per_request(tmp_path):
    """Operators read one JSON line per request: local time to the second, method, path, status, duration,
    remote address, body bytes, and the decision ids of a determination (to find its decision-log row)."""
    import logging
    import re

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("jubao.access").addHandler(handler)
    try:
        app = _app(tmp_path, "log")
        answer = app.test_client().post("/v1/regions/anhui/entitlements", data=json.dumps(PERSON),
                                        content_type="application/json")
        page = app.test_client().get("/")
    finally:
        logging.getLogger("jubao.access").removeHandler(handler)
    first, second = (json.loads(r.getMessage()) for r in records)
    assert set(first) == {"time", "method", "path", "status", "duration_ms", "remote", "bytes", "decision_ids"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", first["time"])
    assert (first["method"], first["path"], first["status"]) == ("POST", "/v1/regions/anhui/entitlements", 200)
    assert first["bytes"] == len(answer.data) and first["duration_ms"] >= 0
    assert first["decision_ids"] == [answer.get_json()["decision_id"]]
    assert (second["path"], second["status"]) == ("/", 200) and "decision_ids" not in second
    # the pages' security headers, and the policy of what they may load on HTML only
    assert "Content-Security-Policy" in page.headers and "Content-Security-Policy" not in answer.headers
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_a_signed_session_cookie_still_reads_when_api_calls_skip_the_serializer(tmp_path):
    """Calls without a cookie get an empty session without building the signer (web.auth.CookieSessions);
    a browser's signed cookie is still read and a forged one still ignored."""
    app = _app(tmp_path, "cookie")

    @app.get("/_probe")
    def probe():
        from flask import session
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    def no_signer(_app):
        raise AssertionError("a call without a cookie built the signing serializer")

    interface = app.session_interface
    unpatched, interface.get_signing_serializer = interface.get_signing_serializer, no_signer
    assert _ask(app) == 200  # an API call without a cookie, session untouched: no signer needed
    interface.get_signing_serializer = unpatched
    client = app.test_client()
    assert client.get("/_probe").text == "1"
    assert client.get("/_probe").text == "2"  # the cookie set by the first answer is read back
    stranger = app.test_client()
    stranger.set_cookie("session", "forged.value.sig")
    assert stranger.get("/_probe").text == "1"


def test_the_access_line_goes_straight_to_the_servers_own_handler(tmp_path, monkeypatch):
    """Under `jubao serve` the access log has only the handler the app set up: the line is written to its stream
    directly (no LogRecord made), the same line logging would write; with another handler on the logger every
    handler gets it through logging as before."""
    import io
    import logging

    import web.app as app_module

    log = logging.getLogger("jubao.access")
    monkeypatch.setattr(log, "handlers", [])
    monkeypatch.setattr(app_module, "_OWN_HANDLER", None)
    app = _app(tmp_path, "own")
    own = app_module._OWN_HANDLER
    assert log.handlers == [own]
    stream = io.StringIO()
    own.setStream(stream)
    made = []
    real = log.makeRecord
    monkeypatch.setattr(log, "makeRecord", lambda *args, **kw: made.append(1) or real(*args, **kw))
    answer = app.test_client().post("/v1/regions/anhui/entitlements", data=json.dumps(PERSON),
                                    content_type="application/json")
    line = json.loads(stream.getvalue())  # exactly one line
    assert stream.getvalue().endswith("}\n") and made == []
    assert line["decision_ids"] == [answer.get_json()["decision_id"]] and line["status"] == 200
    records = []
    other = logging.Handler()
    other.emit = records.append
    log.addHandler(other)
    app.test_client().get("/healthz")
    assert len(made) == 1 and json.loads(records[0].getMessage())["path"] == "/healthz"
    assert json.loads(stream.getvalue().splitlines()[1])["path"] == "/healthz"
