"""Group commit of the decision log: many requests' rows in one transaction, and no answer without its row.

The issue: "the decision log written with group commit (a writer that commits the rows of many requests in one
transaction, each request answered only after its row is committed: no answer without its row)" and "the
decision-log 'no row lost' test runs under load (N answers, N rows)".
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from web.group_commit import GroupCommit

ROOT = Path(__file__).resolve().parent.parent
JUBAO = Path(sys.executable).with_name("jubao")


class SlowStore:
    """Records every committed batch; each write takes a while so that requests pile up behind it."""

    def __init__(self, fail_when=lambda rows: False):
        self.batches, self.fail_when, self.lock = [], fail_when, threading.Lock()

    def write(self, rows):
        time.sleep(0.005)
        if self.fail_when(rows):
            raise OSError("disk full")
        with self.lock:
            self.batches.append(list(rows))


def _submit_all(group: GroupCommit, rows, clients=32):
    results = {}

    def one(row):
        try:
            group.submit(row)
            results[row] = "written"
        except OSError as exc:
            results[row] = str(exc)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, rows))
    return results


def test_each_row_is_written_once_and_batches_carry_many_rows():
    store = SlowStore()
    group = GroupCommit(store.write)
    results = _submit_all(group, range(400))
    assert set(results.values()) == {"written"}
    written = [row for batch in store.batches for row in batch]
    assert sorted(written) == list(range(400))  # each once, none lost
    assert group.transactions == len(store.batches)
    assert len(store.batches) < 200, "32 concurrent clients should share transactions"


def test_a_request_returns_only_after_its_row_is_committed():
    store = SlowStore()
    group = GroupCommit(store.write)
    seen_after_return = []

    def one(row):
        group.submit(row)
        with store.lock:  # at the moment submit returns the row must already be in a committed batch
            seen_after_return.append(any(row in batch for batch in store.batches))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(200)))
    assert seen_after_return and all(seen_after_return)


def test_a_failed_transaction_fails_every_request_in_it_and_the_next_ones_still_write():
    fail = threading.Event()
    fail.set()
    store = SlowStore(fail_when=lambda rows: fail.is_set())
    group = GroupCommit(store.write)
    results = _submit_all(group, range(50))
    assert set(results.values()) == {"disk full"}
    assert store.batches == []
    fail.clear()
    results = _submit_all(group, range(50, 100))
    assert set(results.values()) == {"written"}
    assert sorted(r for b in store.batches for r in b) == list(range(50, 100))


def test_a_batch_holds_at_most_the_limit():
    store = SlowStore()
    group = GroupCommit(store.write, most=8)
    _submit_all(group, range(300), clients=48)
    assert max(len(b) for b in store.batches) <= 8
    assert sorted(r for b in store.batches for r in b) == list(range(300))


# ── under load, on the real server ────────────────────────────────────────────

def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rows(database: Path) -> int:
    with closing(sqlite3.connect(database, timeout=30)) as db:
        return db.execute("SELECT count(*) FROM decisions").fetchone()[0]


def test_under_load_n_answers_make_n_rows(tmp_path):
    """A real `jubao serve` (two gevent workers, one SQLite file), 32 clients at once: every 200 answer
    names a decision id whose row is in the log, and the log grew by exactly the number of answers."""
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    env = dict(os.environ, JUBAO_DATA_DIR=str(tmp_path))
    server = subprocess.Popen([str(JUBAO), "serve", "--port", str(port), "--workers", "2"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    person = json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8"))
    body = json.dumps({"as_of": "2026-03-01", "person": person}).encode()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("jubao serve did not start:\n" + (tmp_path / "serve.log").read_text())
                time.sleep(0.2)
        database = tmp_path / "jubao.sqlite3"
        before = _rows(database)

        def ask(_):
            request = urllib.request.Request(base + "/v1/regions/ningxia/entitlements", body,
                                             {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answer = json.loads(response.read())
                    return response.status, answer["decision_id"], answer["monthly_pension"]["total"]
            except urllib.error.HTTPError as exc:
                return exc.code, None, None

        with ThreadPoolExecutor(32) as pool:
            answers = list(pool.map(ask, range(640)))
        ok = [a for a in answers if a[0] == 200]
        assert len(ok) == len(answers), {a[0] for a in answers}
        assert {a[2] for a in ok} == {"322.35"}  # README example, domain.md Ningxia figures
        assert _rows(database) - before == len(ok)  # N answers, N rows
        with closing(sqlite3.connect(database)) as db:
            ids = {a[1] for a in ok}
            found = db.execute(f"SELECT count(*) FROM decisions WHERE id IN ({','.join('?' * len(ids))})",
                               list(ids)).fetchone()[0]
        assert found == len(ids) == len(ok)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
