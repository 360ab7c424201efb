"""Friction a new officer or analyst met at the command line (issue "Chinese first, end to end…")."""
import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.tools.cases import Case, run_case


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_option_says_what_it_is_for(command):
    """issue 17: "Options --region, --as-of, --lang, --format (and --policies …) have no help text"."""
    ctx = main.make_context("jubao", [command, "--help"], resilient_parsing=True)
    sub = main.get_command(ctx, command)
    for param in sub.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"jubao {command} {param.opts[0]} has no help text"


def test_why_past_the_last_row_says_how_many_rows_there_are(tmp_path):
    source = tmp_path / "people.jsonl"
    person = {"birth_date": "1950-01-01", "hukou": {"type": "rural"}, "groups": [], "contributions": []}
    source.write_text("\n".join(json.dumps(person) for _ in range(3)) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["why", "--region", "ningxia", "--as-of", "2020-12-31", str(source), "7",
                                       "--format", "json", "--lang", "en"])
    assert result.exit_code == 2
    assert "has 3 rows" in result.output, result.output
    zh = CliRunner().invoke(main, ["why", "--region", "ningxia", "--as-of", "2020-12-31", str(source), "7",
                                   "--format", "json"])
    assert zh.exit_code == 2 and "共 3 行" in zh.output, zh.output


def test_a_case_may_write_money_as_a_number(registry):
    """issue 17: "Test YAML expects quoted money strings with no hint (`expected 293, got "293.00"`): accept
    numbers for money, compared as decimals"."""
    person = {"birth_date": "1970-01-01", "hukou": {"type": "rural"}, "groups": [],
              "contributions": [{"year": 2011, "tier": "100.00", "kind": "regular", "date": "2011-07-01"}]}
    case = Case("ningxia", "x.yaml", 1, "numbers", "2011-12-31", person,
                {"contributions.2011.subsidy.total": 30, "contributions.2011.credited": 130.0}, None)
    assert run_case(registry.policy("ningxia"), case).passed
    wrong = Case("ningxia", "x.yaml", 1, "numbers", "2011-12-31", person, {"contributions.2011.credited": 131}, None)
    outcome = run_case(registry.policy("ningxia"), wrong, lang="en")
    assert not outcome.passed and 'expected 131, got "130.00"' in outcome.failures[0]
    # issue 32: the failure lines in the officer's language, Chinese by default
    assert run_case(registry.policy("ningxia"), wrong).failures == ('contributions.2011.credited：期望 131，实际 "130.00"',)


def test_the_region_page_shows_each_provisional_figures_note(tmp_path):
    """issue 17: "A region's page lists provisional values with a link to the line; show each one's note too"."""
    from conftest import ROOT

    from web.app import create_app

    app = create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'j.sqlite3'}",
                      "policy_dir": ROOT / "policies"})
    html = app.test_client().get("/policies/ningxia/").get_data(as_text=True)
    table = html[html.index('id="provisional"'):html.index("</table>", html.index('id="provisional"'))]
    assert "奖励数额暂定" in table and "<th>说明</th>" in table


def test_cli_errors_say_what_is_wrong_in_words_not_http_codes(tmp_path):
    """Chinese-first issue: "CLI errors print HTTP codes (`422`): say what is wrong in words, keep the exit codes"."""
    import subprocess
    import sys
    from pathlib import Path

    jubao = str(Path(sys.executable).with_name("jubao"))
    bad = subprocess.run([jubao, "eval", "--region", "ningxia", "--as-of", "2026-03-01", "-"],
                         input='{"birth_date": "1970-13-01"}', capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    # the first line says where the rules came from (issue 32); then the error, in words
    assert bad.stderr.splitlines()[1].startswith("错误（请求内容无效）：") and "/person/birth_date" in bad.stderr
    unknown = subprocess.run([jubao, "eval", "--region", "nowhere", "--as-of", "2026-03-01", "-", "--lang", "en"],
                             input="{}", capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and unknown.stderr.splitlines()[1].startswith("error (Unknown region): ")
    for out in (bad.stderr, unknown.stderr):
        assert not any(code in out for code in ("400", "404", "422"))
