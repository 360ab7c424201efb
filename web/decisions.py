"""The decision log (as Open Policy Agent keeps one): every determination, stored with its inputs.

SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (a URL); the same code for both.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
import sqlite3
import time

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from engine.core import Decision, decision_json
from web.blocking import off_loop
from web.codec import dumps_text
from web.group_commit import GroupCommit
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
    # Chinese kept readable in the database (SQLAlchemy's default escapes it to \\uXXXX); orjson (web.codec)
    return dumps_text(obj)


def make_engine(url: str) -> sa.Engine:
    """One engine for the decision log and the policy store: SQLite (WAL, waits on locks) or PostgreSQL."""
    kwargs = {"json_serializer": _dumps, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _private_file(engine.url.database)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # a connection opened while the file cannot be written would be read-only for good (SQLite falls back
        # to read-only silently): refuse it, so that the pool holds only connections that can write once the
        # file can be written again
        sa.event.listen(engine, "connect", lambda connection, record: _writable_or_refuse(engine.url.database,
                                                                                        connection))
    return engine


def sqlite_files(path: str | None) -> list[str]:
    """The database file and its write-ahead log, where they exist."""
    if not path or path == ":memory:":
        return []
    return [f for f in (path, f"{path}-wal") if os.path.exists(f)]


def _writable_or_refuse(path: str | None, connection=None) -> None:
    import sqlite3

    blocked = [f for f in sqlite_files(path) if not os.access(f, os.W_OK)]
    if blocked:  # raised as the driver's error would be, so that every caller's handling of a fault applies
        if connection is not None:
            connection.close()  # never used: it has read nothing, so closing it checkpoints nothing
        raise sa.exc.OperationalError("connect", None, sqlite3.OperationalError(
            f"attempt to write a readonly database ({', '.join(blocked)})"))


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
        self.group = GroupCommit(lambda rows: off_loop(self._insert, rows))
        self._held: tuple | None = None  # (pid, connection, its driver connection): see _insert_sqlite

    def record(self, decision: Decision, request: dict, rendered: dict | bytes | None = None) -> str:
        """Store a decision: its DETERMINATION without the explanation (re-rendered on demand).

        `rendered`: that DETERMINATION when the caller has already rendered it (saves doing it twice), as a dict
        or already encoded as JSON (web.codec.dumps: the answer reuses those bytes, see web.api).
        """
        decision_id = new_id()
        result = rendered if rendered is not None else decision_json(attrs.evolve(decision, explanation=None))
        # both JSON columns go to the database as the text encoded here, once (see _insert_statement)
        row = dict(id=decision_id, created_at=dt.datetime.now(dt.timezone.utc), region=decision.region,
                   policy_version=decision.policy_version, as_of=decision.as_of.isoformat(),
                   request_json=dumps_text(request),
                   result_json=result.decode("utf-8") if isinstance(result, bytes) else dumps_text(result))
        try:
            self.group.submit(row)
        except sqlite3.Error as exc:  # written on the driver's connection itself (see _insert_sqlite)
            raise DecisionLogUnavailable(str(exc)[:200]) from None
        except sa.exc.DBAPIError as exc:
            # No answer without its row. The pooled connections are kept: they were opened for writing and write
            # again once the file can be written (a connection opened meanwhile is refused at connect, see
            # make_engine). Closing them now would be worse: the last close checkpoints the WAL into a file that
            # cannot be written, and SQLite's shared-memory map then kills the process (SIGBUS).
            raise DecisionLogUnavailable(str(exc.orig)[:200]) from None
        return decision_id

    def _insert(self, rows: list[dict]) -> None:
        """The rows of many requests in one transaction (see web.group_commit)."""
        if self.engine.dialect.name == "sqlite":
            self._insert_sqlite(rows)
            return
        with self.engine.begin() as conn:
            conn.execute(self._insert_statement, rows)

    _SQLITE_INSERT = ("INSERT INTO decisions (id, created_at, region, policy_version, as_of, request, result) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)")

    def _insert_sqlite(self, rows: list[dict]) -> None:
        """SQLite: on this process's writing connection, kept between transactions (group commit has one writer
        at a time per process), with the rows as the driver's tuples, written and committed by the driver itself
        (sqlite3 opens the transaction at the INSERT). A pool checkout per transaction (its pre-ping, the reset on
        return), the compiled statement's parameter processing and SQLAlchemy's transaction around the driver's
        cost about as much CPU as writing the rows. On an error the transaction is rolled back and the connection
        goes back to the pool, as every connection did before: it stays open (see `record`) and the next
        transaction checks one out again."""
        held = self._held
        if held is None or held[0] != os.getpid():  # none yet, or the parent's across a fork: never used here
            conn = self.engine.connect()
            held = self._held = (os.getpid(), conn, conn.connection.driver_connection)
        created = self._created_at_text
        params = [(r["id"], created(r["created_at"]), r["region"], r["policy_version"], r["as_of"], r["request_json"],
                   r["result_json"]) for r in rows]
        driver = held[2]
        try:
            driver.executemany(self._SQLITE_INSERT, params)
            driver.commit()
        except BaseException:
            self._held = None
            try:
                driver.rollback()
            except Exception:  # the write's own error is the one to report
                pass
            held[1].close()  # back to the pool (the SQLite connection itself stays open)
            raise

    @functools.cached_property
    def _created_at_text(self):
        """`created_at` as the DateTime column stores it on SQLite (what `get` reads back)."""
        column = DECISIONS.c.created_at.type
        return column.dialect_impl(self.engine.dialect).bind_processor(self.engine.dialect)

    @functools.cached_property
    def _insert_statement(self) -> sa.Insert:
        """INSERT taking `request` and `result` as JSON text already encoded (web.codec, once per row, in the
        request) rather than objects the JSON type would encode again in the writing thread: stored as that
        text on SQLite (what the JSON type stores), cast to JSONB on PostgreSQL."""
        def text(name: str):
            value = sa.bindparam(name, type_=sa.Text())
            return sa.cast(value, JSONB()) if self.engine.dialect.name == "postgresql" else value

        return DECISIONS.insert().values(request=text("request_json"), result=text("result_json"))

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
            if self.engine.dialect.name == "sqlite":
                _writable_or_refuse(self.engine.url.database)  # BEGIN IMMEDIATE passes on an immutable file
            with self.engine.connect() as conn:
                if self.engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # takes the write lock: fails on a read-only file
                    conn.exec_driver_sql("ROLLBACK")
                elif conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
                    raise DecisionLogUnavailable("the database is read-only")
        except sa.exc.DBAPIError:
            raise DecisionLogUnavailable("the database cannot be written now") from None


# Pages of write-ahead log after which a commit also checkpoints them into the database file. SQLite's default
# (1000 pages, 4 MB: every ~400 decision rows) made that one commit ~8-13 ms slower, a stall every request of its
# batch and those queued behind it waited out (the p99). A quarter of it: stalls of 2-3.5 ms, four times as often,
# for about the same work (benchmarked with 7 KB rows in 4-row transactions: +3 µs CPU per row).
WAL_AUTOCHECKPOINT = 250


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    cursor.close()
