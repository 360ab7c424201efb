"""Chinese first (issue "Chinese first, end to end"): "A test renders every page and the CLI text of a set of
persons in `zh` and fails on any run of Latin words outside an explicit allow-list (ids in code spans,
diagnostic codes, file paths, document numbers, the policy source view, the language switch)."
"""
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from web import create_app

ROOT = Path(__file__).resolve().parent.parent
# two or more Latin words in a row ("ningxia Ningxia basic pension", "if this county started earlier")
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,;:/]+[A-Za-z][A-Za-z'’-]*)+")
ALLOWED = [
    re.compile(r"^policies/[\w/.-]+$"),  # file paths (the links to the policy lines)
    re.compile(r"^tests/\w+$"),  # test file names (tests/ningxia_core.yaml) in the editor's list of files
    re.compile(r"^Excel/WPS$"),  # the spreadsheet programs a caseworker copies rows from
]
PERSONS = {  # (region, as_of, PERSON): the pages' and the CLI's worked examples
    "anhui": ("2019-07-15", {"id": "mg-1", "birth_date": "1955-04-01", "hukou": {"type": "rural", "county": "明光"},
                             "groups": [{"id": "poverty_registered", "from": "2019-06-10"}], "contributions": []}),
    "ningxia": ("2026-03-01", json.loads((ROOT / "examples" / "ningxia-tier500-2011-2025.json").read_text("utf-8"))),
    "yuxi": ("2020-08-15", {"birth_date": "1950-03-10", "hukou": {"type": "rural", "county": "红塔"},
                            "groups": [{"id": "land_expropriated", "from": "2012-01-01"},
                                       {"id": "village_cadre", "position": "deputy", "from": "2012-01-01"}],
                            "contributions": []}),
    "national": ("2025-06-30", {"birth_date": "1949-05-20", "scheme_start_date": "2011-07-01"}),
}


class VisibleText(HTMLParser):
    """What a reader sees: text and the titles/labels/placeholders; not code, the source view, scripts or the
    language switch."""
    SKIP = {"script", "style", "code", "pre", "textarea", "template", "kbd"}

    def __init__(self):
        super().__init__()
        self.parts, self.skipping = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SKIP or attrs.get("hreflang") == "en" or "code-tag" in (attrs.get("class") or ""):
            self.skipping.append(tag)
        elif not self.skipping:
            self.parts += [attrs[k] for k in ("title", "aria-label", "placeholder") if attrs.get(k)]

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def latin_runs(texts) -> set[str]:
    found = set()
    for text in texts:
        for m in LATIN_RUN.finditer(text):
            if not any(a.match(m.group(0)) for a in ALLOWED):
                found.add(m.group(0))
    return found


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zh")
    return create_app({"data_dir": folder, "database_url": f"sqlite:///{folder / 'j.sqlite3'}"}).test_client()


def _pages(client) -> list[str]:
    urls = ["/", "/policies/", "/login", "/docs"]
    for region in ("anhui", "ningxia", "yuxi", "national", "chongqing", "nanjing"):
        urls += [f"/?region={region}", f"/policies/{region}/", f"/policies/{region}/edit",
                 f"/policies/{region}/versions", f"/policies/{region}/sources.policy"]
    for region, (as_of, person) in PERSONS.items():
        answer = client.post(f"/v1/regions/{region}/entitlements", json={"as_of": as_of, "person": person})
        assert answer.status_code == 200, answer.get_json()
        urls.append(f"/decisions/{answer.get_json()['decision_id']}")
    return urls


def test_every_page_reads_in_chinese(client):
    offending = {}
    for url in _pages(client):
        response = client.get(url)
        assert response.status_code == 200, url
        parser = VisibleText()
        parser.feed(response.get_data(as_text=True))
        runs = latin_runs(parser.parts)
        if runs:
            offending[url] = sorted(runs)
    assert offending == {}


def test_the_english_pages_are_english(client):
    """The check is not vacuous: the same scan finds English on the ?lang=en pages."""
    parser = VisibleText()
    parser.feed(client.get("/policies/ningxia/?lang=en").get_data(as_text=True))
    assert latin_runs(parser.parts)


@pytest.mark.parametrize("region", sorted(PERSONS))
def test_the_cli_text_reads_in_chinese(region):
    as_of, person = PERSONS[region]
    out = subprocess.run([str(Path(sys.executable).with_name("jubao")), "eval", "--region", region, "--as-of", as_of,
                          "-", "--explain"], input=json.dumps(person), capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert latin_runs(out.stdout.split("\n")) == set()
    assert "见上" in out.stdout or region != "ningxia"  # each figure once (the account's subtree is referred to)
