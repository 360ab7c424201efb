// 政策编辑: a plain textarea (native IME) over a highlighted copy; diagnostics as the officer types.
// Several files are edited in one sitting: switching files keeps each file's edits in the page (nothing reloads),
// the check, the test run and the draft take every edited file at once, and leaving with edits not submitted asks.
(function () {
  "use strict";
  const root = document.getElementById("editor");
  const region = root.dataset.region, zh = root.dataset.lang !== "en";
  let current = root.dataset.file;
  const text = document.getElementById("text"), gutter = document.getElementById("gutter");
  const highlight = document.getElementById("highlight"), picker = document.getElementById("file");
  const saved = JSON.parse(document.getElementById("other-files").textContent);  // the live version's texts
  const edits = {};  // file name → its text as edited in this page
  const keywords = new Set(JSON.parse(document.getElementById("keywords").textContent));
  const codes = JSON.parse(document.getElementById("codes").textContent);  // diagnostic code → its title
  const state = document.getElementById("check-state");
  let errorLines = new Set(), timer = null, sequence = 0, lastDiagnostics = [];

  const escapeHtml = s => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const TOKEN = /(#.*$)|("[^"\n]*")|([0-9]{4}-[0-9]{2}-[0-9]{2})|([0-9]+(?:\.[0-9]+)?%?\+?)|(\|)|([^\s\d|#"()=,:+\-*/×÷<>!][^\s|#"()=,:+\-*/×÷<>!]*)/g;
  function highlightLine(line) {
    let out = "", pos = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(line)) !== null) {
      out += escapeHtml(line.slice(pos, m.index));
      let cls = m[1] ? "comment" : m[2] ? "string" : m[3] ? "date" : m[4] ? "number" : m[5] ? "pipe" : null;
      if (m[6]) cls = /^(provisional|proposal)$/.test(m[6]) ? "status" : keywords.has(m[6]) ? "keyword" : null;
      out += cls ? '<span class="tok-' + cls + '">' + escapeHtml(m[0]) + "</span>" : escapeHtml(m[0]);
      pos = m.index + m[0].length;
      if (m[0].length === 0) TOKEN.lastIndex++;
    }
    return out + escapeHtml(line.slice(pos));
  }
  function render() {
    const lines = text.value.split("\n");
    gutter.innerHTML = lines.map((_, i) => '<span id="g' + (i + 1) + '"' + (errorLines.has(i + 1) ? ' class="err"' : "") + ">" + (i + 1) + "</span>").join("\n");
    highlight.innerHTML = lines.map((l, i) => '<span data-line="' + (i + 1) + '"' + (errorLines.has(i + 1) ? ' class="err"' : "") + ">" + highlightLine(l) + "</span>").join("\n") + "\n";
    text.style.height = "auto";
    text.style.height = text.scrollHeight + "px";
  }

  // ── the files of this sitting ───────────────────────────────────────────
  function remember() {
    if (text.value !== saved[current]) edits[current] = text.value; else delete edits[current];
  }
  function allFiles() { remember(); return Object.assign({}, saved, edits); }
  function changedFiles() { remember(); return Object.keys(edits).sort(); }
  // the checker reads policy files; test cases (tests/*.yaml) travel with drafts and test runs
  function policyFiles() {
    const f = allFiles();
    for (const name of Object.keys(f)) if (name.startsWith("tests/")) delete f[name];
    return f;
  }
  function showEdited() {
    const changed = changedFiles();
    for (const option of picker.options) {
      option.textContent = option.value + (changed.includes(option.value) ? (zh ? "（已修改）" : " (edited)") : "");
    }
    document.getElementById("edited").textContent = changed.length ?
      (zh ? "未提交的修改：" + changed.length + " 个文件" : changed.length + " file(s) edited, not submitted") : "";
  }
  function open(name, line, column) {
    remember();
    current = name;
    root.dataset.file = name;
    picker.value = name;
    text.value = name in edits ? edits[name] : saved[name];
    text.setAttribute("aria-label", name);
    history.replaceState(null, "", "?file=" + encodeURIComponent(name) + (zh ? "" : "&lang=en"));
    showDiagnostics(lastDiagnostics);
    showEdited();
    if (line) goToLine(line, column || 1);
  }
  picker.addEventListener("change", () => open(picker.value));
  window.addEventListener("beforeunload", event => {
    if (changedFiles().length) { event.preventDefault(); event.returnValue = ""; }
  });

  // ── checking as the officer types ───────────────────────────────────────
  async function check() {
    const mine = ++sequence;
    state.textContent = zh ? "正在检查…" : "Checking…";
    try {
      const response = await fetch("/v1/check" + (zh ? "" : "?lang=en"), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ files: policyFiles() }) });
      const body = await response.json();
      if (mine !== sequence) return;
      showDiagnostics(response.ok ? body.diagnostics : [{ file: current, line: 1, column: 1, code: "request", message: body.detail, hint: null }]);
    } catch (err) {
      state.textContent = (zh ? "检查失败：" : "check failed: ") + err;
    }
  }
  function fileOf(d) {  // a diagnostic names a file as sent (pension.policy) or as policies/<region>/<name>
    const prefix = "policies/" + region + "/";
    const name = d.file.startsWith(prefix) ? d.file.slice(prefix.length) : d.file;
    return name in saved ? name : d.file;
  }
  function showDiagnostics(diagnostics) {
    lastDiagnostics = diagnostics;
    const list = document.getElementById("diagnostics");
    list.innerHTML = "";
    errorLines = new Set(diagnostics.filter(d => fileOf(d) === current).map(d => d.line));
    if (!diagnostics.length) {
      list.innerHTML = '<li class="empty ok">' + (zh ? "未发现问题" : "No problems found") + "</li>";
    }
    for (const d of diagnostics) {
      const li = document.createElement("li");
      const file = fileOf(d);
      li.dataset.line = d.line;
      li.dataset.file = file;
      li.dataset.code = d.code;
      const where = (file === current ? "" : file + " ") + (zh ? "第 " + d.line + " 行第 " + d.column + " 列" : "line " + d.line + ", column " + d.column);
      const kind = codes[d.code] || (zh ? "问题" : d.code);
      li.innerHTML = '<a href="#g' + d.line + '">' + escapeHtml(where) + '</a> <span class="code-kind" title="' + escapeHtml(zh ? "诊断：" + kind : d.code) + '">' + (zh ? "【" + escapeHtml(kind) + "】" : "error[" + escapeHtml(d.code) + "]") + "</span> " + escapeHtml(d.message) + (d.hint ? " — " + (zh ? "提示：" : "hint: ") + escapeHtml(d.hint) : "");
      li.querySelector("a").addEventListener("click", e => { e.preventDefault(); if (file in saved && file !== current) open(file, d.line, d.column); else goToLine(d.line, d.column); });
      list.appendChild(li);
    }
    state.textContent = diagnostics.length ? (zh ? diagnostics.length + " 个问题" : diagnostics.length + " problem(s)") : (zh ? "未发现问题" : "No problems found");
    render();
  }
  function goToLine(line, column) {
    const lines = text.value.split("\n");
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(column - 1, 0);
    text.focus();
    text.setSelectionRange(offset, offset);
    document.getElementById("g" + line)?.scrollIntoView({ block: "center" });
  }
  text.addEventListener("input", () => { render(); showEdited(); clearTimeout(timer); timer = setTimeout(check, 350); });
  text.addEventListener("keydown", e => {
    if (e.key === "Tab" && !e.shiftKey) { e.preventDefault(); document.execCommand("insertText", false, "  "); }
  });

  // ── one draft of every edited file ──────────────────────────────────────
  const submit = document.getElementById("submit-draft");
  if (submit) submit.addEventListener("click", async () => {
    const out = document.getElementById("draft-state");
    out.textContent = "…";
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const message = document.getElementById("draft-message").value;
    const files = allFiles();
    const response = await fetch("/v1/regions/" + region + "/drafts" + (zh ? "" : "?lang=en"), { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ files: files, message: message }) });
    const data = await response.json();
    if (!response.ok) { out.textContent = data.detail || String(response.status); return; }
    for (const name of Object.keys(edits)) { saved[name] = edits[name]; delete edits[name]; }  // saved in the draft
    showEdited();
    out.innerHTML = "";
    const link = document.createElement("a");
    link.href = "/policies/" + region + "/versions" + (zh ? "" : "?lang=en");
    link.textContent = (zh ? "草稿 " : "Draft ") + data.draft_id + (data.ok ? (zh ? " 已保存：检查通过、测试通过，等待审核" : " saved: checks clean, tests pass — waiting for review") : (zh ? " 已保存但有问题：不能批准" : " saved with problems: it cannot be approved"));
    out.appendChild(link);
    if (!data.ok) { showDiagnostics(data.diagnostics || []); showTests(data.tests); }
  });
  document.getElementById("format").addEventListener("click", async () => {
    if (current.startsWith("tests/")) { state.textContent = zh ? "测试用例文件不需格式化" : "Test files are not formatted"; return; }
    const response = await fetch("/v1/format" + (zh ? "" : "?lang=en"), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ files: { [current]: text.value } }) });
    const body = await response.json();
    if (!response.ok) { state.textContent = body.detail; return; }
    if (!body.ok) { showDiagnostics(body.diagnostics); return; }
    if (body.changed.length) {
      text.focus();
      text.select();
      document.execCommand("insertText", false, body.files[current]);  // keeps the browser's undo (Ctrl+Z)
      if (text.value !== body.files[current]) text.value = body.files[current];
      render();
      showEdited();
      check();
    }
    state.textContent = body.changed.length ? (zh ? "已格式化" : "Formatted") : (zh ? "格式已规范" : "Already formatted");
  });
  function showTests(tests) {
    const out = document.getElementById("tests");
    if (!tests) return;
    let html = '<p id="test-summary"><span class="pass">' + (zh ? tests.passed + " 个通过" : tests.passed + " passed") + '</span>' + (zh ? "，" : ", ") + '<span class="fail">' + (zh ? tests.failed + " 个失败" : tests.failed + " failed") + "</span></p><ul>";
    for (const f of tests.failures) {
      html += "<li><b>" + escapeHtml(f.case) + "</b> <span class=\"where\">" + escapeHtml(f.file) + ":" + f.line + "</span><ul>" + f.failures.map(x => "<li>" + escapeHtml(x) + "</li>").join("") + "</ul>" + ((f.policy_lines || []).length ? (zh ? "相关条文：" : "policy lines: ") + escapeHtml(f.policy_lines.join(", ")) : "") + "</li>";
    }
    out.innerHTML = html + "</ul>";
  }
  document.getElementById("run-tests").addEventListener("click", async () => {
    const out = document.getElementById("tests");
    out.innerHTML = '<p class="busy">' + (zh ? "正在运行测试用例…" : "Running test cases…") + "</p>";
    try {
      const response = await fetch("/v1/regions/" + region + "/test" + (zh ? "" : "?lang=en"), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ files: allFiles() }) });
      const body = await response.json();
      if (!response.ok) { out.innerHTML = '<p class="fail">' + escapeHtml(body.detail) + "</p>"; return; }
      if (body.diagnostics.length) { showDiagnostics(body.diagnostics); }
      showTests(body.tests);
    } catch (err) {
      out.innerHTML = '<p class="fail">' + escapeHtml(String(err)) + "</p>";
    }
  });
  showEdited();
  render();
  check();
})();
