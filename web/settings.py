"""Service settings: environment variables (JUBAO_*) over an optional TOML file over embedded defaults."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

import attrs

from engine.language import DEFAULT_POLICY_DIR


def _zone_name(name: str) -> str:
    """A zone the service can show times in (an IANA name such as Asia/Shanghai or UTC), checked at start."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"JUBAO_TIME_ZONE: unknown time zone {name!r} (an IANA name, e.g. Asia/Shanghai)") from None
    return name


def default_policy_dir() -> Path:
    """./policies when the current folder has one (the officers' working copy), else the policies installed with
    jubao (as the command line's --policies default, engine/cli.py)."""
    here = Path("policies")
    return here if here.is_dir() else DEFAULT_POLICY_DIR


@attrs.frozen
class Settings:
    policy_dir: Path
    data_dir: Path
    database_url: str
    max_body: int = 10 * 1024 * 1024
    max_batch: int = 1000
    decision_log: bool = True
    query_auth: str = "open"  # open | token: whether queries need a reader token
    max_explanation_nodes: int = 100_000  # past it an explanation ends in a node that says it was cut
    work_seconds: float = 10.0  # a check, test run or draft assessment of sent text is stopped after this
    max_policy_text: int = 1024 * 1024  # policy text a caller who is not signed in may send to check or test
    time_zone: str = "Asia/Shanghai"  # the zone the pages show times in (the store keeps UTC)

    def zone(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.time_zone)

    def secret_key(self) -> str:
        """Signs session cookies: JUBAO_SECRET_KEY, else a random key kept in the data folder."""
        if os.environ.get("JUBAO_SECRET_KEY"):
            return os.environ["JUBAO_SECRET_KEY"]
        path = self.data_dir / "secret_key"
        if not path.exists():
            import secrets

            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()

    @classmethod
    def load(cls, overrides: dict | None = None) -> "Settings":
        """Defaults ← JUBAO_CONFIG (a TOML file) ← JUBAO_* environment ← explicit overrides."""
        values: dict = {}
        config = os.environ.get("JUBAO_CONFIG")
        if config:
            values.update(tomllib.loads(Path(config).read_text(encoding="utf-8")))
        env = {
            "policy_dir": "JUBAO_POLICY_DIR", "data_dir": "JUBAO_DATA_DIR", "database_url": "JUBAO_DATABASE_URL",
            "max_body": "JUBAO_MAX_BODY", "max_batch": "JUBAO_MAX_BATCH", "decision_log": "JUBAO_DECISION_LOG",
            "query_auth": "JUBAO_QUERY_AUTH", "max_explanation_nodes": "JUBAO_MAX_EXPLANATION_NODES",
            "work_seconds": "JUBAO_WORK_SECONDS", "max_policy_text": "JUBAO_MAX_POLICY_TEXT",
            "time_zone": "JUBAO_TIME_ZONE",
        }
        for key, var in env.items():
            if os.environ.get(var):
                values[key] = os.environ[var]
        values.update(overrides or {})
        data_dir = Path(values.get("data_dir", "data"))
        return cls(
            policy_dir=Path(values.get("policy_dir") or default_policy_dir()),
            data_dir=data_dir,
            database_url=str(values.get("database_url") or f"sqlite:///{(data_dir / 'jubao.sqlite3').resolve()}"),
            max_body=int(values.get("max_body", 10 * 1024 * 1024)),
            max_batch=int(values.get("max_batch", 1000)),
            decision_log=str(values.get("decision_log", "true")).lower() not in ("0", "false", "no", "off"),
            query_auth=str(values.get("query_auth", "open")),
            max_explanation_nodes=int(values.get("max_explanation_nodes", 100_000)),
            work_seconds=float(values.get("work_seconds", 10.0)),
            max_policy_text=int(values.get("max_policy_text", 1024 * 1024)),
            time_zone=_zone_name(str(values.get("time_zone") or "Asia/Shanghai")),
        )
