"""Rule coverage: `jubao test --coverage` lists the policy lines no case uses (issue "Tools officers and
integrators expect": "which lines — each tier row, 代缴 row, band, dated version, component — were used")."""
import attrs
from click.testing import CliRunner

from engine.cli import main
from engine.tools.cases import load_cases
from engine.tools.coverage import region_coverage


def test_unused_tier_rows_are_listed_by_line(construct_registry):
    # tests/regions/ceshi: the cases choose the 100 and 200 tiers only; 500 (line 16) and 1000 (line 17) are
    # offered in tier_options but give no case a figure
    policy = construct_registry.policy("ceshi")
    cases = load_cases(construct_registry.policy_dir / "ceshi", "ceshi", construct_registry.policy_dir.parent)
    [report], failed = region_coverage(policy, cases)
    assert failed == 0
    assert report.file == "policies/ceshi/ceshi.policy"
    assert report.uncovered == (16, 17)
    assert report.covered == {12, 14, 15, 21, 25, 26}  # tier version and rows, bonus and %/年 versions, component


def test_a_case_that_uses_a_row_covers_it(construct_registry):
    policy = construct_registry.policy("ceshi")
    cases = load_cases(construct_registry.policy_dir / "ceshi", "ceshi", construct_registry.policy_dir.parent)
    more = attrs.evolve(cases[0], person={
        "birth_date": "1980-01-01", "hukou": {"type": "rural"}, "groups": [],
        "contributions": [{"year": 2022, "tier": "500.00", "kind": "regular", "date": "2022-03-01"}]},
        expect={"contributions.2022.subsidy.total": "60.00"})
    [report], _ = region_coverage(policy, cases + [more])
    assert report.uncovered == (17,)


def test_the_cli_reports_and_enforces_a_minimum(construct_registry):
    folder = str(construct_registry.policy_dir)
    run = CliRunner().invoke(main, ["test", "--coverage", "--policies", folder, "ceshi"])
    assert run.exit_code == 0, run.output
    assert "ceshi：8 个用例覆盖 8 行中的 6 行（75.0%）" in run.output
    assert "未覆盖：policies/ceshi/ceshi.policy:16, policies/ceshi/ceshi.policy:17" in run.output
    english = CliRunner().invoke(main, ["test", "--coverage", "--policies", folder, "ceshi", "--lang", "en"])
    assert "ceshi: 6/8 lines covered (75.0%)" in english.output
    assert "uncovered: policies/ceshi/ceshi.policy:16, policies/ceshi/ceshi.policy:17" in english.output
    below = CliRunner().invoke(main, ["test", "--coverage-min", "80", "--policies", folder, "ceshi"])
    assert below.exit_code == 1
    assert CliRunner().invoke(main, ["test", "--coverage-min", "75", "--policies", folder, "ceshi"]).exit_code == 0


def test_the_policy_browser_marks_the_lines_no_case_uses(tmp_path):
    """Tooling issue: coverage "Shown on the policy browser page too (uncovered rows marked)"."""
    from conftest import construct_policies

    from web import create_app

    folder = construct_policies(tmp_path)
    app = create_app({"data_dir": tmp_path / "data", "database_url": f"sqlite:///{tmp_path / 'j.sqlite3'}",
                      "policy_dir": folder})
    client = app.test_client()
    region = client.get("/policies/ceshi/").get_data(as_text=True)
    section = region.split('id="coverage"', 1)[1].split("</section>", 1)[0]
    assert "6/8 (75.0%)" in section  # ceshi.policy: 8 coverable lines, 16 and 17 unused (test above)
    assert 'href="/policies/ceshi/ceshi.policy#L16"' in section and 'href="/policies/ceshi/ceshi.policy#L17"' in section
    # the tier rows 500 and 1000 are marked in the table, the 100 and 200 rows are not
    rows = [r for r in region.split("<tr") if "<th class=\"num\">" in r]
    marked = {r.split('<th class="num">', 1)[1].split("<", 1)[0] for r in rows if 'class="uncovered"' in r}
    assert {"500", "1000"} <= marked and not {"100", "200"} & marked
    page = client.get("/policies/ceshi/ceshi.policy").get_data(as_text=True)
    assert 'class="line uncovered" id="L16"' in page and 'class="line uncovered" id="L17"' in page
    assert 'class="line covered" id="L14"' in page and 'class="line" id="L1"' in page


def _line_of(path, needle: str) -> int:
    from pathlib import Path

    lines = (Path(__file__).resolve().parent.parent / path).read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines) if needle in line) + 1


def test_lines_that_decide_without_a_figure_count_as_used(registry):
    """The enrolment age, a yes/no rule that says no, a rule that lets a grant be paid before any pension: each
    decides a determination although the explanation shows no figure for it (found unreached by the coverage
    work: the recorder was not told of them)."""
    covered = {}
    for region in ("national", "nanjing"):
        cases = load_cases(registry.policy_dir / region, region, registry.policy_dir.parent)
        files, failed = region_coverage(registry.policy(region), cases)
        assert failed == 0
        covered.update({f.file: f.covered for f in files})
    national_contributions = "policies/national/contributions.policy"
    enrolment = _line_of(national_contributions, "enrolment_age") + 1  # its version line
    back_payments = _line_of(national_contributions, "value back_payments_subsidised") + 1
    assert {enrolment, back_payments} <= covered[national_contributions]
    grant_rule = _line_of("policies/nanjing/pension.policy", "funeral_grant_needs_pension") + 1
    assert grant_rule in covered["policies/nanjing/pension.policy"]


def test_a_floor_table_is_checked_not_evaluated_so_not_counted(registry):
    from engine.tools.coverage import coverable

    floor = _line_of("policies/national/contributions.policy", "floor subsidy_floor")
    lines = coverable(registry.policy("national"))["policies/national/contributions.policy"]
    assert not set(range(floor, floor + 8)) & set(lines)


def test_the_explanation_shows_nothing_for_a_consulted_line(determine):
    """`consulted` feeds coverage only: the caseworker's tree is unchanged (no node for the enrolment age)."""
    person = {"birth_date": "1960-05-01", "hukou": {"type": "rural"}, "groups": [], "contributions": []}
    tree = determine("national", "2021-01-01", person, explain=True)["explanation"]

    def labels(node):
        yield node["label"]
        for child in node["children"]:
            yield from labels(child)
    found = list(labels(tree))
    assert len(found) > 5 and not [label for label in found if "参保最低年龄" in label or "enrolment" in label]
