"""The policy store: every version of every region, which one is live, who may change them, and who did.

SQLAlchemy Core over SQLite (embedded default) or PostgreSQL (a URL), the same code for both. A publish is
one transaction (the version, the live pointer, its history and the audit row), so a crash leaves the
previous or the new version live, never a mix; `integrity()` verifies the stored files against their hashes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from web.decisions import METADATA, new_id
from web.migrate import ensure_schema

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
FAULT_PAUSE = float(os.environ.get("JUBAO_FAULT_PAUSE_IN_PUBLISH", "0") or 0)

VERSIONS = sa.Table(
    "policy_versions", METADATA,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("region", sa.String(40), nullable=False, index=True),
    sa.Column("status", sa.String(12), nullable=False),  # draft | published
    sa.Column("files", JSON, nullable=False),  # this region's own files: name → text
    sa.Column("bases", JSON, nullable=False),  # the live files of its bases when checked: region → files
    sa.Column("content_hash", sa.String(80), nullable=False),  # sha256 over region + own files
    sa.Column("policy_version", sa.String(80), nullable=False, index=True),  # the engine digest with the bases
    sa.Column("author", sa.String(80), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("parent", sa.String(40)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("approved_by", sa.String(80)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
)
LIVE = sa.Table(
    "policy_live", METADATA,
    sa.Column("region", sa.String(40), primary_key=True),
    sa.Column("version_id", sa.String(40), nullable=False),
    sa.Column("generation", sa.Integer, nullable=False),
)
LIVE_HISTORY = sa.Table(
    "policy_live_history", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("region", sa.String(40), nullable=False, index=True),
    sa.Column("version_id", sa.String(40), nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
)
USERS = sa.Table(
    "users", METADATA,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("regions", JSON, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # sha256 of the token; never the token
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)
SESSIONS = sa.Table(
    "sessions", METADATA,  # a signed-in page session; the cookie holds its id, the table only the id's hash
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),  # the user's token when signing in
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
)
AUDIT = sa.Table(
    "audit_log", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user", sa.String(80), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("region", sa.String(40)),
    sa.Column("target", sa.String(80)),
    sa.Column("remote", sa.String(64)),
    sa.Column("detail", JSON, nullable=False),
)


@attrs.frozen
class User:
    name: str
    role: str
    regions: tuple[str, ...]

    def may_draft(self, region: str) -> bool:
        return self.role == "admin" or (self.role == "officer" and region in self.regions)

    def may_review(self) -> bool:
        return self.role in ("reviewer", "admin")


def content_hash(region: str, files: dict[str, str]) -> str:
    h = hashlib.sha256(region.encode() + b"\0")
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return "sha256:" + h.hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class StaleDraft(Exception):
    """A draft written on a version that is no longer live: publishing it would undo what was approved since."""

    def __init__(self, draft_id: str, parent: str | None, live: str):
        self.draft_id, self.parent, self.live = draft_id, parent, live
        super().__init__(f"draft {draft_id} was written on {parent}; {live} is live now")


class Store:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        ensure_schema(engine)

    # ── versions ───────────────────────────────────────────────────────────
    def add_version(self, region: str, files: dict, bases: dict, policy_version: str, author: str, message: str,
                    status: str = "draft", parent: str | None = None, remote: str | None = None) -> str:
        version_id = new_id()
        with self.engine.begin() as conn:
            conn.execute(VERSIONS.insert().values(
                id=version_id, region=region, status=status, files=files, bases=bases,
                content_hash=content_hash(region, files), policy_version=policy_version, author=author,
                message=message, parent=parent, created_at=now()))
            _audit(conn, author, "draft" if status == "draft" else "seed", region, version_id, remote,
                   {"message": message, "files": sorted(files)})
        return version_id

    def version(self, version_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(VERSIONS).where(VERSIONS.c.id == version_id)).mappings().first()
        return dict(row) if row else None

    def version_by_digest(self, region: str, policy_version: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(VERSIONS).where(VERSIONS.c.region == region,
                                                         VERSIONS.c.policy_version == policy_version)
                               .order_by(VERSIONS.c.created_at.desc())).mappings().first()
        return dict(row) if row else None

    def versions(self, region: str) -> list[dict]:
        live = self.live().get(region)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(VERSIONS).where(VERSIONS.c.region == region)
                                .order_by(VERSIONS.c.created_at.desc(), VERSIONS.c.id.desc())).mappings().all()
        return [{**dict(r), "live": r["id"] == live} for r in rows]

    def publish(self, version_id: str, by: str, policy_version: str, bases: dict, remote: str | None = None,
                action: str = "publish") -> None:
        """One transaction: the version becomes published and live; history and audit are written with it.

        A draft is published only over the version it was written on (its parent): otherwise StaleDraft,
        and nothing changes (approving an older draft must not undo a change approved since)."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(VERSIONS.c.region, VERSIONS.c.status, VERSIONS.c.parent)
                               .where(VERSIONS.c.id == version_id)).mappings().one()
            region = row["region"]
            draft = row["status"] == "draft"
            values = {"policy_version": policy_version, "bases": bases}
            if row["status"] == "draft":
                values.update(status="published", approved_by=by, approved_at=now())
            conn.execute(VERSIONS.update().where(VERSIONS.c.id == version_id).values(**values))
            if FAULT_PAUSE:  # fault injection for tests: hold the transaction open half-way through a publish
                time.sleep(FAULT_PAUSE)
            current = conn.execute(sa.select(LIVE.c.generation, LIVE.c.version_id).where(LIVE.c.region == region)) \
                .first()
            if current is None:
                conn.execute(LIVE.insert().values(region=region, version_id=version_id, generation=1))
            else:
                moved = LIVE.update().where(LIVE.c.region == region)
                if draft:  # conditional in the database itself: a publish that committed meanwhile makes it stale
                    moved = moved.where(LIVE.c.version_id == row["parent"])
                done = conn.execute(moved.values(version_id=version_id, generation=LIVE.c.generation + 1))
                if done.rowcount != 1:
                    raise StaleDraft(version_id, row["parent"], current.version_id)
            conn.execute(LIVE_HISTORY.insert().values(region=region, version_id=version_id, since=now()))
            _audit(conn, by, action, region, version_id, remote, {"policy_version": policy_version})

    def live(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.region: r.version_id for r in conn.execute(sa.select(LIVE.c.region, LIVE.c.version_id))}

    def live_files(self) -> dict[str, dict[str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(LIVE.c.region, VERSIONS.c.files)
                                .join(VERSIONS, VERSIONS.c.id == LIVE.c.version_id)).all()
        return {r.region: r.files for r in rows}

    def live_on(self, day: dt.date) -> dict[str, str]:
        """The version of each region live at the end of `day` (the 'decided on' axis)."""
        end = dt.datetime.combine(day, dt.time.max, tzinfo=dt.timezone.utc)
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(LIVE_HISTORY).where(LIVE_HISTORY.c.since <= end)
                                .order_by(LIVE_HISTORY.c.since, LIVE_HISTORY.c.id)).mappings().all()
        for r in rows:
            out[r["region"]] = r["version_id"]
        return out

    def first_live(self) -> dt.datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.min(LIVE_HISTORY.c.since))).scalar()

    def integrity(self) -> list[str]:
        """Problems in the store: a live pointer to a missing or unpublished version, files not matching their hash."""
        problems = []
        with self.engine.connect() as conn:
            versions = {r["id"]: dict(r) for r in conn.execute(sa.select(VERSIONS)).mappings()}
            live = conn.execute(sa.select(LIVE)).mappings().all()
        for row in live:
            v = versions.get(row["version_id"])
            if v is None:
                problems.append(f"{row['region']}: live version {row['version_id']} does not exist")
            elif v["status"] != "published":
                problems.append(f"{row['region']}: live version {row['version_id']} is a {v['status']}")
        for v in versions.values():
            if content_hash(v["region"], v["files"]) != v["content_hash"]:
                problems.append(f"{v['region']}: version {v['id']} files do not match their hash")
        return problems

    # ── users ──────────────────────────────────────────────────────────────
    def add_user(self, name: str, role: str, regions: list[str], by: str = "operator") -> str:
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(USERS.delete().where(USERS.c.name == name, USERS.c.revoked_at.is_not(None)))
            conn.execute(USERS.insert().values(name=name, role=role, regions=list(regions),
                                               token_hash=token_hash(token), created_at=now()))
            _audit(conn, by, "user-add", None, name, None, {"role": role, "regions": list(regions)})
        return token

    def revoke_user(self, name: str, by: str = "operator") -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(USERS.update().where(USERS.c.name == name, USERS.c.revoked_at.is_(None))
                                .values(revoked_at=now())).rowcount
            if done:
                _audit(conn, by, "user-revoke", None, name, None, {})
        return bool(done)

    def user_by_token(self, token: str) -> User | None:
        return self.user_by_hash(token_hash(token))

    def user_by_hash(self, digest: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(USERS).where(USERS.c.token_hash == digest,
                                                      USERS.c.revoked_at.is_(None))).mappings().first()
        return User(row["name"], row["role"], tuple(row["regions"])) if row else None

    # ── page sessions ──────────────────────────────────────────────────────
    def start_session(self, token: str) -> str:
        """A new session for the holder of `token`; returns the session id the cookie carries."""
        session_id = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(SESSIONS.insert().values(id_hash=token_hash(session_id), token_hash=token_hash(token),
                                                  created_at=now()))
        return session_id

    def session_user(self, session_id: str) -> User | None:
        """The user of a session not ended, whose token is still the one it signed in with."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(SESSIONS.c.token_hash).where(
                SESSIONS.c.id_hash == token_hash(session_id), SESSIONS.c.ended_at.is_(None))).first()
        return self.user_by_hash(row.token_hash) if row else None

    def end_session(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(SESSIONS.update().where(SESSIONS.c.id_hash == token_hash(session_id),
                                                 SESSIONS.c.ended_at.is_(None)).values(ended_at=now()))

    def audit(self, user: str, action: str, region: str | None, target: str | None, remote: str | None,
              detail: dict) -> None:
        with self.engine.begin() as conn:
            _audit(conn, user, action, region, target, remote, detail)

    def audit_rows(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(AUDIT).order_by(AUDIT.c.id)).mappings()]


def _audit(conn, user: str, action: str, region, target, remote, detail: dict) -> None:
    conn.execute(AUDIT.insert().values(at=now(), user=user, action=action, region=region, target=target,
                                       remote=remote, detail=json.loads(json.dumps(detail, default=str))))
