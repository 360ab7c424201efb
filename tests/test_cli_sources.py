"""Where the command line's rules come from (issue 32, officers):

- "`jubao check` and `jubao test` without a path read the package's bundled policies, not ./policies … Every
  command that reads policies — check, test, fmt, eval, why, plan, batch, impact, population, serve — takes
  --policies … and defaults to ./policies when it exists, and says which folder it read."
- "An approved change lives only in the database … `--store DATA_DIR|DATABASE_URL` on check, test, eval, batch
  reads the live versions of a service's store."
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import database_kinds
from conftest import database_url as url_for

from engine.cli import main
from web import create_app

ROOT = Path(__file__).resolve().parent.parent
JUBAO = str(Path(sys.executable).with_name("jubao"))
PART_LINE = '  from 2020-01-01  90.00  cite 宁夏扶贫概况 provisional "2020 年 1 月第 7 次提标"\n'
OLD_PERSON = {"birth_date": "1940-06-01", "hukou": {"type": "rural"}, "contributions": []}


def jubao(*args, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([JUBAO, *map(str, args)], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture
def officers_copy(tmp_path) -> Path:
    """An officer's working folder: ./policies with Ningxia's 2020 basic part changed from 90 to 95 (two of its
    cases then fail) and a file laid out by hand (fmt would change it)."""
    work = tmp_path / "work"
    shutil.copytree(ROOT / "policies", work / "policies")
    pension = work / "policies" / "ningxia" / "pension.policy"
    pension.write_text(pension.read_text(encoding="utf-8").replace(PART_LINE, PART_LINE.replace("90.00", "95.00")),
                       encoding="utf-8")
    contributions = work / "policies" / "anhui" / "contributions.policy"
    contributions.write_text(contributions.read_text(encoding="utf-8") + "\n\n\n", encoding="utf-8")
    return work


def test_check_test_and_fmt_read_the_current_folders_policies_and_say_so(officers_copy):
    tests = jubao("test", "ningxia", cwd=officers_copy)
    assert tests.returncode == 1, tests.stdout  # the officer's edit, not the installed files, was tested
    assert "规则来自当前目录下的 policies/" in tests.stderr
    assert "期望 \"178.00\"，实际 \"183.00\"" in tests.stdout
    check = jubao("check", cwd=officers_copy)
    assert check.returncode == 0 and "规则来自当前目录下的 policies/" in check.stderr
    fmt = jubao("fmt", "--check", cwd=officers_copy)
    assert fmt.returncode == 1 and "policies/anhui/contributions.policy" in fmt.stdout, fmt.stdout + fmt.stderr
    assert "格式化政策目录 policies" in fmt.stderr
    answer = jubao("eval", "--region", "ningxia", "--as-of", "2020-06-30", "-", "--format", "json",
                   cwd=officers_copy, stdin=json.dumps(OLD_PERSON))
    assert json.loads(answer.stdout)["monthly_pension"]["components"][0]["by_level"]["province"] == "95.00"


def test_a_folder_without_policies_reads_the_installed_ones_and_says_so(tmp_path):
    run = jubao("check", cwd=tmp_path)
    assert run.returncode == 0 and "规则来自随 jubao 安装的政策" in run.stderr and "当前目录下没有 policies/" in run.stderr
    english = jubao("test", "national", "--lang", "en", cwd=tmp_path)
    assert "rules from the policies installed with jubao" in english.stderr


def test_policies_names_the_folder(officers_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = jubao("test", "ningxia", "--policies", officers_copy / "policies", cwd=elsewhere)
    assert run.returncode == 1 and "规则来自政策目录" in run.stderr


@pytest.mark.parametrize("command", ["check", "test", "fmt", "eval", "why", "plan", "batch", "impact", "population",
                                     "serve"])
def test_every_command_that_reads_policies_takes_policies(command):
    assert "--policies" in CliRunner().invoke(main, [command, "--help"]).output


@pytest.mark.parametrize("command", ["check", "test", "eval", "batch"])
def test_the_commands_that_read_a_store_take_store(command):
    assert "--store DATA_DIR|DATABASE_URL" in CliRunner().invoke(main, [command, "--help"]).output


def test_serve_reads_the_current_folders_policies_or_those_it_is_given(officers_copy, tmp_path, monkeypatch):
    import gc

    from gunicorn.app.base import BaseApplication

    monkeypatch.chdir(officers_copy)
    monkeypatch.setenv("JUBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JUBAO_POLICY_DIR", raising=False)
    app = create_app()
    assert "95.00" in app.extensions["jubao.store"].live_files()["ningxia"]["pension.policy"]
    monkeypatch.setattr(BaseApplication, "run", lambda self: None)  # everything but the serving
    monkeypatch.setenv("JUBAO_DATA_DIR", str(tmp_path / "given"))
    run = CliRunner().invoke(main, ["serve", "--worker-class", "gthread", "--policies", str(ROOT / "policies")])
    gc.unfreeze()
    assert run.exit_code == 0, run.output
    assert f"policies: {ROOT / 'policies'}" in run.output


@pytest.fixture(params=list(database_kinds()))
def published(request, tmp_path):
    """A service's store where a reviewer approved Ningxia's basic part of 110 from 2027 (not in policies/)."""
    data = tmp_path / "data"
    url = url_for(request.param, tmp_path)
    settings = {"data_dir": data} if request.param == "sqlite" else {"data_dir": data, "database_url": url}
    app = create_app(settings)
    store = app.extensions["jubao.store"]
    officer, reviewer = store.add_user("li", "officer", ["ningxia"]), store.add_user("wang", "reviewer", [])
    pension = (ROOT / "policies" / "ningxia" / "pension.policy").read_text(encoding="utf-8")
    changed = pension.replace(PART_LINE, PART_LINE.replace("from 2020-01-01", "from 2020-01-01 until 2026-12-31")
                              + '  from 2027-01-01  110.00  cite 宁夏扶贫概况 provisional "拟提标"\n')
    client = app.test_client()
    draft = client.post("/v1/regions/ningxia/drafts", json={"files": {"pension.policy": changed}, "message": "2027"},
                        headers={"Authorization": f"Bearer {officer}"}).get_json()
    assert draft["ok"], draft
    approved = client.post(f"/v1/drafts/{draft['draft_id']}/approve", headers={"Authorization": f"Bearer {reviewer}"})
    assert approved.status_code == 200, approved.get_json()
    return data if request.param == "sqlite" else url


def test_store_gives_the_live_versions_to_eval_test_check_and_batch(published, tmp_path):
    person = json.dumps(OLD_PERSON)
    folder = jubao("eval", "--region", "ningxia", "--as-of", "2027-02-01", "-", "--format", "json", cwd=ROOT,
                   stdin=person)
    assert json.loads(folder.stdout)["monthly_pension"]["total"] == "283.00"  # policies/ has no 2027 raise
    live = jubao("eval", "--region", "ningxia", "--as-of", "2027-02-01", "-", "--format", "json", "--store",
                 published, cwd=tmp_path, stdin=person)
    assert live.returncode == 0, live.stderr
    assert json.loads(live.stdout)["monthly_pension"]["total"] == "303.00"
    assert "规则来自政策库" in live.stderr and "的现行版本" in live.stderr
    assert "jubao:jubao@" not in live.stderr  # a database URL is shown without its password
    tests = jubao("test", "ningxia", "--store", published, cwd=tmp_path)
    assert tests.returncode == 0 and tests.stdout.strip().endswith(" 0 failed"), tests.stdout
    check = jubao("check", "--store", published, cwd=tmp_path)
    assert check.returncode == 0 and "检查通过" in check.stdout, check.stdout + check.stderr
    source = tmp_path / "people.jsonl"
    source.write_text(person + "\n", encoding="utf-8")
    run = jubao("batch", "--region", "ningxia", "--as-of", "2027-02-01", source, tmp_path / "out.parquet",
                "--store", published, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert str(pq.read_table(tmp_path / "out.parquet").column("monthly_pension_total")[0]) == "303.00"


def test_store_that_is_not_one_says_so_in_a_line(tmp_path):
    run = jubao("eval", "--region", "ningxia", "--as-of", "2027-02-01", "-", "--store", tmp_path, cwd=tmp_path,
                stdin=json.dumps(OLD_PERSON))
    assert run.returncode == 2 and "无法读取政策库" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "jubao.sqlite3").exists()  # reading a store never makes one
    both = jubao("check", "--store", tmp_path, "--policies", ROOT / "policies", cwd=tmp_path)
    assert both.returncode == 2 and "只能用一个" in both.stderr
