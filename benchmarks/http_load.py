"""Single entitlement over HTTP on the real server (`jubao serve`: gunicorn, gevent workers) on loopback,
decision log on, against its ceiling measured in the same run: a Flask "hello world" (benchmarks/hello_app.py)
under the same gunicorn settings and the same wrk load.

Throughput and latency percentiles at 1, 8 and 32 concurrent clients, with and without `explain`, measured by
wrk (Debian package `wrk`); then the issue's row: 32 clients, jubao ÷ hello world (goal ≥ 0.3× at p99 < 50 ms),
and decision-log rows against the answers wrk counted. Beside each rate, the server's CPU milliseconds per answer
(all its processes, from /proc): on a shared machine the rate moves with the neighbours, the CPU cost much less.

Run: .venv/bin/python benchmarks/http_load.py [--seconds 8]
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERSON = json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


LUA = """
wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests, summary.errors.status
    + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU of the server and its workers so far (Linux /proc; 0 elsewhere)."""
    ticks = 0
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    except OSError:
        return 0.0
    for pid in [str(server.pid), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(port: int, clients: int, explain: bool, seconds: int, server: subprocess.Popen | None = None
            ) -> tuple[float, float, float, int, int, float]:
    """(req/s, p50 ms, p99 ms, errors, requests, server CPU ms per request)."""
    before = cpu_seconds(server) if server else 0.0
    body = json.dumps({"as_of": "2026-03-01", "explain": explain, "person": PERSON})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % body)
    out = subprocess.run(["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s", "-s", f.name,
                          f"http://127.0.0.1:{port}/v1/regions/ningxia/entitlements"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    cpu = (cpu_seconds(server) - before) if server else 0.0
    requests, errors, p50, p99, duration = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out).groups()
    return (int(requests) / float(duration), float(p50), float(p99), int(errors), int(requests),
            cpu * 1000 / max(int(requests), 1))


def serve(command: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def hello_world(seconds: int, workers: int) -> tuple[float, float, float, int, int, float]:
    """The ceiling: Flask with nothing to do, under gunicorn as `jubao serve` runs it (web/cli.py)."""
    port = free_port()
    server = serve([str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
                    str(workers), "--worker-class", "gevent", "--worker-connections", "1000", "--preload",
                    "benchmarks.hello_app:app"])
    try:
        wait_ready(port)
        run_wrk(port, 8, False, 2)  # warm-up
        return run_wrk(port, 32, False, seconds, server)
    finally:
        stop(server)


def main(seconds: int = 8) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    workers = os.cpu_count() or 1  # `jubao serve`'s default: one per core
    print(subprocess.run([str(ROOT / ".venv" / "bin" / "jubao"), "--version"], capture_output=True,
                         text=True).stdout.strip().splitlines()[-1])  # engine: compiled, or which modules run as .py
    ceiling = hello_world(seconds, workers)
    port = free_port()
    data = tempfile.mkdtemp(prefix="jubao-bench-")
    server = serve([str(ROOT / ".venv" / "bin" / "jubao"), "serve", "--port", str(port)],
                   {**os.environ, "JUBAO_DATA_DIR": data})
    answers, ours = 0, None
    try:
        wait_ready(port)
        rate, _, _, errors, requests, _ = run_wrk(port, 8, False, 2)  # warm-up
        answers += requests - errors
        print(f"{'clients':>7} {'explain':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU ms/req':>10}")
        for explain in (False, True):
            for clients in (1, 8, 32):
                rate, p50, p99, errors, requests, cpu = run_wrk(port, clients, explain, seconds, server)
                answers += requests - errors
                print(f"{clients:>7} {str(explain):>8} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} {errors:>7} {cpu:>10.2f}")
                if clients == 32 and not explain:
                    ours = (rate, p50, p99, errors, cpu)
    finally:
        stop(server)
    import sqlite3
    rows = sqlite3.connect(Path(data) / "jubao.sqlite3").execute("SELECT count(*) FROM decisions").fetchone()[0]
    rate, p50, p99, errors, cpu = ours
    print(f"\nhello world (gunicorn gevent, {workers} workers, 32 clients): {ceiling[0]:.0f} req/s, "
          f"p99 {ceiling[2]:.2f} ms, {ceiling[5]:.2f} CPU ms/req")
    print(f"jubao, one entitlement, 32 clients: {rate:.0f} req/s, p99 {p99:.2f} ms, {errors} errors, "
          f"{cpu:.2f} CPU ms/req; "
          f"ratio {rate / ceiling[0]:.2f}× the ceiling (goal ≥ 0.30× at p99 < 50 ms: "
          f"{'met' if rate / ceiling[0] >= 0.3 and p99 < 50 and not errors else 'not met'})")
    # rows ≥ answers: a request wrk stops waiting for at the end of a run is still answered and written
    print(f"decision log rows written: {rows}; answers counted by wrk: {answers}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each wrk run (default 8)")
    main(parser.parse_args().seconds)
