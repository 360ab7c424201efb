"""Single entitlement over HTTP on the real server (`jubao serve`: gunicorn, gevent workers) on loopback,
decision log on, against its ceiling measured in the same run: a Flask "hello world" (benchmarks/hello_app.py)
under the same gunicorn settings and the same wrk load.

Throughput and latency percentiles at 1, 8 and 32 concurrent clients, with and without `explain`, measured by
wrk (Debian package `wrk`); then the issue's row: 32 clients, jubao ÷ hello world (goal ≥ 0.3× at p99 < 50 ms),
and decision-log rows against 200 answers. Run: .venv/bin/python benchmarks/http_load.py [SECONDS]
"""
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


def run_wrk(port: int, clients: int, explain: bool, seconds: int) -> tuple[float, float, float, int, int]:
    body = json.dumps({"as_of": "2026-03-01", "explain": explain, "person": PERSON})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % body)
    out = subprocess.run(["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s", "-s", f.name,
                          f"http://127.0.0.1:{port}/v1/regions/ningxia/entitlements"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    requests, errors, p50, p99, duration = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out).groups()
    return int(requests) / float(duration), float(p50), float(p99), int(errors), int(requests)


def serve(command: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def hello_world(seconds: int, workers: int) -> tuple[float, float, float, int, int]:
    """The ceiling: Flask with nothing to do, under gunicorn as `jubao serve` runs it (web/cli.py)."""
    port = free_port()
    server = serve([str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers",
                    str(workers), "--worker-class", "gevent", "--worker-connections", "1000", "--preload",
                    "benchmarks.hello_app:app"])
    try:
        wait_ready(port)
        run_wrk(port, 8, False, 2)  # warm-up
        return run_wrk(port, 32, False, seconds)
    finally:
        stop(server)


def main(seconds: int = 8) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    workers = os.cpu_count() or 1  # `jubao serve`'s default: one per core
    ceiling = hello_world(seconds, workers)
    port = free_port()
    data = tempfile.mkdtemp(prefix="jubao-bench-")
    server = serve([str(ROOT / ".venv" / "bin" / "jubao"), "serve", "--port", str(port)],
                   {**os.environ, "JUBAO_DATA_DIR": data})
    answers, ours = 0, None
    try:
        wait_ready(port)
        rate, *_, errors, requests = run_wrk(port, 8, False, 2)  # warm-up
        answers += requests - errors
        print(f"{'clients':>7} {'explain':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for explain in (False, True):
            for clients in (1, 8, 32):
                rate, p50, p99, errors, requests = run_wrk(port, clients, explain, seconds)
                answers += requests - errors
                print(f"{clients:>7} {str(explain):>8} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} {errors:>7}")
                if clients == 32 and not explain:
                    ours = (rate, p50, p99, errors)
    finally:
        stop(server)
    import sqlite3
    rows = sqlite3.connect(Path(data) / "jubao.sqlite3").execute("SELECT count(*) FROM decisions").fetchone()[0]
    rate, p50, p99, errors = ours
    print(f"\nhello world (gunicorn gevent, {workers} workers, 32 clients): {ceiling[0]:.0f} req/s, "
          f"p99 {ceiling[2]:.2f} ms")
    print(f"jubao, one entitlement, 32 clients: {rate:.0f} req/s, p99 {p99:.2f} ms, {errors} errors; "
          f"ratio {rate / ceiling[0]:.2f}× the ceiling (goal ≥ 0.30× at p99 < 50 ms: "
          f"{'met' if rate / ceiling[0] >= 0.3 and p99 < 50 and not errors else 'not met'})")
    # rows ≥ answers: a request wrk stops waiting for at the end of a run is still answered and written
    print(f"decision log rows written: {rows}; answers counted by wrk: {answers}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
