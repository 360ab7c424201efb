"""The wheel, installed outside the checkout, serves and answers: grammar, templates, static files, migrations
and the bundled policies are package data (tooling issue: "pip install . (not editable) into a fresh venv and
`jubao serve` from another directory works").

The commands are the Dockerfile's (`python -m build --wheel`, `pip install *.whl`, `jubao serve --host 0.0.0.0`).
The venv gets the wheel without its dependencies and borrows them from the test environment (a .pth file), so
the test takes seconds rather than a download of numpy, pyarrow and matplotlib; the Dockerfile installs them.
"""
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


# What a build makes or a run leaves in a checkout; the wheel is built from a copy of the rest (setuptools writes
# build/ and Cython its .c files where it builds: never in the checkout itself)
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "data", "artifacts", "impact", "__pycache__",
                                     "*.egg-info", ".hypothesis", ".pytest_cache", "*.so", "*.c",
                                     "compiled-sources.json")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder of a fresh venv with the wheel installed, a working folder outside the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    build = re.search(r"python -m build --wheel --outdir \S+ \.", DOCKERFILE).group(0)
    argv = shlex.split(build.replace("/dist", str(tmp / "dist")))
    subprocess.run([sys.executable, *argv[1:]], cwd=source, check=True, capture_output=True, timeout=300)
    wheel, = (tmp / "dist").glob("jubao-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=120)
    bin_dir = tmp / "venv" / "bin"
    site = Path(subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    assert re.search(r"pip install --no-cache-dir /tmp/dist/\*\.whl", DOCKERFILE)
    subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300)
    work = tmp / "elsewhere"
    work.mkdir()
    return bin_dir, work


def _run(installed, *args, stdin=None):
    bin_dir, work = installed
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["JUBAO_DATA_DIR"] = str(work / "data")
    return subprocess.run([str(bin_dir / "jubao"), *args], cwd=work, env=env, input=stdin, capture_output=True,
                          text=True, timeout=300)


def test_the_installed_package_is_not_the_checkout(installed):
    bin_dir, work = installed
    where = subprocess.run([str(bin_dir / "python"), "-c", "import engine, web; print(engine.__file__, web.__file__)"],
                           cwd=work, capture_output=True, text=True, check=True).stdout
    assert f"{ROOT}/" not in where and "site-packages" in where


def test_version_check_test_and_eval_from_the_wheel(installed):
    version = _run(installed, "--version")
    assert version.returncode == 0 and "0.1.0" in version.stdout
    if os.environ.get("JUBAO_EXPECT_COMPILED") == "1":  # CI: the wheel carries the compiled engine (setup.py)
        assert "engine: compiled (" in version.stdout, version.stdout
    check = _run(installed, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "检查通过：未发现问题" in check.stdout and "规则来自随 jubao 安装的政策" in check.stderr
    tests = _run(installed, "test", "ningxia")
    assert tests.returncode == 0 and " 0 failed" in tests.stdout
    person = (ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8")
    answer = _run(installed, "eval", "--region", "ningxia", "--as-of", "2026-03-01", "-", "--format", "json",
                  stdin=person)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["monthly_pension"]["total"] == "322.35"  # README example


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_from_the_wheel_as_the_dockerfile_runs_it(installed):
    bin_dir, work = installed
    command = json.loads(re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.M).group(1))
    assert command[:4] == ["jubao", "serve", "--host", "0.0.0.0"]
    port = _free_port()
    argv = [str(bin_dir / "jubao"), *command[1:-1], str(port)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["JUBAO_DATA_DIR"] = str(work / "data")
    server = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("jubao serve did not start: " + server.stderr.read().decode(errors="replace"))
                time.sleep(0.2)
        for path, needle in (("/", "经办计算"), ("/static/app.css", ""), ("/docs", "接口文档"),
                             ("/docs/assets/swagger-ui-bundle.js", ""), ("/policies/ningxia/", "宁夏")):
            with urllib.request.urlopen(base + path, timeout=10) as r:
                assert r.status == 200 and needle in r.read().decode("utf-8"), path
        person = json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8"))
        request = urllib.request.Request(base + "/v1/regions/ningxia/entitlements",
                                         json.dumps({"as_of": "2026-03-01", "person": person}).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            answer = json.loads(r.read())
        assert answer["monthly_pension"]["total"] == "322.35" and answer["decision_id"]
        assert (work / "data" / "jubao.sqlite3").exists()  # the data folder is the volume's, not the package's
    finally:
        server.terminate()
        server.wait(timeout=30)
