"""The decision log (as Open Policy Agent keeps one): every determination, stored with its inputs.

SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (a URL); the same code for both.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from engine.decision import Decision
from engine.render import decision_json
from web.migrate import ensure_schema

METADATA = sa.MetaData()
DECISIONS = sa.Table(
    "decisions", METADATA,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("region", sa.String(40), nullable=False),
    sa.Column("policy_version", sa.String(80), nullable=False),
    sa.Column("as_of", sa.String(10), nullable=False),
    sa.Column("request", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    sa.Column("result", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
)


def new_id() -> str:
    """Time-ordered: milliseconds then randomness, so ids sort by creation (Python 3.11 has no uuid7)."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


def _dumps(obj) -> str:
    # Keep Chinese readable in the database (SQLAlchemy's default escapes it to \\uXXXX).
    return json.dumps(obj, ensure_ascii=False)


def make_engine(url: str) -> sa.Engine:
    """One engine for the decision log and the policy store: SQLite (WAL, waits on locks) or PostgreSQL."""
    kwargs = {"json_serializer": _dumps, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _private_file(engine.url.database)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _private_file(path: str | None) -> None:
    """The SQLite file holds persons' data and token hashes: only the service's user may read it (0600).
    SQLite gives its -wal and -shm files the same mode."""
    if not path or path == ":memory:":
        return
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


class DecisionLogUnavailable(Exception):
    """The decision log cannot be written: the determination is not answered (503), since no answer goes
    without its row."""


class DecisionLog:
    def __init__(self, url_or_engine):
        self.engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        ensure_schema(self.engine)

    def record(self, decision: Decision, request: dict, rendered: dict | None = None) -> str:
        """Store a decision: its DETERMINATION without the explanation (re-rendered on demand).

        `rendered`: that DETERMINATION when the caller has already rendered it (saves doing it twice).
        """
        decision_id = new_id()
        result = rendered if rendered is not None else decision_json(attrs.evolve(decision, explanation=None))
        try:
            with self.engine.begin() as conn:
                conn.execute(DECISIONS.insert().values(
                    id=decision_id, created_at=dt.datetime.now(dt.timezone.utc), region=decision.region,
                    policy_version=decision.policy_version, as_of=decision.as_of.isoformat(), request=request,
                    result=result))
        except sa.exc.DBAPIError as exc:
            # No answer without its row. Connections that saw the fault may stay broken (SQLite keeps a file it
            # opened read-only read-only): drop them all, so that the next request opens fresh ones.
            self.engine.dispose()
            raise DecisionLogUnavailable(str(exc.orig)[:200]) from None
        return decision_id

    def get(self, decision_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(DECISIONS).where(DECISIONS.c.id == decision_id)).mappings().first()
        return dict(row) if row else None

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(DECISIONS)).scalar_one()

    def ping(self) -> None:
        """Raise unless the database can be written now (a read-only database is not ready)."""
        try:
            with self.engine.connect() as conn:
                if self.engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # takes the write lock: fails on a read-only file
                    conn.exec_driver_sql("ROLLBACK")
                elif conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
                    raise DecisionLogUnavailable("the database is read-only")
        except sa.exc.DBAPIError:
            self.engine.dispose()
            raise


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
