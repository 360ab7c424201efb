"""The language's constructs, on the test region `shiyan` (tests/regions/): its cases, its explanations and
the checker's errors for each construct, and both back ends agreeing on it."""
import json

import pytest

from engine import InvalidInput, evaluate, read_as_of, read_person
from engine.core.render import explanation_text
from engine.language.registry import check_texts
from engine.tools.cases import load_cases, run_case

REGION = "shiyan"


@pytest.mark.parametrize("region", ["shiyan", "ceshi"])
def test_every_case_of_the_test_regions_passes(construct_registry, region):
    folder = construct_registry.policy_dir / region
    cases = load_cases(folder, region, construct_registry.policy_dir.parent)
    assert len(cases) >= 8
    failures = [f"{c.name}: {o.failures}" for c in cases if not (o := run_case(construct_registry.policy(region), c)).passed]
    assert not failures


def determination(registry, person: dict, as_of: str, explain: bool = False, lang: str = "zh"):
    policy = registry.policy(REGION)
    day = read_as_of(as_of)
    return evaluate(policy, read_person(policy, json.loads(json.dumps(person)), day), day, explain, lang)


RURAL = {"birth_date": "1940-01-01", "hukou": {"type": "rural"}, "groups": [], "contributions": []}


def test_a_percentage_and_a_fact_show_in_the_explanation(construct_registry):
    decision = determination(construct_registry, RURAL, "2024-07-01", explain=True)
    text = explanation_text(decision.explanation, "zh")
    assert "中央基础养老金 123.00 × 10%" in text
    urban = determination(construct_registry, dict(RURAL, hukou={"type": "urban"}), "2024-07-01", explain=True)
    assert "条件不满足：户籍类型 = 农村 否" in explanation_text(urban.explanation, "zh")


def test_a_fact_the_formula_compares_is_required(construct_registry):
    person = dict(RURAL, hukou={})
    policy = construct_registry.policy(REGION)
    with pytest.raises(InvalidInput) as caught:
        day = read_as_of("2024-07-01")
        evaluate(policy, read_person(policy, person, day), day)
    assert "/person/hukou/type" in [e.pointer for e in caught.value.errors]


HEAD = 'region national\nsource a "A"\n  status law\nfact hukou.type: one of rural "农村", urban "城镇"\n' \
       'value v: 元/月\n  always 10 cite a\n'

# issue 13, "Checker messages found wanting in the trial": one case per message (text after HEAD, the line the
# diagnostic must point at, its code, and words the message or hint must carry).
MESSAGES = [
    ("typo `form` for `from`", 'value x: 元\n  form 2019-01-01  1.00  cite a\n', 8, "syntax", "did you mean 'from'?"),
    ("typo in a keyword", 'compnent c = v\n', 7, "syntax", "did you mean 'component'?"),
    ("`while` reported at its own line", 'component c = v\n  cite a\n  while contibuting\n', 9, "unknown-name",
     "did you mean 'contributing'?"),
    ("a basis offers only bases", 'bonus b: 元/月 by pension_start_age\n  from 2019-01-01 cite a\n  | 年龄 | 元/月 |\n'
     '  | 60+ | 1 |\n', 7, "unknown-name", "did you mean 'age_at_pension_start'?"),
    ("a builtin that is not a basis", 'bonus b: 元/月 by balance_at_pension_start\n  from 2019-01-01 cite a\n'
     '  | 年龄 | 元/月 |\n  | 60+ | 1 |\n', 7, "unknown-name", "use age, counted_years"),
    ("a fact alone in a formula", 'component c = v\n  cite a\n  when hukou.type\n', 9, "type-mismatch",
     "a fact of the person"),
    ("a value the fact does not have", 'component c = v\n  cite a\n  when hukou.type == rurall\n', 9,
     "unknown-name", "rural (农村)"),
    ("a tier written as a range", 'tiers contribution_tiers\n  from 2019-01-01 cite a\n  | 档次 | 省 |\n'
     '  | 1000-1999 | 30 |\n', 10, "type-mismatch", "1000-9000"),
    ("a range that ends before it starts", 'tiers contribution_tiers\n  from 2019-01-01  9000-1000  cite a\n'
     '  | 缴费额 | 省 |\n  | 1000+ | 30 |\n', 8, "bad-range", "write the smaller amount first"),
    ("a step that does not divide the range", 'tiers contribution_tiers\n  from 2019-01-01  1000-9050 step 100  cite a\n'
     '  | 缴费额 | 省 |\n  | 1000+ | 30 |\n', 8, "bad-range", "step 100"),
    ("a step without a range", 'tiers contribution_tiers\n  from 2019-01-01  step 100  cite a\n'
     '  | 档次 | 省 |\n  | 1000 | 30 |\n', 8, "bad-range", "1000-9000 step 100"),
    ("an exact tier in a range", 'tiers contribution_tiers\n  from 2019-01-01  1000-9000  cite a\n'
     '  | 缴费额 | 省 |\n  | 1000+ | 30 |\n  | 2000 | 40 |\n', 11, "bad-range", "`| 2000+ |`"),
    ("a band beyond the range", 'tiers contribution_tiers\n  from 2019-01-01  1000-9000  cite a\n'
     '  | 缴费额 | 省 |\n  | 1000+ | 30 |\n  | 9500+ | 40 |\n', 11, "bad-range", "outside the range"),
    ("the first band above the range's start", 'tiers contribution_tiers\n  from 2019-01-01  1000-9000  cite a\n'
     '  | 缴费额 | 省 |\n  | 2000+ | 30 |\n', 10, "gapped-bands", "`| 1000+ |`"),
    ("bands without a range", 'tiers contribution_tiers\n  from 2019-01-01  cite a\n'
     '  | 缴费额 | 省 |\n  | 1000+ | 30 |\n', 8, "bad-range", "give the range on the version line"),
    ("a band's subsidy below a lower band's", 'tiers contribution_tiers\n  from 2019-01-01  1000-9000  cite a\n'
     '  | 缴费额 | 省 |\n  | 1000+ | 30 |\n  | 2000+ | 20 |\n', 11, "falling-subsidy", "at least the same"),
    ("a raise without a date", 'raise r: 元/月\n  always  10.00  cite a\n', 8, "bad-period", "the date it takes effect"),
    ("a raise by years", 'raise r: 元/月  by counted_years\n  from 2023-01-01  cite a\n  | 年限 | 元/月 |\n'
     '  | 0+ | 1 |\n', 7, "type-mismatch", "write `by age`"),
    ("a raise whose age bands overlap", 'raise r: 元/月  by age\n  from 2023-01-01  cite a\n  | 年龄 | 元/月 |\n'
     '  | 60-65 | 37 |\n  | 65+ | 42 |\n', 11, "overlapping-bands", "end the earlier band at 64"),
    ("an unknown state after while", 'component c = v\n  cite a\n  while not_eligable\n', 9, "unknown-name",
     "did you mean 'not_eligible'?"),
    ("a cap on a value", 'value w: 元/月  at most 15 years\n  always 1 cite a\n', 7, "bad-cap", "cap a tiers, subsidy or reward"),
    ("a cap of no years", 'reward r  最多 0 年\n  always cite a\n  | 群体 | 省 |\n  | dibao | 1 |\n', 7, "bad-cap",
     "at most 15 years"),
    ("a cap in part years", 'reward r  at most 1.5 years\n  always cite a\n  | 群体 | 省 |\n  | dibao | 1 |\n', 7,
     "bad-cap", "positive whole number"),
    ("an only-column word that is no group", 'group dibao "低保对象"\ntiers contribution_tiers\n  from 2019-01-01 cite a\n'
     '  | 档次 | 省 | 仅限 |\n  | 100 | 30 | 低保队象 |\n', 11, "unknown-name", "低保对象"),
    ("a percentage added to an amount", 'component c = v + 10%\n  cite a\n', 7, "unit-mismatch",
     "a percentage multiplies"),
]


@pytest.mark.parametrize("text,line,code,words", [m[1:] for m in MESSAGES], ids=[m[0] for m in MESSAGES])
def test_checker_messages_name_the_line_and_the_fix(text, line, code, words):
    found = check_texts({"policies/national/x.policy": HEAD + text})
    assert found, "the checker accepted a wrong policy"
    first = found[0]
    assert (first.span.line, first.code) == (line, code), [d.format() for d in found]
    assert words in " ".join(filter(None, (first.message, first.hint, first.message_en, first.hint_en)))


def test_a_single_equals_sign_in_a_condition_compares():
    """issue 13: "`=` in a `when` (the grammar comment says it is a comparison; only `==` works)"."""
    text = HEAD + 'component c = v\n  cite a\n  when hukou.type = rural and v = 10\n'
    assert check_texts({"policies/national/x.policy": text}) == []


def test_percentages_may_sit_in_a_plain_sum():
    text = HEAD + 'component c = v × (1 + 10%)\n  cite a\n'
    assert check_texts({"policies/national/x.policy": text}) == []


def test_the_band_used_is_in_the_explanation(construct_registry):
    person = dict(RURAL, birth_date="1980-01-01", contributions=[
        {"year": 2024, "tier": "1234.00", "kind": "regular", "date": "2024-03-01"}])
    zh = explanation_text(determination(construct_registry, person, "2024-12-31", explain=True).explanation, "zh")
    assert "缴费 1234.00，属 1000.00 元以上一档：" in zh
    en = determination(construct_registry, person, "2024-12-31", explain=True, lang="en")
    assert "amount 1234.00, in the band from 1000.00" in explanation_text(en.explanation, "en")


def test_an_amount_outside_the_range_names_the_range(construct_registry):
    person = dict(RURAL, birth_date="1980-01-01", contributions=[
        {"year": 2026, "tier": "1550.00", "kind": "regular", "date": "2026-03-01"}])
    with pytest.raises(InvalidInput) as caught:
        determination(construct_registry, person, "2026-12-31")
    detail = caught.value.errors[0].as_dict("en")["detail"]
    assert "any amount from 1500.00 to 9000.00 in steps of 100.00" in detail, detail
    assert "可选金额为 1500.00 至 9000.00，以 100.00 为单位" in caught.value.errors[0].as_dict()["detail"]


def test_a_share_of_the_lowest_tier_and_who_pays_it_are_explained(construct_registry):
    person = dict(RURAL, birth_date="1980-01-01", groups=[{"id": "dibao", "from": "2020-01-01"}], contributions=[
        {"year": 2024, "tier": "1234.00", "kind": "regular", "date": "2024-03-01"}])
    zh = explanation_text(determination(construct_registry, person, "2024-12-31", explain=True).explanation, "zh")
    assert "min(低保对象代缴 最低档次的 50% = 500.00, 档次 1234.00)：县级 500.00" in zh


def test_a_region_that_says_nothing_of_who_pays_keeps_the_row_as_before(determine):
    """contract.md: government_paid_by_level only "where a region states which level of government pays 代缴"."""
    person = {"birth_date": "1970-01-01", "hukou": {"type": "rural"}, "groups": [{"id": "dibao", "from": "2015-01-01"}],
              "contributions": [{"year": 2019, "tier": "100.00", "kind": "regular", "date": "2019-03-01"}]}
    row = determine("ningxia", "2019-12-31", person)["contributions"][0]
    assert row["government_paid"] == "100.00" and "government_paid_by_level" not in row


def test_the_cap_reached_and_each_raise_are_explained(construct_registry):
    person = dict(RURAL, birth_date="1980-01-01", contributions=[
        {"year": y, "tier": "1500.00" if y == 2026 else "1000.00", "kind": "regular", "date": f"{y}-03-01"}
        for y in (2024, 2025, 2026)])
    zh = explanation_text(determination(construct_registry, person, "2026-12-31", explain=True).explanation, "zh")
    assert "第 2 年，上限 2 年" in zh
    assert "已享受 2 年，达到上限 2 年：本年不再享受（原应 75.00）" in zh
    en = determination(construct_registry, person, "2026-12-31", explain=True, lang="en")
    assert "2 of 2 subsidised years: none this year (would be 75.00)" in explanation_text(en.explanation, "en")
    pensioner = dict(RURAL, birth_date="1958-01-02", pension_start_date="2022-02-01")
    zh = explanation_text(determination(construct_registry, pensioner, "2024-07-01", explain=True).explanation, "zh")
    assert "2023-01-01 时年龄 64 → +37.00" in zh and "2024-01-01 时年龄 65 → +20.00" in zh
    assert "2023 +37.00 + 2024 +20.00" in zh


def test_the_policy_browser_shows_ranges_bands_and_shares(construct_registry, tmp_path):
    from web.app import create_app

    app = create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'j.sqlite3'}",
                      "policy_dir": construct_registry.policy_dir})
    client = app.test_client()
    html = client.get("/policies/shiyan/").get_data(as_text=True)
    for shown in ("1000.00–9000.00", "1500.00–9000.00 step 100", "1000+", "最低档次的 50%"):
        assert shown in html, shown
    tiers = client.get("/v1/regions/shiyan/policy").get_json()["parameters"]["contribution_tiers"]["versions"]
    mine = [v for v in tiers if v["region"] == "shiyan"]
    assert mine[0]["figure"] == {"from": "1000.00", "to": "9000.00", "step": "0.01"}
    assert mine[0]["table"][1]["band"] is True


def test_the_region_rules_that_made_a_difference_are_explained(construct_registry):
    back = dict(RURAL, birth_date="1980-01-01", scheme_start_date="2020-01-01", contributions=[
        {"year": 2024, "tier": "1000.00", "kind": "back_payment", "date": "2025-06-01"}])
    zh = explanation_text(determination(construct_registry, back, "2025-12-31", explain=True).explanation, "zh")
    assert "补缴享受代缴和补贴 = 是" in zh
    both = dict(RURAL, birth_date="1980-01-01", groups=[{"id": "only_child_family", "from": "2020-01-01"},
                                                         {"id": "land_expropriated", "from": "2020-01-01"}],
                contributions=[{"year": 2024, "tier": "1000.00", "kind": "regular", "date": "2024-03-01"}])
    zh = explanation_text(determination(construct_registry, both, "2024-12-31", explain=True).explanation, "zh")
    assert "多项奖励累加 = 是" in zh
    allowance = dict(RURAL, birth_date="1940-01-01")
    zh = explanation_text(determination(construct_registry, allowance, "2024-07-01", explain=True).explanation, "zh")
    assert "老年津贴 = 0.00" in zh and "只发给未符合领取条件者" in zh


def test_a_region_without_a_daijiao_table_pays_no_daijiao(construct_registry):
    """domain.md §2: "The full lowest tier is the amount of region `national` only: a region pays only the 代缴
    amounts it states, and where it states none for a group and date, none is paid". The test region ceshi
    states no 代缴 table."""
    person = dict(RURAL, birth_date="1980-01-01", groups=[{"id": "severe_disability", "from": "2020-01-01"}],
                  contributions=[{"year": 2022, "tier": "200.00", "kind": "regular", "date": "2022-03-01"}])
    policy = construct_registry.policy("ceshi")
    day = read_as_of("2022-12-31")
    row = evaluate(policy, read_person(policy, person, day), day).contributions[0]
    assert row.government_paid == 0 and row.personal == 200


def test_a_region_rule_that_pays_the_funeral_grant_carries_its_status(construct_registry):
    """The grant before any pension is paid because of shiyan's rule (status proposal): the answer lists it."""
    person = dict(RURAL, birth_date="1980-01-01", death_date="2025-05-01", contributions=[
        {"year": 2024, "tier": "1000.00", "kind": "regular", "date": "2024-03-01"}])
    decision = determination(construct_registry, person, "2025-12-31")
    used = [u for u in decision.uses_unconfirmed if "death.funeral_grant" in u.used_by]
    assert {u.value for u in used} >= {"shiyan the funeral grant needs a started pension no"}
    assert any(u.text_zh == "丧葬补助金须已领取待遇 否" for u in used)
