"""The policy language server, driven as a subprocess over raw JSON-RPC (Content-Length framed) on pipes.

Every read has a deadline: a server that hangs fails the test instead of hanging it.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.language.parse import keywords
from engine.language.registry import Registry
from engine.language.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
REGION = "ningxia"
TIMEOUT = 30.0


class Client:
    """A minimal LSP client: frames messages, reads them on a thread, waits with a deadline."""

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        # as an editor starts it: the `jubao lsp` command of the installed package
        self.process = subprocess.Popen([str(Path(sys.executable).with_name("jubao")), "lsp"],
                                        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.messages: queue.Queue = queue.Queue()
        self.pending: list[dict] = []
        self.next_id = 0
        self.transcript: list[tuple[str, dict]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            body = out.read(int(headers["content-length"]))
            self.messages.put(json.loads(body.decode("utf-8")))

    def send(self, message: dict) -> None:
        message = {"jsonrpc": "2.0", **message}
        self.transcript.append(("→", message))
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict | None = None) -> None:
        self.send({"method": method, **({"params": params} if params is not None else {})})

    def request(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        number = self.next_id
        self.send({"id": number, "method": method, **({"params": params} if params is not None else {})})
        reply = self.wait(lambda m: m.get("id") == number and "method" not in m)
        assert "error" not in reply, reply
        return reply.get("result")

    def wait(self, matches, timeout: float = TIMEOUT) -> dict:
        for i, m in enumerate(self.pending):
            if matches(m):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching message within {timeout}s; had {self.pending}")
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if m is None:
                raise AssertionError("the server closed its output: " + self.process.stderr.read().decode())
            self.transcript.append(("←", m))
            if "method" in m and "id" in m:  # a request from the server (e.g. registerCapability)
                self.send({"id": m["id"], "result": None})
                continue
            if matches(m):
                return m
            self.pending.append(m)

    def diagnostics(self, uri: str, timeout: float = TIMEOUT) -> list[dict]:
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri,
                      timeout)
        return m["params"]["diagnostics"]

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()
        return self.process.returncode


@pytest.fixture()
def client():
    c = Client()
    result = c.request("initialize", {"processId": os.getpid(), "rootUri": POLICIES.parent.as_uri(),
                                      "capabilities": {}, "initializationOptions": {"asOf": "2024-06-30"}})
    assert result["capabilities"]["hoverProvider"]
    assert result["capabilities"]["definitionProvider"]
    assert result["capabilities"]["documentFormattingProvider"]
    c.notify("initialized", {})
    yield c
    c.close()


@pytest.fixture()
def folder(tmp_path):
    """A policy folder holding national and the region, so that edits never touch the real files."""
    for region in ("national", REGION):
        shutil.copytree(POLICIES / region, tmp_path / "policies" / region)
    return tmp_path / "policies"


def open_doc(client: Client, path: Path, text: str | None = None, version: int = 1) -> str:
    uri = path.as_uri()
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "jubao-policy", "version": version,
        "text": path.read_text(encoding="utf-8") if text is None else text}})
    return uri


def position_of(text: str, needle: str, line_starting: str | None = None) -> dict:
    """The 0-based line and UTF-16 character of the first `needle` (on a line starting with `line_starting`)."""
    for number, line in enumerate(text.split("\n")):
        if needle in line and (line_starting is None or line.startswith(line_starting)):
            index = line.index(needle) + 1
            return {"line": number, "character": len(line[:index].encode("utf-16-le")) // 2}
    raise AssertionError(f"{needle} not in text")


def test_a_clean_region_file_has_no_diagnostics(client, folder):
    uri = open_doc(client, folder / REGION / "pension.policy")
    assert client.diagnostics(uri) == []


def test_diagnostics_match_jubao_check_as_you_type(client, folder):
    path = folder / REGION / "pension.policy"
    good = path.read_text(encoding="utf-8")
    # an unknown name in a component formula, after Chinese text and a character outside the BMP (𠀀 is two
    # UTF-16 code units, one Python character) on the same line
    bad = good + '\ncomponent 测试 "测试项𠀀" = 中央基础养老金 + no_such_pension\n  cite 宁夏2011模式\n'
    uri = open_doc(client, path, bad)
    diags = client.diagnostics(uri)

    # the same diagnostics as `jubao check` gives for the folder with the edited file
    path.write_text(bad, encoding="utf-8")
    expected = Registry(folder).diagnostics(REGION)
    path.write_text(good, encoding="utf-8")
    assert [d["code"] for d in diags] == [d.code for d in expected] == ["unknown-name"]
    want = expected[0]
    line_text = SourceFile.from_text("x", bad).line_text(want.span.line)
    assert diags[0]["range"]["start"] == {
        "line": want.span.line - 1,
        "character": len(line_text[:want.span.column - 1].encode("utf-16-le")) // 2}
    assert diags[0]["range"]["start"]["line"] == len(bad.split("\n")) - 3
    assert diags[0]["range"]["start"]["character"] == line_text.index("no_such_pension") + 1  # + 1 for 𠀀
    assert diags[0]["range"]["end"]["character"] == diags[0]["range"]["start"]["character"] + len("no_such_pension")
    assert diags[0]["message"].startswith(want.message)
    assert want.hint and f"提示: {want.hint}" in diags[0]["message"]
    assert diags[0]["severity"] == 1 and diags[0]["source"] == "jubao"

    # a syntax error typed in: reported at its line; fixing it clears the file
    broken = good.replace("  from 2011-07-01  15.00", "  from 2011-7-01  15.00", 1)
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": broken}]})
    diags = client.diagnostics(uri)
    line = position_of(broken, "2011-7-01")["line"]
    assert [(d["code"], d["range"]["start"]["line"]) for d in diags] == [("syntax", line)]
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": good}]})
    assert client.diagnostics(uri) == []


def test_the_open_text_replaces_the_file_for_the_whole_region(client, folder):
    """Removing a source another file cites: the error is reported in the file that cites it."""
    sources = folder / REGION / "sources.policy"
    text = sources.read_text(encoding="utf-8")
    start = text.index("source 宁夏2011模式")
    end = text.index("\nsource ", start + 1)
    uri = open_doc(client, sources, text[:start] + text[end + 1:])
    pension_uri = (folder / REGION / "pension.policy").as_uri()
    diags = client.diagnostics(pension_uri)
    assert diags and {d["code"] for d in diags} == {"unknown-name"}
    assert client.diagnostics(uri) == []  # nothing wrong in the file itself


def test_closing_a_broken_document_checks_the_file_on_disk_again(client, folder):
    path = folder / REGION / "pension.policy"
    uri = open_doc(client, path, path.read_text(encoding="utf-8").replace("cite 宁夏2011模式", "cite 宁夏2011", 1))
    assert [d["code"] for d in client.diagnostics(uri)] == ["unknown-name"]
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert client.diagnostics(uri) == []


def test_hover_shows_label_unit_value_and_citation(client):
    path = POLICIES / REGION / "pension.policy"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path)
    client.diagnostics(uri)
    result = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                   "position": position_of(text, "local_basic_pension")})
    value = result["contents"]["value"]
    assert "宁夏基础养老金" in value and "元/月" in value
    assert "2024-06-30 现行：90.00 元/月" in value  # asOf from initializationOptions
    assert "宁夏扶贫概况" in value and "2020 年 1 月第 7 次提标" in value
    # a name defined only in national, used in a region (its Chinese label as written)
    national = POLICIES / "national" / "pension.policy"
    ntext = national.read_text(encoding="utf-8")
    nuri = open_doc(client, national)
    client.diagnostics(nuri)
    result = client.request("textDocument/hover", {"textDocument": {"uri": nuri},
                                                   "position": position_of(ntext, "central_basic_pension",
                                                                           "component")})
    value = result["contents"]["value"]
    assert "中央基础养老金" in value and "123.00 元/月" in value and "国发〔2014〕8号" in value
    # nothing under a comment
    assert client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 0, "character": 3}}) is None


def test_definition_in_the_region_and_into_national(client):
    path = POLICIES / REGION / "pension.policy"
    text = path.read_text(encoding="utf-8")
    uri = open_doc(client, path)
    client.diagnostics(uri)
    # a citation's source: defined in the region's sources.policy
    result = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                        "position": position_of(text, "宁夏扶贫概况")})
    sources = (POLICIES / REGION / "sources.policy")
    line = next(i for i, l in enumerate(sources.read_text(encoding="utf-8").split("\n"))
                if l.startswith("source 宁夏扶贫概况"))
    assert [(r["uri"], r["range"]["start"]["line"]) for r in result] == [(sources.resolve().as_uri(), line)]
    # a name the region overrides: the region's definition first, then national's
    result = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                        "position": position_of(text, "local_basic_pension")})
    national = POLICIES / "national" / "pension.policy"
    nlines = national.read_text(encoding="utf-8").split("\n")
    assert [(r["uri"], r["range"]["start"]["line"]) for r in result] == [
        (path.resolve().as_uri(), position_of(text, "local_basic_pension")["line"]),
        (national.resolve().as_uri(), next(i for i, l in enumerate(nlines) if l.startswith("value local_basic")))]
    # a group used in the region, declared only in national
    contributions = POLICIES / REGION / "contributions.policy"
    ctext = contributions.read_text(encoding="utf-8")
    curi = open_doc(client, contributions)
    client.diagnostics(curi)
    result = client.request("textDocument/definition", {"textDocument": {"uri": curi},
                                                        "position": position_of(ctext, "重度残疾人", "  |")})
    persons = POLICIES / "national" / "persons.policy"
    plines = persons.read_text(encoding="utf-8").split("\n")
    assert [(r["uri"], r["range"]["start"]["line"]) for r in result] == [
        (persons.resolve().as_uri(), next(i for i, l in enumerate(plines) if l.startswith("group severe_disability")))]


def test_completion_offers_keywords_groups_names_and_levels(client):
    path = POLICIES / REGION / "pension.policy"
    uri = open_doc(client, path)
    client.diagnostics(uri)
    result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": {"line": 3, "character": 0}})
    labels = {item["label"] for item in result["items"]}
    assert "component" in labels and set(keywords()) <= labels  # keywords
    assert "dibao" in labels and "village_cadre" in labels  # group ids (national)
    assert "local_basic_pension" in labels and "长缴多得标准" in labels  # defined names (region + national)
    assert "central_basic_pension" in labels and "basic_pension" in labels
    assert "province" in labels and "省" in labels  # funding levels (`paid by …`)


def test_formatting_goes_through_jubao_fmt(client, folder):
    from engine.tools.fmt import format_text

    path = folder / REGION / "pension.policy"
    text = path.read_text(encoding="utf-8")
    messy = text.replace("  from ", "     from ") + "\n\n\n"
    path.write_text(messy, encoding="utf-8")
    uri = open_doc(client, path)
    client.diagnostics(uri)
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 2, "insertSpaces": True}})
    assert [e["newText"] for e in edits] == [format_text(messy)] == [text]


def test_formatting_a_file_that_does_not_parse_gives_no_edits(client, folder):
    path = folder / REGION / "pension.policy"
    path.write_text(path.read_text(encoding="utf-8").replace("  from ", "  form ", 1), encoding="utf-8")
    uri = open_doc(client, path)
    assert client.diagnostics(uri)
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                      "options": {"tabSize": 2, "insertSpaces": True}}) == []


def test_shutdown_and_exit_cleanly(client):
    assert client.request("shutdown") is None
    client.notify("exit")
    assert client.process.wait(timeout=TIMEOUT) == 0


EDITOR = ROOT / "editors" / "vscode"


def test_vscode_extension_declares_the_language_and_starts_jubao_lsp():
    package = json.loads((EDITOR / "package.json").read_text(encoding="utf-8"))
    language = package["contributes"]["languages"][0]
    assert language["id"] == "jubao-policy" and ".policy" in language["extensions"]
    grammar = package["contributes"]["grammars"][0]
    assert grammar["language"] == "jubao-policy" and (EDITOR / grammar["path"]).is_file()
    assert "vscode-languageclient" in package["dependencies"]
    config = json.loads((EDITOR / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    script = (EDITOR / package["main"]).read_text(encoding="utf-8")
    assert 'require("vscode-languageclient/node")' in script and 'args: ["lsp"]' in script
    if shutil.which("node"):
        subprocess.run(["node", "--check", str(EDITOR / package["main"])], check=True, timeout=60)


def test_textmate_grammar_covers_the_language():
    import re

    grammar = json.loads((EDITOR / "syntaxes" / "policy.tmLanguage.json").read_text(encoding="utf-8"))
    rules = []

    def walk(node):
        if isinstance(node, dict):
            if "match" in node or "begin" in node:
                rules.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(grammar)
    compiled = [(r.get("name", ""), re.compile(r.get("match") or r["begin"])) for r in rules]

    def scope_of(text: str) -> set[str]:
        return {name.split(".")[0] + "." + name.split(".")[1] if name else "" for name, rx in compiled
                if any(m.group() == text for m in rx.finditer(f" {text} "))}

    keyword_rules = " ".join(r["match"] for r in rules if "match" in r)
    for word in keywords():  # every keyword of the grammar is coloured (none can drift)
        assert re.search(rf"[(|]{word}[|)]", keyword_rules), word
    assert "constant.numeric" in scope_of("2014-07-01")
    assert "constant.numeric" in scope_of("70.00") and "constant.numeric" in scope_of("2.25%")
    assert "constant.numeric" in scope_of("65-69") and "constant.numeric" in scope_of("80+")
    assert "string.quoted" in scope_of('"中央基础养老金"')
    assert any(rx.match("# 注释") and name.startswith("comment.") for name, rx in compiled)
    assert any(rx.search("  | 档次 | 省 |") and name.startswith("punctuation.separator.table") for name, rx in compiled)
    assert "keyword.other" in scope_of("cite") and "keyword.other" in scope_of("until")
    definition = next(rx for name, rx in compiled if "(region|" in rx.pattern)
    m = definition.match("value central_basic_pension \"中央基础养老金\": 元/月")
    assert m and m.group(2) == "central_basic_pension"
