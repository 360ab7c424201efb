"""The documents a clone has (issue 32, developers): "The README and `jubao eval --help` point at contract.md,
domain.md, ecosystem.md, which a clone does not have … docs/api.md and docs/rules.md".

- the README, docs/*.md and every command's help name no document outside the repository, and every document they
  link to is in it;
- docs/rules.md's tables of figures are the policies' own: each figure of each region, its period and its status
  (`python tests/test_docs.py REGION` prints a region's table as the policies give it).
"""
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = re.compile(r"\b(contract|domain|ecosystem|style)\.md\b|\.\./shared")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "docs" / "screenshots" / "README.md"]
TABLED = ("national", "anhui", "ningxia", "yuxi")  # chongqing and nanjing: docs/regions/<region>.md, figure by figure
STATUS = {"law": "法规", "seed": "文献", "provisional": "暂定值", "proposal": "建议值"}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_documents_name_nothing_a_clone_does_not_have(path):
    text = path.read_text(encoding="utf-8")
    assert not OUTSIDE.search(text), OUTSIDE.search(text).group(0)
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://", "/")):
            assert (path.parent / target).exists(), f"{path.name} links to {target}, which is not in the checkout"


def test_no_command_points_outside_the_repository():
    from engine.cli import main

    for name in sorted(main.commands):
        help_text = CliRunner().invoke(main, [name, "--help"]).output
        assert not OUTSIDE.search(help_text), (name, OUTSIDE.search(help_text).group(0))
    assert "docs/api.md" in CliRunner().invoke(main, ["eval", "--help"]).output


def figure_rows(registry, region: str) -> list[str]:
    """The region's own figures as docs/rules.md tables them: | 名称 | 自 | 至 | 数值 | 状态 |."""
    policy = registry.policy(region)
    rows = []
    for name, layers in policy.definitions.items():
        for layer in layers:
            if layer.region != region:
                continue
            for v in layer.versions:
                label = layer.label("zh") + (f"（{condition(policy, v.condition)}）" if v.condition else "")
                if v.rows:
                    figure = f"表，{len(v.rows)} 行"
                elif isinstance(v.figure, bool):
                    figure = "是" if v.figure else "否"
                elif v.figure is None:
                    figure = "—"
                elif layer.unit == "%":
                    figure = f"{v.figure * 100:.2f}%"
                elif layer.unit and layer.unit not in ("date", "yes_no"):
                    figure = f"{v.figure} {layer.unit}"
                else:
                    figure = str(v.figure)
                start = "—" if v.start is None or v.start.year < 1901 else v.start.isoformat()
                rows.append(f"| {label} | {start} | {v.end.isoformat() if v.end else ''} | {figure} | "
                            f"{STATUS[v.cite.status]} |")
    for formula in policy.formulas.values():
        if formula.region == region and formula.kind == "component" and formula.cite is not None:
            rows.append(f"| {formula.label('zh')}（组成项） | {formula.start or '—'} | {formula.end or ''} | 公式 | "
                        f"{STATUS[formula.cite.status]} |")
    return rows


def condition(policy, condition) -> str:
    fact, value = condition
    found = policy.facts[fact]
    return f"{found.labels.zh or fact} = {dict(found.choices).get(value) or value}"


@pytest.mark.parametrize("region", TABLED)
def test_the_rules_list_each_figure_with_its_status(registry, region):
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    table = text.split(f"<!-- figures: {region} -->", 1)[1].split("<!-- /figures -->", 1)[0]
    written = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| 名称")]
    assert sorted(written) == sorted(figure_rows(registry, region))


if __name__ == "__main__":
    from engine import Registry

    for region in sys.argv[1:] or TABLED:
        print(f"<!-- figures: {region} -->\n| 名称 | 自 | 至 | 数值 | 状态 |\n|---|---|---|---|---|")
        print("\n".join(figure_rows(Registry(ROOT / "policies"), region)))
        print("<!-- /figures -->\n")
