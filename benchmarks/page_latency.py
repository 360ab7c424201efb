"""Caseworker page: time from pressing 计算 to the rendered determination, in headless chromium.

Run: .venv/bin/python benchmarks/page_latency.py [RUNS]   (needs Debian's chromium)
"""
import shutil
import statistics
import sys
import tempfile
import threading
import time

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from web import create_app

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main(runs: int = 20) -> None:
    app = create_app({"data_dir": tempfile.mkdtemp()})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page()
        for _ in range(runs):
            page.goto(f"{base}/?region=anhui")
            page.fill("#as_of", "2019-07-15")
            page.fill("[data-fact='birth_date']", "1955-04-01")
            page.click("#add-group")
            page.select_option("#groups tbody tr [data-key='id']", "poverty_registered")
            page.fill("#groups tbody tr [data-key='from']", "2019-06-10")
            start = time.perf_counter()
            page.click("#submit")
            page.wait_for_selector("#total")
            times.append(time.perf_counter() - start)
        browser.close()
    httpd.shutdown()
    print(f"submit → rendered determination: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {runs} runs")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
