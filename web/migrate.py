"""The database schema, changed only by Alembic migrations (web/migrations/versions/).

SQLite (the embedded default) is upgraded on start, under a file lock so that gunicorn's workers and a
`jubao db upgrade` running beside them never migrate the same file twice at once. PostgreSQL is upgraded
only by `jubao db upgrade`: a production database changes when its operator says so, and a server started
on an older schema refuses to start with the command to run.

A database created before migrations existed (by `create_all`, releases up to 0.1.0) has every table of
the first revision and no `alembic_version`: it is stamped as that revision, then upgraded like any other.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST = "0001"
MIGRATION_LOCK = 74726173  # PostgreSQL advisory lock key of jubao's migrations
BEFORE_MIGRATIONS = {"decisions", "policy_versions", "policy_live", "policy_live_history", "users", "audit_log"}


class SchemaOutOfDate(Exception):
    """The database's schema is older than this release's and may not be upgraded implicitly."""


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision(engine: sa.Engine) -> str | None:
    """The database's revision: None for an empty database, FIRST for one made before migrations."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        if current is None and BEFORE_MIGRATIONS <= set(sa.inspect(conn).get_table_names()):
            return FIRST
    return current


def upgrade(engine: sa.Engine) -> tuple[str | None, str]:
    """Bring the schema to this release's head; (revision before, revision after)."""
    with _file_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # held by the migration's own transaction until it commits: a second upgrader waits here, then finds
            # the schema at head
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context = MigrationContext.configure(conn)
        before = context.get_current_revision()
        config = alembic_config(conn)
        if before is None and BEFORE_MIGRATIONS <= set(sa.inspect(conn).get_table_names()):
            command.stamp(config, FIRST)
            before = FIRST
        if before != head():
            command.upgrade(config, "head")
    return before, head()


def ensure_schema(engine: sa.Engine) -> None:
    """On start: SQLite is upgraded; any other database must already be at head (`jubao db upgrade`)."""
    if engine.dialect.name == "sqlite":
        if revision(engine) != head():
            upgrade(engine)
        return
    current = revision(engine)
    if current != head():
        raise SchemaOutOfDate(
            f"the database {engine.url.render_as_string(hide_password=True)} is at schema revision "
            f"{current or 'none (empty)'}, this release needs {head()}: run `jubao db upgrade` "
            "(with JUBAO_DATABASE_URL set to this database) and start again")


@contextlib.contextmanager
def _file_lock(engine: sa.Engine):
    """An exclusive lock beside a SQLite file (gunicorn's workers start together); nothing for other databases."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
