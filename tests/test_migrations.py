"""Schema migrations (Alembic, web/migrations/): a database of an earlier release keeps every row.

tests/fixtures/database_0_1_0.sql is a SQLite database made by release 0.1.0 (commit 387936b, tables by
`create_all`, no `alembic_version`): two users (one revoked), the seeded policy versions, a draft, one
stored decision and the audit rows they wrote.
"""
import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from conftest import database_kinds, database_url

import web.store  # noqa: F401  (its tables join METADATA)
from engine.cli import main as cli
from web import create_app
from web.decisions import METADATA, make_engine
from web.migrate import FIRST, SchemaOutOfDate, ensure_schema, head, revision, upgrade

FIXTURE = Path(__file__).parent / "fixtures" / "database_0_1_0.sql"
TABLES_0_1_0 = ("decisions", "policy_versions", "policy_live", "policy_live_history", "users", "audit_log")


def _release_0_1_0(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    return f"sqlite:///{path}"


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = {t: sorted(conn.execute(sa.text(f"SELECT * FROM {t}")).all(), key=repr) for t in TABLES_0_1_0}
    engine.dispose()
    return rows


def test_a_release_0_1_0_database_is_upgraded_and_keeps_every_row(tmp_path):
    url = _release_0_1_0(tmp_path / "old.sqlite3")
    before = _rows(url)
    assert sum(map(len, before.values())) > 20 and all(before[t] for t in TABLES_0_1_0)
    engine = make_engine(url)
    assert revision(engine) == FIRST  # recognised as made before migrations
    assert upgrade(engine) == (FIRST, head())
    assert revision(engine) == head()
    assert _rows(url) == before

    # and the service reads them: the stored decision, the live versions, the users
    app = create_app({"data_dir": tmp_path, "database_url": url})
    decision_id = before["decisions"][0][0]
    stored = app.test_client().get(f"/v1/decisions/{decision_id}")
    assert stored.status_code == 200
    answer = stored.get_json()
    assert answer["monthly_pension"]["total"] == "322.35" and answer["explanation"] is not None
    store = app.extensions["jubao.store"]
    assert set(store.live()) == {"anhui", "chongqing", "nanjing", "national", "ningxia", "yuxi"}
    assert [v["message"] for v in store.versions("ningxia") if v["status"] == "draft"] == ["注释"]
    li = next(r for r in before["users"] if r[0] == "li")
    assert store.user_by_hash(li[3]).regions == ("ningxia",)
    wang = next(r for r in before["users"] if r[0] == "wang")
    assert store.user_by_hash(wang[3]) is None  # still revoked
    # every audit row kept (the service may add its own: folder files changed since 0.1.0 are seeded anew)
    kept = {row["id"]: (row["user"], row["action"], row["target"]) for row in store.audit_rows()}
    assert all(kept[row[0]] == (row[2], row[3], row[5]) for row in before["audit_log"])


def test_upgrading_twice_changes_nothing_and_the_cli_says_so(tmp_path, monkeypatch):
    url = _release_0_1_0(tmp_path / "old.sqlite3")
    monkeypatch.setenv("JUBAO_DATABASE_URL", url)
    runner = CliRunner()
    first = runner.invoke(cli, ["db", "current"])
    assert first.exit_code == 0 and f"database: {FIRST}" in first.output and "jubao db upgrade" in first.output
    up = runner.invoke(cli, ["db", "upgrade"])
    assert up.exit_code == 0 and f"schema revision {FIRST} → {head()}" in up.output
    again = runner.invoke(cli, ["db", "upgrade"])
    assert again.exit_code == 0 and f"already at schema revision {head()}" in again.output


def test_the_models_and_the_migrations_agree(tmp_path):
    """A table changed in web/ without a migration fails here (Alembic's autogenerate finds no difference)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), METADATA)
    assert differences == []


def test_migrations_go_down_and_up_again(tmp_path):
    from alembic import command

    from web.migrate import alembic_config

    url = _release_0_1_0(tmp_path / "old.sqlite3")
    before = _rows(url)
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), FIRST)
    assert revision(engine) == FIRST and "sessions" not in sa.inspect(engine).get_table_names()
    upgrade(engine)
    assert revision(engine) == head() and _rows(url) == before


def _upgrade_in_a_process(url: str, results) -> None:
    results.put(upgrade(make_engine(url)))


def test_two_processes_starting_at_once_migrate_the_file_once(tmp_path):
    """gunicorn's workers (and `jubao db upgrade` beside them) take a file lock: one migrates, the other finds
    the schema at head."""
    url = _release_0_1_0(tmp_path / "old.sqlite3")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_upgrade_in_a_process, args=(url, results)) for _ in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in processes)
    assert outcomes == [(FIRST, head()), (head(), head())]


@pytest.mark.parametrize("kind", list(database_kinds()))
def test_a_new_database_is_at_head_after_start(kind, tmp_path):
    url = database_url(kind, tmp_path)  # PostgreSQL: upgraded by the fixture, as `jubao db upgrade` would
    app = create_app({"data_dir": tmp_path, "database_url": url})
    engine = app.extensions["jubao.store"].engine
    assert revision(engine) == head()
    assert "sessions" in sa.inspect(engine).get_table_names()


@pytest.mark.parametrize("kind", list(database_kinds()))
def test_postgresql_is_upgraded_only_by_the_command(kind, tmp_path):
    """SQLite upgrades itself on start; a PostgreSQL database behind this release refuses to start and says
    which command to run."""
    url = database_url(kind, tmp_path)
    upgrade(make_engine(url))  # at head (PostgreSQL: already, by the fixture)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": FIRST})
        conn.execute(sa.text("DROP TABLE sessions"))
    if kind == "sqlite":
        ensure_schema(make_engine(url))
        assert revision(engine) == head()
        return
    with pytest.raises(SchemaOutOfDate, match="jubao db upgrade"):
        ensure_schema(engine)
    assert upgrade(engine) == (FIRST, head())
    ensure_schema(engine)


def test_a_stored_decision_request_survives_as_json(tmp_path):
    """The JSON columns come back as the same objects (Chinese kept readable, not \\u-escaped)."""
    url = _release_0_1_0(tmp_path / "old.sqlite3")
    upgrade(make_engine(url))
    with sqlite3.connect(tmp_path / "old.sqlite3") as conn:
        request, = conn.execute("SELECT request FROM decisions").fetchone()
        audit = [json.loads(d) for d, in conn.execute("SELECT detail FROM audit_log")]
    assert json.loads(request)["person"]["birth_date"] == "1966-01-15"
    assert {"message": "注释", "files": ["contributions.policy", "pension.policy", "sources.policy"]} in audit


def test_a_release_0_1_0_database_with_only_the_decision_log_is_completed(tmp_path):
    """0.1.0 created tables per use: a database that only ever held the decision log gets the other tables."""
    from web.decisions import DECISIONS

    engine = make_engine(f"sqlite:///{tmp_path / 'log-only.sqlite3'}")
    DECISIONS.create(engine)
    ensure_schema(engine)
    assert revision(engine) == head()
    assert {"decisions", "users", "policy_versions", "sessions"} <= set(sa.inspect(engine).get_table_names())
