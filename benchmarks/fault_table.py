"""The load and fault table of the hardening issue, on the real server (`jubao serve`, 2 gevent workers).

Each scenario runs wrk (32 connections, one entitlement, decision log on) for a few seconds while a fault is
injected, and counts: answers 200, answers 503 (refused with Retry-After: no answer without its row), other
statuses, socket errors, decision rows written, and rows lost (200 answers without a row; must be 0).

  baseline           no fault
  worker SIGKILL     one worker killed -9 after 3 s
  master SIGKILL     the master killed -9 after 3 s; a supervisor (as deploy/jubao.service: KillMode=control-group,
                     Restart=on-failure) kills what is left of the group and starts the service again
  read-only 7 s      the SQLite files made immutable (chattr +i) for 7 s, then writable again; afterwards 30
                     requests one by one must all answer 200, and /readyz must have said "not ready" meanwhile
  slowloris 64       64 connections that send headers and one byte of a 1000-byte body, held for the whole run;
                     /healthz timed meanwhile

Run: .venv/bin/python benchmarks/fault_table.py [SECONDS]   (needs wrk and chattr; Linux, root for chattr)
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUBAO = Path(sys.executable).with_name("jubao")
PERSON = json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8"))
LUA = """
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; refused = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then refused = refused + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, r, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other") end
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%.1f\\n", o, r, x, e.connect + e.read + e.write + e.timeout,
                         latency:percentile(99) / 1000))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """`jubao serve` in its own process group, restarted by a supervisor loop when its master dies."""

    def __init__(self, data: Path, port: int):
        self.data, self.port, self.process, self.restarts = data, port, None, 0
        self.supervising = False

    def start(self) -> None:
        env = {**os.environ, "JUBAO_DATA_DIR": str(self.data)}
        self.process = subprocess.Popen([str(JUBAO), "serve", "--port", str(self.port), "--workers", "2"],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start")

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def supervise(self) -> None:
        """What systemd does with deploy/jubao.service: the master gone, stop the group and start again."""
        self.supervising = True

        def loop():
            while self.supervising:
                if self.process.poll() is not None:
                    try:
                        os.killpg(self.process.pid, signal.SIGKILL)  # KillMode=control-group
                    except ProcessLookupError:
                        pass
                    self.restarts += 1
                    self.start()
                time.sleep(0.1)
        threading.Thread(target=loop, daemon=True).start()

    def stop(self) -> None:
        self.supervising = False
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def rows(data: Path) -> int:
    with sqlite3.connect(f"file:{data / 'jubao.sqlite3'}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT count(*) FROM decisions").fetchone()[0]


def wrk(port: int, seconds: int, script: str) -> tuple[int, int, int, int, float]:
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "5s", "-s", script,
                          f"http://127.0.0.1:{port}/v1/regions/ningxia/entitlements"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    ok, refused, other, errors, p99 = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) ([\d.]+)", out).groups()
    return int(ok), int(refused), int(other), int(errors), float(p99)


def post_one(port: int) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/regions/ningxia/entitlements",
                                     json.dumps({"as_of": "2026-03-01", "person": PERSON}).encode(),
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def ready(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def immutable(data: Path, on: bool) -> None:
    # the database and its write-ahead log; not the -shm index, which SQLite maps into memory (an immutable
    # mapping makes the writing process die of SIGBUS, a fault no server code can catch)
    for name in ("jubao.sqlite3", "jubao.sqlite3-wal"):
        if (data / name).exists():
            subprocess.run(["chattr", "+i" if on else "-i", str(data / name)], check=True)


def main(seconds: int = 10) -> None:
    for tool in ("wrk", "chattr", "pgrep"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed")
    data = Path(tempfile.mkdtemp(prefix="jubao-faults-"))
    script = data / "post.lua"
    script.write_text(LUA % json.dumps({"as_of": "2026-03-01", "person": PERSON}), encoding="utf-8")
    service = Service(data, free_port())
    service.start()
    service.supervise()
    port = service.port
    wrk(port, 2, str(script))  # warm-up
    table = []

    def scenario(name: str, fault=None, after=None):
        before = rows(data)
        timer = threading.Timer(3.0, fault) if fault else None
        if timer:
            timer.start()
        ok, refused, other, errors, p99 = wrk(port, seconds, str(script))
        if timer:
            timer.join()  # the fault has ended (the file is writable again) before the requests of `after`
        extra = after() if after else ""
        time.sleep(0.5)
        written = rows(data) - before
        table.append((name, ok, refused, other, errors, written, max(0, ok - written), p99, extra))

    scenario("baseline")
    scenario("worker SIGKILL", lambda: os.kill(service.workers()[0], signal.SIGKILL))
    restarts = service.restarts
    scenario("master SIGKILL", lambda: os.kill(service.process.pid, signal.SIGKILL),
             lambda: f"restarted {service.restarts - restarts}×")

    seen_ready = []

    def read_only():
        immutable(data, True)
        seen_ready.append(ready(port))
        time.sleep(7)
        immutable(data, False)

    def afterwards():
        statuses = [post_one(port) for _ in range(30)]
        return (f"/readyz while read-only {seen_ready[0] if seen_ready else '?'}, now {ready(port)}; "
                f"30 requests after: {statuses.count(200)}×200")
    scenario("read-only 7 s", read_only, afterwards)

    held, health = [], []

    def slowloris():
        for _ in range(64):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{")
            held.append(s)
        for _ in range(5):
            started = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10):
                health.append(time.monotonic() - started)
            time.sleep(0.5)
    scenario("slowloris 64", slowloris, lambda: f"/healthz max {max(health) * 1000:.0f} ms" if health else "")
    # the bar, measured alone: 64 slow connections held, nothing else running, /healthz 10 times
    quiet = []
    for _ in range(10):
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10):
            quiet.append(time.monotonic() - started)
    for s in held:
        s.close()
    service.stop()
    table.append(("slowloris 64 alone", 0, 0, 0, 0, 0, 0, 0.0,
                  f"/healthz max {max(quiet) * 1000:.0f} ms, median {sorted(quiet)[5] * 1000:.0f} ms (no other load)"))

    print(f"{'scenario':<16} {'200':>6} {'503':>5} {'other':>5} {'sockerr':>7} {'rows':>6} {'lost':>4} "
          f"{'p99 ms':>7}  notes")
    for name, ok, refused, other, errors, written, lost, p99, extra in table:
        print(f"{name:<16} {ok:>6} {refused:>5} {other:>5} {errors:>7} {written:>6} {lost:>4} {p99:>7.1f}  {extra}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
