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
