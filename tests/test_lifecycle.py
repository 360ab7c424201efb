"""Policy lifecycle: drafts, review and publish, rollback, access control, audit, two time axes, concurrency, faults.

Every test runs on SQLite and, when JUBAO_TEST_POSTGRES_URL is set (always in CI), on PostgreSQL.
"""
import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import database_kinds
from conftest import database_url as url_for

from web import create_app
from web.store import LIVE_HISTORY, Store

ROOT = Path(__file__).resolve().parent.parent
PENSION = (ROOT / "policies" / "ningxia" / "pension.policy").read_text(encoding="utf-8")
PART_LINE = '  from 2020-01-01  90.00  cite 宁夏扶贫概况 provisional "2020 年 1 月第 7 次提标"\n'
OLD_PERSON = {"birth_date": "1940-06-01", "hukou": {"type": "rural"}, "contributions": []}
AS_OF_2027 = "2027-02-01"  # aged 86: central 163 + Ningxia part + 30 (80+)


def with_2027_part(amount: str) -> str:
    """Ningxia's basic part raised from 2027-01-01: a change no existing test case covers, so tests pass."""
    assert PART_LINE in PENSION
    return PENSION.replace(PART_LINE, PART_LINE.replace("from 2020-01-01", "from 2020-01-01 until 2026-12-31") +
                           f"  from 2027-01-01  {amount}  cite 宁夏扶贫概况 provisional \"拟提标\"\n")


@pytest.fixture(params=list(database_kinds()))
def database_url(request, tmp_path):
    return url_for(request.param, tmp_path)


@pytest.fixture
def app(database_url, tmp_path):
    return create_app({"data_dir": tmp_path, "database_url": database_url})


@pytest.fixture
def users(app):
    store = app.extensions["jubao.store"]
    made = {}
    for key, role, regions in [("reader", "reader", []), ("caseworker", "caseworker", []),
                               ("officer_anhui", "officer", ["anhui"]), ("officer", "officer", ["ningxia"]),
                               ("reviewer", "reviewer", []), ("admin", "admin", [])]:
        name = f"{key}-{uuid.uuid4().hex[:6]}"
        made[key] = (name, store.add_user(name, role, regions))
    return made


def auth(users, key):
    return {"Authorization": f"Bearer {users[key][1]}"} if key in users else {}


def post(client, path, body=None, headers=None):
    return client.post(path, data=json.dumps(body or {}, ensure_ascii=False), content_type="application/json",
                       headers=headers or {})


def total(client, **extra):
    r = post(client, "/v1/regions/ningxia/entitlements", {"as_of": AS_OF_2027, "person": OLD_PERSON, **extra})
    assert r.status_code == 200, (r.get_json()["detail"], r.get_json()["errors"])
    return r.get_json()


def draft(client, users, amount, key="officer", message="提标"):
    r = post(client, "/v1/regions/ningxia/drafts", {"files": {"pension.policy": with_2027_part(amount)},
                                                   "message": message}, auth(users, key))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_draft_review_publish_and_rollback(app, users):
    client = app.test_client()
    before = total(client)
    assert before["monthly_pension"]["total"] == "283.00"  # 163 + 90 + 30
    d = draft(client, users, "110.00")
    assert d["ok"] and d["diagnostics"] == [] and d["tests"]["failed"] == 0 and d["tests"]["passed"] >= 40
    assert total(client)["monthly_pension"]["total"] == "283.00"  # a draft changes nothing live
    r = post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=auth(users, "reviewer"))
    assert r.status_code == 200, r.get_json()
    published = r.get_json()
    assert published["live"] and published["region"] == "ningxia"
    after = total(client)
    assert after["monthly_pension"]["total"] == "303.00"  # 163 + 110 + 30, at once
    assert after["policy_version"] == published["policy_version"] != before["policy_version"]
    listed = client.get("/v1/regions/ningxia/versions").get_json()
    assert [v["live"] for v in listed][:2] == [True, False]
    assert listed[0]["approved_by"] == users["reviewer"][0] and listed[0]["author"] == users["officer"][0]
    r = post(client, "/v1/regions/ningxia/rollback", {"policy_version": before["policy_version"]},
             auth(users, "reviewer"))
    assert r.status_code == 200, r.get_json()
    assert total(client)["monthly_pension"]["total"] == "283.00"
    actions = [a["action"] for a in app.extensions["jubao.store"].audit_rows()]
    assert {"seed", "user-add", "draft", "publish", "rollback"} <= set(actions)


def test_a_failing_draft_never_goes_live(app, users):
    client = app.test_client()
    live_before = total(client)["policy_version"]
    broken = PENSION.replace(PART_LINE, PART_LINE.replace("90.00", "95.00"))  # the officer cases expect 90
    r = post(client, "/v1/regions/ningxia/drafts", {"files": {"pension.policy": broken}, "message": "x"},
             auth(users, "officer"))
    d = r.get_json()
    assert r.status_code == 201 and not d["ok"] and d["tests"]["failed"] > 0
    r = post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=auth(users, "reviewer"))
    assert r.status_code == 409
    assert r.get_json()["tests"]["failures"][0]["region"] == "ningxia"
    syntax = post(client, "/v1/regions/ningxia/drafts", {"files": {"pension.policy": PENSION + "\nvalue x = \n"}},
                  auth(users, "officer")).get_json()
    assert not syntax["ok"] and syntax["diagnostics"][0]["line"] > 1
    assert post(client, f"/v1/drafts/{syntax['draft_id']}/approve", headers=auth(users, "reviewer")).status_code == 409
    assert total(client)["policy_version"] == live_before


ROLE_TABLE = {  # expected status per role and write endpoint (the closing note prints this table)
    "drafts": {"none": 401, "bad token": 401, "reader": 403, "caseworker": 403, "officer_anhui": 403,
               "officer": 201, "reviewer": 403, "admin": 201},
    "approve": {"none": 401, "bad token": 401, "reader": 403, "caseworker": 403, "officer_anhui": 403,
                "officer": 403, "admin": 200},
    "rollback": {"none": 401, "bad token": 401, "reader": 403, "caseworker": 403, "officer_anhui": 403,
                 "officer": 403, "reviewer": 200, "admin": 200},
}


def headers_for(users, key):
    if key == "none":
        return {}
    if key == "bad token":
        return {"Authorization": "Bearer not-a-token"}
    return auth(users, key)


def test_each_role_against_each_write_endpoint(app, users):
    client = app.test_client()
    seen = {}
    for key, expected in ROLE_TABLE["drafts"].items():
        r = post(client, "/v1/regions/ningxia/drafts", {"files": {"pension.policy": with_2027_part("100.00")}},
                 headers_for(users, key))
        seen[("drafts", key)] = r.status_code
        assert r.status_code == expected, (key, r.get_json())
    d = draft(client, users, "105.00")  # authored by the Ningxia officer
    for key, expected in ROLE_TABLE["approve"].items():
        r = post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=headers_for(users, key))
        seen[("approve", key)] = r.status_code
        assert r.status_code == expected, (key, r.get_json())
    seed = client.get("/v1/regions/ningxia/versions").get_json()[-1]["policy_version"]
    for key, expected in ROLE_TABLE["rollback"].items():
        r = post(client, "/v1/regions/ningxia/rollback", {"policy_version": seed}, headers_for(users, key))
        seen[("rollback", key)] = r.status_code
        assert r.status_code == expected, (key, r.get_json())
    print("\nrole × endpoint:", json.dumps({f"{e} {k}": v for (e, k), v in seen.items()}))


def test_bad_file_names_and_hostile_strings(app, users):
    client = app.test_client()
    r = post(client, "/v1/regions/ningxia/drafts", {"files": {"../evil.policy": "x", "a/b.policy": "y"}},
             auth(users, "officer"))
    assert r.status_code == 422
    assert sorted(e["pointer"] for e in r.get_json()["errors"]) == ["/files/..~1evil.policy", "/files/a~1b.policy"]
    hostile = "'; DROP TABLE policy_versions; -- \" OR 1=1 <script>"
    d = draft(client, users, "101.00", message=hostile)
    listed = client.get("/v1/regions/ningxia/versions").get_json()
    assert any(v["message"] == hostile for v in listed) and d["draft_id"]
    store = app.extensions["jubao.store"]
    token = store.add_user(hostile, "reader", [])
    assert store.user_by_token(token).name == hostile
    assert store.integrity() == []
    assert post(client, "/v1/regions/ningxia/rollback", {"policy_version": hostile},
                auth(users, "reviewer")).status_code == 422


def test_tokens_are_stored_hashed_and_never_logged(app, users, database_url):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("jubao.access").addHandler(handler)
    try:
        client = app.test_client()
        draft(client, users, "102.00")
        client.get("/v1/regions/ningxia/versions", headers=auth(users, "reader"))
    finally:
        logging.getLogger("jubao.access").removeHandler(handler)
    text = " ".join(r.getMessage() for r in records)
    assert records and all(token not in text for _, token in users.values())
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        dumped = " ".join(str(row) for row in conn.execute(sa.text("SELECT * FROM users")))
    engine.dispose()
    assert all(token not in dumped for _, token in users.values())
    store = app.extensions["jubao.store"]
    name, token = users["reader"]
    store.revoke_user(name)
    r = app.test_client().get("/v1/regions/ningxia/versions")
    assert r.status_code == 200  # reading the list needs no token
    r = post(app.test_client(), "/v1/regions/ningxia/drafts", {"files": {}}, {"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_browser_session_writes_need_the_csrf_token(app, users):
    client = app.test_client()
    name, token = users["officer"]
    assert client.post("/login", data={"name": name, "token": token}).status_code == 403  # no login-form token
    form = client.get("/login").get_data(as_text=True)
    login_csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", data={"name": name, "token": token, "csrf": login_csrf})
    assert r.status_code in (302, 303)
    body = {"files": {"pension.policy": with_2027_part("103.00")}}
    assert post(client, "/v1/regions/ningxia/drafts", body).status_code == 403
    page = client.get("/policies/ningxia/edit").get_data(as_text=True)
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert post(client, "/v1/regions/ningxia/drafts", body, {"X-CSRF-Token": csrf}).status_code == 201
    assert post(client, "/v1/regions/ningxia/drafts", body, {"X-CSRF-Token": csrf + "x"}).status_code == 403


def test_decisions_two_time_axes(app, users, database_url):
    client = app.test_client()
    old = total(client)
    d = draft(client, users, "110.00")
    post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=auth(users, "reviewer"))
    stored = client.get(f"/v1/decisions/{old['decision_id']}").get_json()
    assert stored["policy_version"] == old["policy_version"] and stored["explanation"]["value"] == "283.00"
    assert stored["today"]["same"] is False and stored["today"]["policy_changed"] is True
    assert {"field": "monthly_pension.total", "then": "283.00", "now": "303.00"} in stored["today"]["differences"]
    assert "宁夏基础养老金 2027-01-01 起：新增 110.00" in stored["today"]["rule_changes"]
    english = client.get(f"/v1/decisions/{old['decision_id']}?lang=en").get_json()
    assert "Ningxia basic pension from 2027-01-01: added 110.00" in english["today"]["rule_changes"]
    # Backdate the two publishes to read the rules "as decided on" a past day.
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        rows = conn.execute(sa.select(LIVE_HISTORY.c.id, LIVE_HISTORY.c.region).order_by(LIVE_HISTORY.c.id)).all()
        for row in rows:
            last = row.id == max(r.id for r in rows if r.region == row.region)
            since = dt.datetime(2026, 6 if last and row.region == "ningxia" else 1, 1, tzinfo=dt.timezone.utc)
            conn.execute(LIVE_HISTORY.update().where(LIVE_HISTORY.c.id == row.id).values(since=since))
    engine.dispose()
    assert total(client, decided_on="2026-03-01")["monthly_pension"]["total"] == "283.00"
    assert total(client, decided_on="2026-07-01")["monthly_pension"]["total"] == "303.00"
    r = post(client, "/v1/regions/ningxia/entitlements", {"as_of": AS_OF_2027, "person": OLD_PERSON,
                                                          "decided_on": "2025-12-31"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["pointer"] == "/decided_on"


def test_publishing_while_serving(app, users):
    """Every answer comes from exactly one complete version; no errors; every answer is in the decision log."""
    client = app.test_client()
    reviewer = auth(users, "reviewer")
    versions = {}
    for amount, figure in (("110.00", "303.00"), ("120.00", "313.00")):  # each drafted on the one live before it
        d = draft(client, users, amount)
        versions[post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=reviewer)
                 .get_json()["policy_version"]] = figure
    log = app.extensions["jubao.decisions"]
    rows_before = log.count()
    stop = threading.Event()
    answers, failures = [], []

    def query():
        c = app.test_client()
        while not stop.is_set():
            r = post(c, "/v1/regions/ningxia/entitlements", {"as_of": AS_OF_2027, "person": OLD_PERSON})
            if r.status_code != 200:
                failures.append(r.status_code)
                continue
            body = r.get_json()
            answers.append((body["policy_version"], body["monthly_pension"]["total"]))

    threads = [threading.Thread(target=query) for _ in range(4)]
    for t in threads:
        t.start()
    publishes = 0
    for version in list(versions) * 4:
        assert post(client, "/v1/regions/ningxia/rollback", {"policy_version": version}, reviewer).status_code == 200
        publishes += 1
    stop.set()
    for t in threads:
        t.join()
    assert not failures
    assert answers and all(versions[v] == figure for v, figure in answers)
    assert log.count() - rows_before == len(answers)
    print(f"\npublishes {publishes}, answers {len(answers)}, errors {len(failures)}, "
          f"decision rows lost {len(answers) - (log.count() - rows_before)}")


PUBLISH_LOOP = """
import sys
from pathlib import Path
from web.decisions import make_engine
from web.live import LivePolicies
from web.store import Store
from engine import Registry
root = Path(sys.argv[2])
store = Store(make_engine(sys.argv[1]))
live = LivePolicies(store, root / "policies")
live.seed(Registry(root / "policies"))
ids = sys.argv[3:]
print("ready", flush=True)
while True:
    for version_id in ids:
        live.publish(version_id, "fault-test", None, action="rollback")
"""


def test_killed_in_the_middle_of_publishing(app, users, database_url, tmp_path):
    client = app.test_client()
    ids = []
    for amount in ("110.00", "120.00"):
        d = draft(client, users, amount)
        post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=auth(users, "reviewer"))
        ids.append(d["draft_id"])
    script = tmp_path / "publish_loop.py"
    script.write_text(PUBLISH_LOOP, encoding="utf-8")
    # Each publish holds its transaction open for 0.4 s half-way through, so most kills land inside one.
    for delay in (0.5, 0.9, 1.4, 2.0):
        proc = subprocess.Popen([sys.executable, str(script), database_url, str(ROOT), *ids], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT), "JUBAO_FAULT_PAUSE_IN_PUBLISH": "0.4"})
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = Store(sa.create_engine(database_url))
        assert store.integrity() == []
        assert store.live()["ningxia"] in ids
        with store.engine.connect() as conn:
            published = conn.execute(sa.select(sa.func.count()).select_from(LIVE_HISTORY)).scalar()
            half = conn.execute(sa.text(
                "SELECT count(*) FROM policy_versions v JOIN policy_live l "
                "ON l.region = v.region WHERE v.status = 'draft' AND l.version_id = v.id")).scalar()
        assert half == 0
        print(f"\nkilled after {delay} s: {published} publishes in the history, integrity clean, "
              f"live {store.live()['ningxia'] == ids[0] and 'first' or 'second'} version")
        store.engine.dispose()
    restarted = create_app({"data_dir": tmp_path, "database_url": database_url})
    assert total(restarted.test_client())["monthly_pension"]["total"] in ("303.00", "313.00")


def test_users_command_prints_a_token_once_and_revokes(tmp_path):
    env = {**os.environ, "JUBAO_DATA_DIR": str(tmp_path)}
    run = lambda *a: subprocess.run([sys.executable, "-m", "engine.cli", "users", *a], capture_output=True,  # noqa
                                    text=True, cwd=ROOT, env=env, timeout=120)
    added = run("add", "li", "--role", "officer", "--region", "ningxia")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert len(token) > 30
    app = create_app({"data_dir": tmp_path})
    assert app.extensions["jubao.store"].user_by_token(token).regions == ("ningxia",)
    assert run("add", "wang", "--role", "officer").returncode != 0  # an officer needs a region
    assert run("revoke", "li").returncode == 0
    assert app.extensions["jubao.store"].user_by_token(token) is None


def test_export_writes_the_live_files_back(app, users, tmp_path):
    client = app.test_client()
    d = draft(client, users, "110.00")
    post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=auth(users, "reviewer"))
    out = tmp_path / "exported"
    url = str(app.extensions["jubao.store"].engine.url.render_as_string(hide_password=False))
    run = subprocess.run([sys.executable, "-m", "engine.cli", "policies", "export", str(out)], capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "JUBAO_DATABASE_URL": url}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (out / "ningxia" / "pension.policy").read_text(encoding="utf-8") == with_2027_part("110.00")
    assert (out / "anhui" / "pension.policy").read_text(encoding="utf-8") == \
        (ROOT / "policies" / "anhui" / "pension.policy").read_text(encoding="utf-8")
    # the test cases travel with the versions, so the export holds them too
    assert (out / "ningxia" / "tests" / "ningxia_core.yaml").read_text(encoding="utf-8") == \
        (ROOT / "policies" / "ningxia" / "tests" / "ningxia_core.yaml").read_text(encoding="utf-8")


def test_diff_between_versions_as_text_and_in_rule_terms(app, users):
    client = app.test_client()
    seed = client.get("/v1/regions/ningxia/versions").get_json()[0]
    d = draft(client, users, "110.00")
    r = client.get(f"/v1/regions/ningxia/diff?from={seed['policy_version']}&to={d['draft_id']}")
    assert r.status_code == 200
    body = r.get_json()
    assert "+  from 2027-01-01  110.00" in body["text"] and body["text"].count("\n-") == 1
    # Chinese-first issue: "`GET …/diff` accepts a `policy_version` (sha256) but answers with other version ids.
    # One kind of id per concept": the answer names versions by policy_version, the row ids beside
    draft_row = next(v for v in client.get("/v1/regions/ningxia/versions").get_json()
                     if v["version_id"] == d["draft_id"])
    assert (body["from"], body["to"]) == (seed["policy_version"], draft_row["policy_version"])
    assert (body["from_version_id"], body["to_version_id"]) == (seed["version_id"], d["draft_id"])
    assert f"--- {seed['policy_version'][:19]}/pension.policy" in body["text"]
    by_id = client.get(f"/v1/regions/ningxia/diff?from={seed['version_id']}&to={draft_row['policy_version']}")
    assert by_id.get_json()["from"] == seed["policy_version"] and by_id.get_json()["text"] == body["text"]
    # issue 32: "the rule diff is half English (`from 2020-01-01: until 2026-12-31 → open`, `removed 110.00`)"
    assert body["changes"] == ["宁夏基础养老金 2020-01-01 起：止日 未定 → 2026-12-31",
                               "宁夏基础养老金 2027-01-01 起：新增 110.00"]
    english = client.get(f"/v1/regions/ningxia/diff?from={seed['policy_version']}&to={d['draft_id']}&lang=en")
    assert english.get_json()["changes"] == ["Ningxia basic pension from 2020-01-01: until open → 2026-12-31",
                                             "Ningxia basic pension from 2027-01-01: added 110.00"]
    assert client.get("/v1/regions/ningxia/diff?from=nope").status_code == 422
    # issue 32: "The versions page shows a shortened id that /diff refuses": the id as the page shows it is taken
    page = client.get("/policies/ningxia/versions").get_data(as_text=True)
    shown = seed["policy_version"][:19]
    assert f"<code>{shown}</code>" in page
    short = client.get(f"/v1/regions/ningxia/diff?from={shown}&to={d['draft_id']}")
    assert short.status_code == 200 and short.get_json()["from"] == seed["policy_version"]
    assert client.get(f"/v1/regions/ningxia/diff?from={d['draft_id'][:12]}").get_json()["from_version_id"] == \
        d["draft_id"]
    assert client.get("/v1/regions/ningxia/diff?from=sha256:0").status_code == 422  # too short to name one


def test_a_publish_reaches_the_other_server_processes_at_once(app, users, database_url, tmp_path):
    """Two app instances on one data folder and database stand for two server processes."""
    other = create_app({"data_dir": tmp_path, "database_url": database_url}).test_client()
    client = app.test_client()
    assert total(other)["monthly_pension"]["total"] == "283.00"
    d = draft(client, users, "110.00")
    post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=auth(users, "reviewer"))
    assert total(other)["monthly_pension"]["total"] == "303.00"  # the stamp file, not a timer


CONTRIBUTIONS = (ROOT / "policies" / "ningxia" / "contributions.policy").read_text(encoding="utf-8")


def test_approving_an_older_draft_cannot_undo_a_newer_approval(app, users):
    """Drafts A (raise the 2027 part to 110) and B, both written on the same live version: approving A, then B,
    must not bring back 283.00 — B is refused with 409 "rebase on version X" and can be rebased."""
    client = app.test_client()
    reviewer = auth(users, "reviewer")
    a = draft(client, users, "110.00")
    r = post(client, "/v1/regions/ningxia/drafts", {"files": {"contributions.policy": CONTRIBUTIONS + "# 注释\n"},
                                                   "message": "注释"}, auth(users, "officer"))
    b = r.get_json()
    assert post(client, f"/v1/drafts/{a['draft_id']}/approve", headers=reviewer).status_code == 200
    assert total(client)["monthly_pension"]["total"] == "303.00"
    r = post(client, f"/v1/drafts/{b['draft_id']}/approve?lang=en", headers=reviewer)
    assert r.status_code == 409, r.get_json()
    problem = r.get_json()
    live_id = app.extensions["jubao.store"].live()["ningxia"]
    assert f"rebase on version {live_id}" in problem["detail"] and problem["live_version_id"] == live_id
    zh = post(client, f"/v1/drafts/{b['draft_id']}/approve", headers=reviewer).get_json()  # Chinese by default
    assert f"请变基到版本 {live_id}" in zh["detail"] and zh["live_version_id"] == live_id
    assert total(client)["monthly_pension"]["total"] == "303.00"  # nothing changed
    r = post(client, f"/v1/drafts/{b['draft_id']}/rebase", headers=auth(users, "officer"))
    assert r.status_code == 201, r.get_json()
    rebased = r.get_json()
    assert rebased["rebased_from"] == b["draft_id"] and rebased["ok"]
    assert post(client, f"/v1/drafts/{rebased['draft_id']}/approve", headers=reviewer).status_code == 200
    assert total(client)["monthly_pension"]["total"] == "303.00"  # A's raise kept, B's change on top
    files = app.extensions["jubao.store"].live_files()["ningxia"]
    assert files["contributions.policy"].endswith("# 注释\n") and "110.00" in files["pension.policy"]


def test_a_rebase_with_both_sides_changing_a_file_is_a_conflict(app, users):
    client = app.test_client()
    a, b = draft(client, users, "110.00"), draft(client, users, "120.00")
    assert post(client, f"/v1/drafts/{a['draft_id']}/approve", headers=auth(users, "reviewer")).status_code == 200
    r = post(client, f"/v1/drafts/{b['draft_id']}/rebase", headers=auth(users, "officer"))
    assert r.status_code == 409 and r.get_json()["conflicts"] == ["pension.policy"]
    assert post(client, f"/v1/drafts/{a['draft_id']}/rebase", headers=auth(users, "officer")).status_code == 404
    assert post(client, f"/v1/drafts/{b['draft_id']}/rebase", headers=auth(users, "caseworker")).status_code == 403


def test_two_approvals_racing_publish_one(app, users):
    """Two drafts on the same version approved at the same moment: exactly one goes live, the other is 409."""
    client = app.test_client()
    drafts = [draft(client, users, amount) for amount in ("110.00", "120.00")]
    statuses = []
    barrier = threading.Barrier(2)

    def approve(d):
        barrier.wait()
        statuses.append(post(app.test_client(), f"/v1/drafts/{d['draft_id']}/approve",
                             headers=auth(users, "reviewer")).status_code)

    threads = [threading.Thread(target=approve, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    assert total(client)["monthly_pension"]["total"] in ("303.00", "313.00")


def test_the_store_refuses_a_stale_draft_even_without_the_service(app, users):
    """The check is in the database's own UPDATE: another process publishing meanwhile makes the draft stale."""
    from web.store import StaleDraft

    client = app.test_client()
    a, b = draft(client, users, "110.00"), draft(client, users, "120.00")
    store = app.extensions["jubao.store"]
    store.publish(a["draft_id"], "someone", "sha256:x", {})
    with pytest.raises(StaleDraft):
        store.publish(b["draft_id"], "someone", "sha256:y", {})
    assert store.live()["ningxia"] == a["draft_id"]


def test_a_region_without_test_cases_cannot_be_approved(database_url, tmp_path):
    """With policies/<region>/tests/ gone, a draft is not ok (0 cases run) and approval is refused."""
    import shutil

    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    shutil.rmtree(policies / "ningxia" / "tests")
    app = create_app({"data_dir": tmp_path, "database_url": database_url, "policy_dir": policies})
    store = app.extensions["jubao.store"]
    officer = store.add_user(f"o-{uuid.uuid4().hex[:6]}", "officer", ["ningxia"])
    reviewer = store.add_user(f"r-{uuid.uuid4().hex[:6]}", "reviewer", [])
    client = app.test_client()
    r = post(client, "/v1/regions/ningxia/drafts", {"files": {"pension.policy": with_2027_part("110.00")}},
             {"Authorization": f"Bearer {officer}"})
    body = r.get_json()
    assert r.status_code == 201 and not body["ok"] and [d["code"] for d in body["diagnostics"]] == ["no-tests"]
    r = post(client, f"/v1/drafts/{body['draft_id']}/approve", headers={"Authorization": f"Bearer {reviewer}"})
    assert r.status_code == 409


def test_today_same_means_the_same_figures(app, users):
    """contract: `same` says today's rules give the same figures; a new policy version is `policy_changed`."""
    client = app.test_client()
    old = total(client)
    r = post(client, "/v1/regions/ningxia/drafts", {"files": {"contributions.policy": CONTRIBUTIONS + "# 注释\n"},
                                                   "message": "注释"}, auth(users, "officer"))
    assert post(client, f"/v1/drafts/{r.get_json()['draft_id']}/approve", headers=auth(users, "reviewer")) \
        .status_code == 200
    today = client.get(f"/v1/decisions/{old['decision_id']}").get_json()["today"]
    assert today["differences"] == [] and today["same"] is True and today["policy_changed"] is True


# ── drafts carry their region's test cases (Chinese-first issue; hardening issue "a draft runs at least the live
# version's cases") ──────────────────────────────────────────────────────────────────────────────────────────
CASE_2027 = """# 拟提标：2027 年 86 岁老人 163 + 110 + 30（80 岁以上）
cases:
  - name: "2027 提标后 303 元"
    as_of: "2027-02-01"
    person: {birth_date: "1940-06-01", hukou: {type: rural}, contributions: []}
    expect:
      monthly_pension.total: "303.00"
"""


def test_a_draft_carries_its_own_test_cases_and_they_run(app, users):
    client = app.test_client()
    live_cases = draft(client, users, "110.00")["tests"]["passed"]
    d = post(client, "/v1/regions/ningxia/drafts",
             {"files": {"pension.policy": with_2027_part("110.00"), "tests/ningxia_2027.yaml": CASE_2027},
              "message": "提标并加用例"}, auth(users, "officer")).get_json()
    assert d["ok"] and d["tests"] == {"passed": live_cases + 1, "failed": 0, "failures": []}
    # the case travels with the draft: a wrong figure in it fails the draft, not the live version
    wrong = post(client, "/v1/regions/ningxia/drafts",
                 {"files": {"pension.policy": with_2027_part("100.00"), "tests/ningxia_2027.yaml": CASE_2027}},
                 auth(users, "officer")).get_json()
    assert not wrong["ok"] and wrong["tests"]["failed"] == 1
    assert wrong["tests"]["failures"][0]["file"] == "policies/ningxia/tests/ningxia_2027.yaml"
    # shown in the diff, published with the version, exported with it
    diff = client.get(f"/v1/regions/ningxia/diff?from={d['draft_id']}").get_json()  # draft → live
    assert "ningxia_2027.yaml" in diff["text"]
    assert post(client, f"/v1/drafts/{d['draft_id']}/approve", headers=auth(users, "reviewer")).status_code == 200
    live = next(v for v in client.get("/v1/regions/ningxia/versions").get_json() if v["live"])
    assert live["version_id"] == d["draft_id"]
    # the next draft runs the published case too, although it sends only a policy file
    again = draft(client, users, "110.00", message="再提")
    assert again["tests"]["passed"] == live_cases + 1
    # a rollback to the version before (one case fewer) is not held to the drafts' "no fewer cases" rule
    seed = next(v for v in client.get("/v1/regions/ningxia/versions").get_json() if v["author"] == "policies/")
    r = post(client, "/v1/regions/ningxia/rollback", {"policy_version": seed["policy_version"]}, auth(users, "reviewer"))
    assert r.status_code == 200, r.get_json()


def test_a_draft_that_drops_test_cases_cannot_be_approved(app, users):
    client = app.test_client()
    page = client.get("/policies/ningxia/edit").get_data(as_text=True)
    sent = json.loads(page.split('id="other-files">', 1)[1].split("</script>", 1)[0])
    tests = {name: text for name, text in sent.items() if name.startswith("tests/")}
    assert len(tests) == 3  # the editor holds the live version's test files beside the policy files
    kept = {name: text for name, text in list(tests.items())[:1]}
    fewer = post(client, "/v1/regions/ningxia/drafts",
                 {"files": {"pension.policy": with_2027_part("110.00"), **kept,
                            **{name: "cases: []\n" for name in list(tests)[1:]}}},
                 auth(users, "officer")).get_json()
    assert not fewer["ok"] and [x["code"] for x in fewer["diagnostics"]] == ["fewer-tests"]
    assert "现行版本有" in fewer["diagnostics"][0]["message"]
    r = post(client, f"/v1/drafts/{fewer['draft_id']}/approve", headers=auth(users, "reviewer"))
    assert r.status_code == 409


@pytest.mark.parametrize("name", ["tests/../x.yaml", "tests/ｘ.yaml", "tests/x.yaml\n", "x.yaml", "tests/a/b.yaml"])
def test_test_file_names_follow_the_policy_file_rule(app, users, name):
    r = post(app.test_client(), "/v1/regions/ningxia/drafts", {"files": {name: CASE_2027}}, auth(users, "officer"))
    assert r.status_code == 422 and r.get_json()["errors"][0]["pointer"].startswith("/files/")


def test_the_test_endpoint_runs_sent_test_files(app):
    client = app.test_client()
    r = post(client, "/v1/regions/ningxia/test", {"files": {"pension.policy": with_2027_part("110.00"),
                                                            "tests/only.yaml": CASE_2027}})
    assert r.status_code == 200 and r.get_json()["tests"] == {"passed": 1, "failed": 0, "failures": []}
    assert post(client, "/v1/check", {"files": {"tests/only.yaml": CASE_2027}}).status_code == 422
