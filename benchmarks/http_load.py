"""Single entitlement over HTTP on the real server (gunicorn gthread) on loopback, decision log on.

Throughput and latency percentiles at 1, 8 and 32 concurrent clients, with and without `explain`,
measured by wrk (Debian package `wrk`). Run: .venv/bin/python benchmarks/http_load.py [SECONDS]
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


def run_wrk(port: int, clients: int, explain: bool, seconds: int) -> tuple[float, float, float, int]:
    body = json.dumps({"as_of": "2026-03-01", "explain": explain, "person": PERSON})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % body)
    out = subprocess.run(["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds}s", "-s", f.name,
                          f"http://127.0.0.1:{port}/v1/regions/ningxia/entitlements"],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    requests, errors, p50, p99, duration = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out).groups()
    return int(requests) / float(duration), float(p50), float(p99), int(errors)


def main(seconds: int = 8) -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")
    port = free_port()
    data = tempfile.mkdtemp(prefix="jubao-bench-")
    env = {**os.environ, "JUBAO_DATA_DIR": data}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "jubao"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port)
        run_wrk(port, 8, False, 2)  # warm-up
        print(f"{'clients':>7} {'explain':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for explain in (False, True):
            for clients in (1, 8, 32):
                rate, p50, p99, errors = run_wrk(port, clients, explain, seconds)
                print(f"{clients:>7} {str(explain):>8} {rate:>8.0f} {p50:>8.2f} {p99:>8.2f} {errors:>7}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    import sqlite3
    rows = sqlite3.connect(Path(data) / "jubao.sqlite3").execute("SELECT count(*) FROM decisions").fetchone()[0]
    print(f"decision log rows written: {rows}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
