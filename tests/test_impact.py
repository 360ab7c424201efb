"""`jubao impact`: a proposal raising Ningxia's basic pension by 10 yuan from 2020-01-01."""
import json
import shutil
from decimal import Decimal
from pathlib import Path

from engine import Registry, read_as_of
from engine.impact import compare, write_report
from engine.population import generate

ROOT = Path(__file__).resolve().parent.parent


def test_raise_of_ten_yuan_reaches_every_receiver(tmp_path, registry):
    proposal = tmp_path / "proposal"
    shutil.copytree(ROOT / "policies", proposal)
    path = proposal / "ningxia" / "pension.policy"
    text = path.read_text(encoding="utf-8")
    assert "from 2020-01-01  90.00" in text
    path.write_text(text.replace("from 2020-01-01  90.00", "from 2020-01-01  100.00"), encoding="utf-8")
    people = list(generate(registry.policy("ningxia"), 400, seed=9, as_of=read_as_of("2020-12-31")))
    source = tmp_path / "people.jsonl"
    source.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in people) + "\n", encoding="utf-8")

    impact = compare(registry, Registry(proposal), "ningxia", "2020-12-31", source)

    assert impact.persons == 400 and impact.errors == 0 and impact.lose == 0
    assert impact.gain + impact.same == 400 and impact.gain > 50
    # Every receiver gains exactly 10.00 a month, all of it paid by the province.
    assert {k: v for k, v in impact.monthly_by_level.items() if v} == {"province": Decimal(10) * impact.gain}
    assert all(c.delta == Decimal(10) for c in impact.largest)
    assert "宁夏基础养老金 90.00 → 100.00" in impact.largest[0].causes[0]
    assert impact.by_age["<60"][1] == 0
    report = write_report(impact, tmp_path / "report")
    text = report.read_text(encoding="utf-8")
    # Chinese by default (Chinese-first issue: "the report is Chinese by default (CJK font …), labels rotated")
    assert f"增加：{impact.gain} 人，减少：0 人" in text and "| 省级 |" in text and "gain:" not in text
    by_tier = (tmp_path / "report" / "by_tier.svg").read_text(encoding="utf-8")
    assert by_tier.startswith("<?xml")
    # text stays text in the SVG (svg.fonttype none) in a CJK font, and the tier labels are turned
    assert "按最近缴费档次的月支出变化（元）" in by_tier and "WenQuanYi Micro Hei" in by_tier
    assert "rotate(-45" in by_tier
    english = write_report(impact, tmp_path / "report-en", lang="en")
    assert f"gain: {impact.gain}, lose: 0" in english.read_text(encoding="utf-8")
    assert "Monthly change by latest tier" in (tmp_path / "report-en" / "by_tier.svg").read_text(encoding="utf-8")
