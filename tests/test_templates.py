"""Template-level tests: the "why" tree rendering and escaping of fact values."""
import json

from flask import render_template_string

from web import create_app
from web.i18n import translator

MINGGUANG = {"id": "<script>alert('x')</script>", "birth_date": "1955-04-01",
             "hukou": {"type": "rural", "county": "<b>明光</b>"},
             "groups": [{"id": "poverty_registered", "from": "2019-06-10"}], "contributions": []}


def make_app(tmp_path):
    return create_app({"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}"})


def test_fact_values_containing_html_are_shown_as_text(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    d = client.post("/v1/regions/anhui/entitlements", data=json.dumps({"as_of": "2019-07-15", "person": MINGGUANG}),
                    content_type="application/json").get_json()
    html = client.get(f"/decisions/{d['decision_id']}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_why_tree_renders_nested_steps_with_links_and_marks(tmp_path):
    app = make_app(tmp_path)
    node = {"id": "root", "label": "月养老金", "value": "110.00", "formula": "a <b> + c", "status": "law",
            "source": {"file": "policies/anhui/pension.policy", "line": 7, "column": 1},
            "citation": "国发〔2014〕8号", "in_force": {"from": "2019-01-01", "to": None},
            "children": [{"id": "child", "label": "暂定", "value": "22.00", "formula": None, "status": "provisional",
                          "source": None, "citation": None, "in_force": None, "children": []}]}
    with app.test_request_context("/"):
        html = render_template_string('{% from "_why.html" import why with context %}{{ why(node, "zh", open=True) }}',
                                      node=node, t=translator("zh"))
    assert html.count("<details") == 2 and " open" in html
    assert 'href="/policies/anhui/pension.policy#L7"' in html
    assert "a &lt;b&gt; + c" in html
    assert 'class="mark mark-provisional">暂定值' in html
    assert "施行期: 2019-01-01 — " in html


def test_pages_answer_in_english(tmp_path):
    client = make_app(tmp_path).test_client()
    html = client.get("/?lang=en&region=ningxia").get_data(as_text=True)
    assert "Calculate" in html and 'lang="en"' in html
    assert client.get("/policies/nowhere/").status_code == 404
    assert "<h1>" in client.get("/policies/nowhere/").get_data(as_text=True)


def test_position_choices_come_from_the_policy_with_their_chinese_names(tmp_path):
    """Chinese-first issue: "position options `deputy`, `member` untranslated" — the choices and their names are
    the policy's (`group village_cadre … requires position: secretary "书记/主任", deputy "副职", member "委员"`)."""
    import re

    client = make_app(tmp_path).test_client()
    options = lambda html: re.findall(r'<option value="(\w+)">([^<]*)</option>',  # noqa: E731
                                      html.split('data-key="position"', 1)[1].split("</select>", 1)[0])
    zh = options(client.get("/?region=yuxi").get_data(as_text=True))
    # issue 32: "form options `书记/主任 secretary`" — the Chinese page shows the Chinese name only
    assert zh == [("secretary", "书记/主任"), ("deputy", "副职"), ("member", "委员")]
    en = options(client.get("/?region=yuxi&lang=en").get_data(as_text=True))
    assert en == [("secretary", "secretary"), ("deputy", "deputy"), ("member", "member")]


def test_a_group_key_without_names_still_parses(tmp_path):
    """Policies stored before choices had names (`requires position: secretary, deputy, member`) still load."""
    from engine import check_texts

    text = 'region national\ngroup g "组" requires position: a, b "乙"\n'
    assert check_texts({"persons.policy": text}) == []
