import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from engine import Registry, evaluate, read_as_of, read_person
from engine.core.render import decision_json

ROOT = Path(__file__).resolve().parent.parent
# The suite's own files in a checkout: pytest's and Hypothesis's caches, Python's bytecode, the venv
SUITES_OWN = (".venv/", ".pytest_cache/", ".hypothesis/", "__pycache__/")


def checkout_files() -> dict[str, int] | None:
    """What `git status --porcelain --ignored` lists in the checkout (untracked, ignored or changed files), each with
    its modification time; the suite's own files left out. None outside a git checkout."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    listed = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "-z"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:
        return None
    files = {}
    for entry in listed.stdout.split("\0"):
        path = entry[3:]
        if not path or any(part in f"{path}/" for part in SUITES_OWN) or path.startswith(SUITES_OWN):
            continue
        try:
            files[path] = (ROOT / path).stat().st_mtime_ns
        except OSError:  # deleted meanwhile
            files[path] = -1
    return files


def pytest_configure(config):
    """Before anything is collected (some modules make an app at import): the checkout as it is, and the cache
    folder jubao keeps parsed policies in moved to a temporary folder (not the user's ~/.cache/jubao)."""
    config.checkout_before = checkout_files()
    if "JUBAO_TEST_CACHE" not in os.environ:
        config.jubao_cache = tempfile.mkdtemp(prefix="jubao-test-cache-")
        os.environ["XDG_CACHE_HOME"] = os.environ["JUBAO_TEST_CACHE"] = config.jubao_cache


def pytest_unconfigure(config):
    if getattr(config, "jubao_cache", None):
        shutil.rmtree(config.jubao_cache, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """The check that the suite left the checkout as it found it runs last."""
    last = [item for item in items if item.nodeid.startswith("tests/test_checkout_clean.py")]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry(ROOT / "policies")


def construct_policies(into: Path) -> Path:
    """A policy folder of `national` and the test regions under tests/regions/ (the language's constructs)."""
    import shutil

    folder = into / "policies"
    shutil.copytree(ROOT / "policies" / "national", folder / "national")
    for region in (ROOT / "tests" / "regions").iterdir():
        if region.is_dir():
            shutil.copytree(region, folder / region.name)
    return folder


@pytest.fixture(scope="session")
def construct_registry(tmp_path_factory) -> Registry:
    return Registry(construct_policies(tmp_path_factory.mktemp("constructs")))


@pytest.fixture(scope="session")
def determine(registry):
    """determine(region, as_of, person, explain=False) → DETERMINATION dict."""

    def run(region: str, as_of: str, person: dict, explain: bool = False, lang: str = "zh") -> dict:
        policy = registry.policy(region)
        day = read_as_of(as_of)
        return decision_json(evaluate(policy, read_person(policy, json.loads(json.dumps(person)), day), day, explain, lang))

    return run


def fresh_database(url: str) -> str:
    """Drop jubao's tables so that a shared server database (PostgreSQL in CI) starts empty for each test,
    then create them as `jubao db upgrade` does."""
    import sqlalchemy as sa

    import web.store  # noqa: F401  (its tables join METADATA)
    from web.decisions import METADATA
    from web.migrate import upgrade

    engine = sa.create_engine(url)
    METADATA.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)  # PostgreSQL is upgraded only by `jubao db upgrade`, as an operator would run it
    engine.dispose()
    return url


PG_URL = os.environ.get("JUBAO_TEST_POSTGRES_URL")


def database_kinds():
    """SQLite and PostgreSQL; the PostgreSQL variants skip (saying how to run them) unless JUBAO_TEST_POSTGRES_URL
    is set — and CI must set it."""
    if not PG_URL and os.environ.get("CI"):
        raise RuntimeError("CI must run the database tests on PostgreSQL: set JUBAO_TEST_POSTGRES_URL")
    yield "sqlite"
    yield "postgresql"


def database_url(kind: str, tmp_path) -> str:
    if kind == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL variant: set JUBAO_TEST_POSTGRES_URL=postgresql://user@host/db to run it "
                    "(.ci/run starts a server and sets it)")
    return fresh_database(PG_URL) if kind == "postgresql" else f"sqlite:///{tmp_path / 'jubao.sqlite3'}"


def sqlite_write_switch(engine):
    """A switch that makes SQLite itself refuse writes on every connection `engine` opens from now on, as a read-only
    file would (its authorizer; setting one re-prepares every statement). The decision log writes on the driver's
    connection, below SQLAlchemy's events, so the fault is made where the driver sees it."""
    import sqlite3

    import sqlalchemy as sa

    opened = []
    sa.event.listen(engine, "connect", lambda dbapi_connection, record: opened.append(dbapi_connection))

    def refuse(action, argument, *rest):
        writes = (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)
        if action in writes or (action == sqlite3.SQLITE_TRANSACTION and argument == "BEGIN"):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def switch(read_only: bool) -> None:
        for connection in opened:
            connection.set_authorizer(refuse if read_only else None)

    return switch


def python_with_cache(code: str, cache_home: Path) -> str:
    """The output of `code` run in a fresh interpreter on this checkout with `cache_home` as its XDG cache folder
    (what jubao keeps between processes lives there); fails the test on an error or any output to stderr."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr[-2000:]
    return done.stdout
