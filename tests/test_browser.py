"""The pages in a real browser (Debian's chromium, headless, driven by Playwright).

Screenshots of each page are saved in the run's temporary folder, or in the folder JUBAO_SCREENSHOTS names
(`JUBAO_SCREENSHOTS=artifacts/screenshots`; docs/screenshots/ was made that way). Nothing is written into the
checkout unless asked.
"""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from test_zh_words import latin_words
from web import create_app

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ["JUBAO_SCREENSHOTS"]) if os.environ.get("JUBAO_SCREENSHOTS") else None
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not CHROMIUM and not os.environ.get("CI"):
    pytest.skip("chromium is not installed (apt-get install chromium fonts-wqy-microhei)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api") if not os.environ.get("CI") else \
    __import__("playwright.sync_api").sync_api


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app({"data_dir": tmp_path_factory.mktemp("data")})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="module", autouse=True)
def screenshots(tmp_path_factory):
    """The folder the screenshots go to: JUBAO_SCREENSHOTS, else the run's temporary folder."""
    global SHOTS
    if SHOTS is None:
        SHOTS = tmp_path_factory.mktemp("screenshots")
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fill_person(page, server, region, as_of, facts, groups=(), contributions=()):
    page.goto(f"{server}/?region={region}")
    page.fill("#as_of", as_of)
    for name, value in facts.items():
        field = page.locator(f"[data-fact='{name}']")
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    for i, group in enumerate(groups):
        page.click("#add-group")
        row = page.locator("#groups tbody tr").nth(i)
        for key, value in group.items():
            cell = row.locator(f"[data-key='{key}']")
            cell.select_option(value) if key in ("id", "position") else cell.fill(value)
    for i, record in enumerate(contributions):
        page.click("#add-contribution")
        row = page.locator("#contributions tbody tr").nth(i)
        for key, value in record.items():
            cell = row.locator(f"[data-key='{key}']")
            cell.select_option(value) if key == "kind" else cell.fill(str(value))


def submit(page):
    page.click("#submit")
    page.wait_for_url("**/decisions/**")


PERSONS = {
    # domain.md §6, worked check 3 (明光): 88 central + 22 province.
    "anhui": ("2019-07-15", {"birth_date": "1955-04-01", "hukou.type": "rural", "hukou.county": "明光"},
              [{"id": "poverty_registered", "from": "2019-06-10"}], [], "110.00"),
    # domain.md §6, worked check 2: central 143 only.
    "national": ("2025-06-30", {"birth_date": "1949-05-20", "scheme_start_date": "2011-07-01"}, [], [], "143.00"),
    # domain.md §5: 93 + 5 basic, +50 add-on, top-up to the rural 低保 line 172.50.
    "yuxi": ("2020-08-15", {"birth_date": "1950-03-10", "hukou.type": "rural", "hukou.county": "红塔"},
             [{"id": "land_expropriated", "from": "2012-01-01"}], [], "172.50"),
    # domain.md §4: 88 central + 20 Ningxia (2018), aged 60+ at the 2011-07-01 start.
    "ningxia": ("2018-06-30", {"birth_date": "1950-01-01", "hukou.type": "rural"}, [], [], "108.00"),
    # docs/regions/chongqing.md: 2020-07-01 standard 125 (93 central + 32 local, 开州人社发〔2021〕2号),
    # aged 76 → 70+ add-on 10 (渝人社发〔2019〕112号): 135. The scheme start is by district (万州区: 2009-07-01).
    "chongqing": ("2021-06-30", {"birth_date": "1945-01-01", "hukou.type": "rural", "hukou.county": "万州区"}, [], [],
                  "135.00"),
    # docs/regions/nanjing.md: standard 535 from 2022-07-01 (98 central + 437 local), aged 77 → 高龄补贴 20: 555.
    "nanjing": ("2022-09-30", {"birth_date": "1945-01-01", "hukou.type": "rural"}, [], [], "555.00"),
}


@pytest.mark.parametrize("region", sorted(PERSONS))
def test_caseworker_form_gives_the_amount_and_the_why_links(page, server, region):
    as_of, facts, groups, contributions, total = PERSONS[region]
    fill_person(page, server, region, as_of, facts, groups, contributions)
    shot(page, f"calculator-{region}")
    submit(page)
    assert page.inner_text("#total") == total
    shot(page, f"determination-{region}")
    # The "why" link of the central basic pension opens the policy at its line.
    for label in ("基础养老金", "中央基础养老金"):  # each step of the tree opens on its own
        page.locator(f"summary:has(.why-label:text-is('{label}'))").first.click()
    node = page.locator("details.why[open]:has(> summary .why-label:text-is('中央基础养老金'))").first
    link = node.locator(":scope > .why-body > .why-line a")
    target = link.inner_text().split(":")[-1]
    link.click()
    page.wait_for_url(f"**/policies/national/pension.policy#L{target}")
    line_text = page.inner_text(f"#L{target}")
    assert any(word in line_text for word in ("from", "central_basic_pension"))


def test_daijiao_case_shows_government_paid_years(page, server):
    fill_person(page, server, "anhui", "2021-06-30", {"birth_date": "1965-03-01", "hukou.type": "rural"},
                [{"id": "dibao", "from": "2018-01-01"}],
                [{"year": 2019, "tier": "100.00", "kind": "regular", "date": "2019-04-01"},
                 {"year": 2020, "tier": "200.00", "kind": "regular", "date": "2020-04-01"}])
    submit(page)
    # domain.md §3: from 2019 the full 100 is paid for dibao; tier 200 → personal 100, government 100.
    assert page.inner_text("#contribution-rows tr[data-year='2019'] td.gov") == "100.00"
    assert page.inner_text("#contribution-rows tr[data-year='2020'] td.gov") == "100.00"
    assert page.locator("#tier-options").is_visible()
    shot(page, "determination-daijiao")


def test_invalid_input_is_marked_inline_in_chinese(page, server):
    fill_person(page, server, "anhui", "2020-06-30", {"birth_date": "1970-01-01"}, [],
                [{"year": 2020, "tier": "100.00", "kind": "regular", "date": "2020-03-01"}])
    page.click("#submit")
    error = page.locator("#contributions tbody tr [data-key='tier'] + .field-error")
    error.wait_for()
    assert "可选档次" in error.inner_text()
    assert "invalid" in page.locator("#contributions tbody tr [data-key='tier']").get_attribute("class")
    shot(page, "calculator-invalid")


def test_field_errors_name_the_field_by_its_label_and_the_county_is_a_choice(page, server):
    """issue 32: "Field errors name the field by its label (参保起始日), never by its JSON id"; "on the form the county
    is a choice among the region's declared names". A Yuxi person with neither county nor scheme start."""
    fill_person(page, server, "yuxi", "2021-06-30", {"birth_date": "1965-03-01", "hukou.type": "rural"},
                [{"id": "village_cadre", "from": "2019-01-01"}],
                [{"year": 2019, "tier": "100.00", "kind": "regular", "date": "2019-03-01"}])
    county = page.locator("[data-fact='hukou.county']")
    assert county.evaluate("el => el.tagName") == "SELECT" and "红塔" in county.inner_text()
    page.click("#submit")
    page.locator("#errors li").first.wait_for()
    errors = page.inner_text("#errors")
    assert "职务：人员类别「村干部」须填写「职务」" in errors, errors
    assert latin_words([errors]) == set(), errors
    shot(page, "calculator-errors-by-label")
    county.select_option("红塔")
    page.locator("#groups tbody tr [data-key='position']").select_option("secretary")
    submit(page)
    assert page.inner_text("#total") != ""


def test_editor_shows_a_typo_at_its_line(page, server):
    page.goto(f"{server}/policies/ningxia/edit?file=pension.policy")
    page.locator("#diagnostics li.ok").wait_for()
    text = page.locator("#text")
    source = text.input_value()
    lines = source.split("\n")
    line = next(i for i, l in enumerate(lines) if "cite 宁夏2011模式" in l) + 1
    text.fill(source.replace("cite 宁夏2011模式", "cite 宁夏2011膜式", 1))
    item = page.locator(f"#diagnostics li[data-line='{line}']")
    item.wait_for()
    # issue 32: the diagnostic's kind in words (【未知的名称】), not `error[unknown-name]`; the code stays an attribute
    assert item.get_attribute("data-code") == "unknown-name"
    assert "【未知的名称】" in item.inner_text() and "宁夏2011模式" in item.inner_text()
    assert page.locator(f"#g{line}").get_attribute("class") == "err"
    assert page.locator("#editor-note").is_visible()
    shot(page, "editor-typo")
    page.click("#run-tests")
    page.locator("#tests .fail, #tests #test-summary").first.wait_for()
    shot(page, "editor-tests")
    assert latin_words([page.inner_text("#diagnostics"), page.inner_text("#tests")]) == set()


def test_editor_format_button_lays_the_file_out(page, server):
    """格式化 in the editor: the canonical layout of `jubao fmt`, undoable, and the check still clean."""
    page.goto(f"{server}/policies/ningxia/edit?file=contributions.policy")
    page.locator("#diagnostics li.ok").wait_for()
    text = page.locator("#text")
    tidy = text.input_value()
    messy = tidy.replace("|  100      |", "| 100 |").replace("  from ", "    from ")
    assert messy != tidy
    text.fill(messy)
    page.click("#format")
    sync_api.expect(page.locator("#check-state")).to_have_text("已格式化")
    assert text.input_value() == tidy
    page.locator("#diagnostics li.ok").wait_for()
    page.keyboard.press("Control+z")  # the browser's undo brings the officer's own layout back
    assert text.input_value() == messy


def test_policy_browser_tables_timeline_and_provisional(page, server):
    page.goto(f"{server}/policies/ningxia/")
    assert page.locator("#provisional tbody tr").count() > 5
    assert "2019-01-01" in page.inner_text(".timeline")
    shot(page, "policy-ningxia")
    page.goto(f"{server}/policies/ningxia/contributions.policy#L8")
    assert page.locator("#L8 .tok-keyword").count() >= 1
    shot(page, "policy-file")


def test_phone_width_layout(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{server}/?region=ningxia")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
    shot(page, "calculator-phone")
    context.close()


def test_printing_a_determination_gives_one_page(page, server):
    # A resident with 15 contribution years: the longest determination page we ship an example of.
    records = [{"year": 2011, "tier": "500.00", "kind": "regular", "date": "2011-09-01"}] + \
        [{"year": y, "tier": "500.00", "kind": "regular", "date": f"{y}-03-01"} for y in range(2012, 2026)]
    fill_person(page, server, "ningxia", "2026-03-01", {"birth_date": "1966-01-15", "hukou.type": "rural"}, [],
                records)
    submit(page)
    assert page.inner_text("#total") == "322.35"  # domain.md §6, last worked check
    pdf = page.pdf(format="A4")
    (SHOTS / "determination-print.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


@pytest.fixture
def officers_service(tmp_path):
    """A service of its own (its policy store changes): (base URL, officer li's token for Ningxia, reviewer
    wang's token, its store)."""
    app = create_app({"data_dir": tmp_path})
    store = app.extensions["jubao.store"]
    officer, reviewer = store.add_user("li", "officer", ["ningxia"]), store.add_user("wang", "reviewer", [])
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", officer, reviewer, store
    httpd.shutdown()


def ningxia_answer(base: str, as_of: str, person: dict) -> dict:
    import json
    import urllib.request

    body = json.dumps({"as_of": as_of, "person": person})
    req = urllib.request.Request(f"{base}/v1/regions/ningxia/entitlements", body.encode(),
                                 {"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(req).read())


def submit_draft(page, message: str, name: str) -> str:
    """The editor's draft submitted with `message`; what the page says of it (a screenshot `name`)."""
    page.fill("#draft-message", message)
    page.click("#submit-draft")
    page.locator("#draft-state a").wait_for()
    shot(page, name)
    return page.inner_text("#draft-state")


def approved(browser, base: str, reviewer: str, message: str):
    """A reviewer signs in and approves the draft: the versions page with it live."""
    context, page = signed_in(browser, base, "wang", reviewer, "/policies/ningxia/versions")
    page.click("[data-approve]")
    page.locator(f"tr.live td:has-text('{message}')").wait_for()
    return context, page


def signed_in(browser, base: str, name: str, token: str, then: str):
    """A new browser context signed in as `name`, on the page `then`."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/login?next={then}")
    page.fill("input[name=name]", name)
    page.fill("input[name=token]", token)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}{then}")
    return context, page


def test_officer_submits_in_the_editor_and_a_reviewer_approves_then_rolls_back(browser, officers_service):
    """Issue 7's path in the browser: sign in, edit Ningxia, see it check, submit; a second person approves."""
    base, officer, reviewer, _ = officers_service

    def pension_2027() -> str:
        person = {"birth_date": "1940-06-01", "hukou": {"type": "rural"}}
        return ningxia_answer(base, "2027-02-01", person)["monthly_pension"]["total"]

    assert pension_2027() == "283.00"
    context, page = signed_in(browser, base, "li", officer, "/policies/ningxia/edit?file=pension.policy")
    page.locator("#diagnostics li.ok").wait_for()
    text = page.locator("#text")
    source = text.input_value()
    old = '  from 2020-01-01  90.00  cite 宁夏扶贫概况 provisional "2020 年 1 月第 7 次提标"'
    new = old.replace("from 2020-01-01", "from 2020-01-01 until 2026-12-31") + \
        '\n  from 2027-01-01  110.00  cite 宁夏扶贫概况 provisional "拟提标"'
    text.fill(source.replace(old, new))
    page.locator("#diagnostics li.ok").wait_for()
    assert "等待审核" in submit_draft(page, "2027 年提标", "editor-draft-submitted")
    assert pension_2027() == "283.00"  # nothing changes before review
    context.close()
    context, page = approved(browser, base, reviewer, "2027 年提标")
    shot(page, "versions-approved")
    assert pension_2027() == "303.00"
    page.click("[data-rollback]")
    page.locator("tr.live td:has-text('读自 policies/ 目录')").wait_for()
    assert pension_2027() == "283.00"
    context.close()


def test_an_officer_edits_a_figure_and_its_test_case_in_one_draft_that_is_approved(browser, officers_service):
    """issue 32: "The web editor drops edits when you switch files … A change to a figure together with its test YAML
    cannot go into one passing draft from the browser (the draft is saved "with problems" and approval answers
    409). Edits of several files live in one draft until saved; leaving with unsaved edits asks first."

    Ningxia's basic part of 2019 goes from 60 to 65; two cases of tests/ningxia_by_rule.yaml pinned 60, and are
    changed in the same sitting. The draft checks clean, its tests pass, a reviewer approves it, and it is live."""
    base, officer, reviewer, store = officers_service
    tests_file = "tests/ningxia_by_rule.yaml"

    def basic_2019() -> str:
        person = {"birth_date": "1945-03-01", "hukou": {"type": "rural"}}
        return ningxia_answer(base, "2019-12-31", person)["monthly_pension"]["components"][0]["amount"]

    def replace(page, old: str, new: str) -> None:
        """As an officer edits: select the words in the text and type over them (filling the whole of a long file
        in the browser takes Chromium half a minute)."""
        text = page.locator("#text")
        source = text.input_value()
        assert source.count(old) == 1, old
        start = source.index(old)
        text.focus()
        page.evaluate("([s, e]) => document.getElementById('text').setSelectionRange(s, e)", [start, start + len(old)])
        page.keyboard.insert_text(new)
        assert text.input_value() == source.replace(old, new)

    expect = "      monthly_pension.components."
    assert basic_2019() == "148.00"
    context, page = signed_in(browser, base, "li", officer, "/policies/ningxia/edit?file=pension.policy")
    page.locator("#diagnostics li.ok").wait_for()
    page.evaluate("window.sameSitting = true")  # gone if switching files reloaded the page
    replace(page, "from 2019-01-01  60.00", "from 2019-01-01  65.00")
    page.locator("#diagnostics li.ok").wait_for()
    page.select_option("#file", tests_file)
    assert page.locator("#editor").get_attribute("data-file") == tests_file
    replace(page, f'{expect}age_addon.amount: "20.00"\n      monthly_pension.total: "168.00"',
            f'{expect}age_addon.amount: "20.00"\n      monthly_pension.total: "173.00"')
    replace(page, f'{expect}basic_pension.amount: "148.00"\n{expect}basic_pension.by_level.province: "60.00"',
            f'{expect}basic_pension.amount: "153.00"\n{expect}basic_pension.by_level.province: "65.00"')
    page.select_option("#file", "pension.policy")
    assert "from 2019-01-01  65.00" in page.locator("#text").input_value()  # the first file's edit is kept
    assert page.evaluate("window.sameSitting") is True
    assert "2 个文件" in page.inner_text("#edited")
    assert page.locator("#file option", has_text="（已修改）").count() == 2
    shot(page, "editor-two-files-edited")
    # leaving with edits not submitted asks first; staying keeps them
    page.keyboard.press("End")  # a user gesture: Chromium asks before leaving only a page one has used
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.click("#versions-link", no_wait_after=True)
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"] and "/edit" in page.url
    assert "from 2019-01-01  65.00" in page.locator("#text").input_value()
    page.click("#run-tests")
    sync_api.expect(page.locator("#test-summary")).to_contain_text("0 个失败")
    said = submit_draft(page, "2019 年宁夏基础养老金 65 元，测试用例同改", "editor-two-files-draft")
    assert "检查通过、测试通过，等待审核" in said, said
    assert page.inner_text("#edited") == ""  # saved in the draft: leaving no longer asks
    assert basic_2019() == "148.00"  # nothing changes before review
    context.close()
    context, page = approved(browser, base, reviewer, "测试用例同改")
    assert basic_2019() == "153.00"
    live = store.live_files()["ningxia"]
    assert "from 2019-01-01  65.00" in live["pension.policy"] and '"153.00"' in live[tests_file]
    assert "UTC+08:00" in page.inner_text("tr.live td.time")  # China time, the zone said
    shot(page, "versions-two-files-approved")
    context.close()


def test_api_docs_page_lists_every_operation(page, server):
    """/docs: Swagger UI from the vendored bundle renders one block per operation of /openapi.json."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.goto(f"{server}/docs")
    doc = page.evaluate("fetch('/openapi.json').then(r => r.json())")
    operations = sum(len(ops) for ops in doc["paths"].values())
    sync_api.expect(page.locator(".opblock")).to_have_count(operations)
    assert page.locator(".opblock-summary-path", has_text="/v1/regions/{region}/entitlements").count() >= 1
    shot(page, "api-docs")
    assert problems == []


def _contribution_rows(page):
    return [[row.locator(f"[data-key='{k}']").input_value() for k in ("year", "tier", "kind", "date")]
            for row in page.locator("#contributions tbody tr").all()]


def test_fill_years_and_paste_rows_give_the_readme_person(page, server):
    """Chinese-first issue: "a person with 15 years of contributions needs 15 rows typed by hand — add 'fill years
    A–B at tier T, paid on M-D' and paste from a spreadsheet". The README's Ningxia person (500 a year 2011–2025,
    2011 paid on 09-01, the others on 03-01) is 322.35 on 2026-03-01 (domain.md §4, tests/test_contract.py)."""
    page.goto(f"{server}/?region=ningxia")
    page.fill("#as_of", "2026-03-01")
    page.fill("[data-fact='birth_date']", "1966-01-15")
    page.locator("[data-fact='hukou.type']").select_option("rural")
    page.click("#fill-years")
    assert page.locator("#fill-error").inner_text().startswith("请填写起止年度")  # nothing filled in yet
    page.fill("#fill-from", "2012")
    page.fill("#fill-to", "2025")
    page.fill("#fill-tier", "500")
    page.fill("#fill-day", "03-01")
    page.click("#fill-years")
    assert len(_contribution_rows(page)) == 14
    page.locator("details.paste summary").click()
    # as copied from a spreadsheet: a heading row, tabs, a date written 2011/9/1, "正常" for regular
    page.fill("#paste-text", "年度\t档次\t类型\t缴费日期\n2011\t500\t正常\t2011/9/1\n")
    page.click("#paste-rows")
    rows = _contribution_rows(page)
    assert rows[0] == ["2011", "500", "regular", "2011-09-01"] and len(rows) == 15
    assert rows[-1] == ["2025", "500", "regular", "2025-03-01"]
    assert page.locator("#contributions td").first.bounding_box()["width"] >= 60  # the year column shows 4 digits
    shot(page, "calculator-filled")
    submit(page)
    assert page.inner_text("#total") == "322.35"


def test_pasting_replaces_a_year_and_reports_lines_it_cannot_read(page, server):
    page.goto(f"{server}/?region=ningxia")
    page.locator("details.paste summary").click()
    page.fill("#paste-text", "2019\t500\t\t2019-03-01\n2020\t300\t补缴\t2021-04-01\t50\n")
    page.click("#paste-rows")
    page.fill("#paste-text", "2019\t800\t正常\t2019-05-01\nx2021\t500\n")
    page.click("#paste-rows")
    assert _contribution_rows(page) == [["2019", "800", "regular", "2019-05-01"],
                                        ["2020", "300", "back_payment", "2021-04-01"]]
    assert page.locator("#contributions tbody tr").nth(1).locator("[data-key='collective']").input_value() == "50"
    assert "x2021" in page.locator("#paste-error").inner_text()
