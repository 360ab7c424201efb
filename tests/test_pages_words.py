"""The pages' words (issue 32): what tests/test_zh_words.py's scan does not pin by itself — money with its unit,
the county a choice among the region's declared names, version times in China time with the zone (configurable),
the region by its name, the policy view's headings, the impact report's title."""
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from web import create_app
from web.pages import local_time

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return create_app({"data_dir": tmp_path_factory.mktemp("pages")}).test_client()


def test_the_county_is_a_choice_among_the_regions_declared_names(client):
    """"on the form the county is a choice among the region's declared names, not free text that only nine exact
    spellings pass (the API keeps the rule book's exact names)"."""
    html = client.get("/?region=yuxi").get_data(as_text=True)
    select = html.split('data-fact="hukou.county"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]*)">', select) == ["", *sorted(["新平", "华宁", "江川", "通海", "峨山",
                                                                           "元江", "红塔", "澄江", "易门"])]
    chongqing = client.get("/?region=chongqing").get_data(as_text=True)
    assert '<option value="万州区">万州区</option>' in chongqing.split('data-fact="hukou.county"', 1)[1]
    anhui = client.get("/?region=anhui").get_data(as_text=True)  # no rule of Anhui names its counties: free text
    assert '<input type="text" name="hukou.county"' in anhui
    assert "农村 (rural)" not in html and ">农村</option>" in html and ">宁夏</option>" in html


def test_the_decision_page_gives_money_its_unit_and_the_region_its_name(client):
    person = json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text(encoding="utf-8"))
    answer = client.post("/v1/regions/ningxia/entitlements", json={"as_of": "2026-03-01", "person": person})
    html = client.get(f"/decisions/{answer.get_json()['decision_id']}").get_data(as_text=True)
    page = html.split('<section class="why-tree">')[0]  # the why tree's wording is left for later
    assert '<span id="total" class="total">322.35</span> 元/月' in page
    assert "<dd>宁夏</dd>" in page and "(ningxia)" not in page
    assert re.search(r'<dd id="balance">[\d,]+\.\d\d 元</dd>', page)
    assert "个人缴费（元）" in page and "中央（元/月）" in page
    assert "basic_pension" not in re.sub(r'data-component="\w+"', "", page)
    assert "累计缴费满 15 年，2026-02-01 起领取" in page
    english = client.get(f"/decisions/{answer.get_json()['decision_id']}?lang=en").get_data(as_text=True)
    assert "322.35</span> yuan/month" in english and "<small class=\"empty\">basic_pension</small>" in english


def test_the_policy_view_heads_its_tables_in_chinese(client):
    html = client.get("/policies/ningxia/").get_data(as_text=True)
    assert "<h1>政策查看 · 宁夏</h1>" in html
    assert "缴费档次表 · 宁夏" in html and "政府代缴 · 宁夏" in html and "奖励 · 宁夏" in html
    assert "数值 · 全国" in html and "（全国）" in html
    assert "<td>90.00 元/月</td>" in html  # money with its unit
    headings = " ".join(re.findall(r"<h3>.*?</h3>", html))
    for english in ("tiers · ningxia", "daijiao", "national", "value", "bonus"):
        assert english not in headings, english
    assert "(national)" not in html
    national = client.get("/policies/national/").get_data(as_text=True)
    assert "户籍类型 = 农村" in national and "hukou.type = rural" not in national
    assert "· 日期" in national and "· 是/否" in national


def test_version_times_are_china_time_with_the_zone_and_the_zone_is_configurable(tmp_path, monkeypatch):
    moment = dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.timezone.utc)
    from zoneinfo import ZoneInfo

    assert local_time(moment, ZoneInfo("Asia/Shanghai")) == "2026-12-08 07:30 UTC+08:00"
    assert local_time(moment.replace(tzinfo=None), ZoneInfo("UTC")) == "2026-12-07 23:30 UTC+00:00"  # SQLite's
    china = create_app({"data_dir": tmp_path / "a"}).test_client().get("/policies/ningxia/versions")
    assert re.search(r'<td class="time">\d{4}-\d\d-\d\d \d\d:\d\d UTC\+08:00</td>', china.get_data(as_text=True))
    api = create_app({"data_dir": tmp_path / "a"}).test_client().get("/v1/regions/ningxia/versions").get_json()
    assert api[0]["time"].endswith("+00:00")  # the API's times say their zone too (UTC)
    monkeypatch.setenv("JUBAO_TIME_ZONE", "Europe/London")
    london = create_app({"data_dir": tmp_path / "b"}).test_client().get("/policies/ningxia/versions")
    assert re.search(r'<td class="time">[^<]+ UTC\+0[01]:00</td>', london.get_data(as_text=True))
    monkeypatch.setenv("JUBAO_TIME_ZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="JUBAO_TIME_ZONE"):
        create_app({"data_dir": tmp_path / "c"})


def test_the_impact_reports_title_names_the_region(tmp_path, registry):
    from engine.populations import compare, write_report
    from engine.populations.population import generate

    people = tmp_path / "people.jsonl"
    people.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in generate(
        registry.policy("ningxia"), 20, seed=2, as_of=__import__("engine").read_as_of("2021-01-01"))) + "\n",
        encoding="utf-8")
    result = compare(registry, registry, "ningxia", "2021-01-01", people, workers=1)
    title = write_report(result, tmp_path / "zh").read_text(encoding="utf-8").splitlines()[0]
    assert title == "# 政策影响测算：宁夏，核定日 2021-01-01"
    assert write_report(result, tmp_path / "en", "en").read_text(encoding="utf-8").startswith("# Impact: Ningxia,")
