// 经办计算: builds the PERSON from the form, asks the API, and opens the determination page.
(function () {
  "use strict";
  const form = document.getElementById("calc");
  const lang = form.dataset.lang;
  const region = form.dataset.region;
  const zh = lang !== "en";
  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function addRow(tableId, templateId) {
    const body = document.querySelector("#" + tableId + " tbody");
    const row = document.getElementById(templateId).content.firstElementChild.cloneNode(true);
    row.querySelector(".remove").addEventListener("click", () => { row.remove(); refresh(); });
    body.appendChild(row);
    refresh();
    const first = row.querySelector("input, select");
    if (first) first.focus();
    return row;
  }
  function refresh() {
    for (const id of ["groups", "contributions"]) {
      const rows = document.querySelectorAll("#" + id + " tbody tr");
      document.getElementById(id + "-empty").hidden = rows.length > 0;
      rows.forEach((tr, i) => tr.querySelectorAll("[data-key]").forEach(el => {
        el.dataset.pointer = "/person/" + id + "/" + i + "/" + el.dataset.key;
      }));
    }
  }
  document.getElementById("add-group").addEventListener("click", () => addRow("groups", "group-row"));
  document.getElementById("add-contribution").addEventListener("click", () => addRow("contributions", "contribution-row"));
  refresh();

  // Many years at once: "fill years A–B at tier T, paid on M-D", and rows pasted from a spreadsheet (tabs).
  function contributionRow(year) {
    const existing = [...document.querySelectorAll("#contributions tbody tr")]
      .find(tr => tr.querySelector('[data-key="year"]').value === String(year));
    return existing || addRow("contributions", "contribution-row");
  }
  function setRecord(record) {
    const row = contributionRow(record.year);
    for (const [key, value] of Object.entries(record)) {
      const el = row.querySelector('[data-key="' + key + '"]');
      if (el && value !== undefined) el.value = value;
    }
  }
  function sortRows() {
    const body = document.querySelector("#contributions tbody");
    [...body.rows].sort((a, b) => Number(a.querySelector('[data-key="year"]').value || 0) -
                                  Number(b.querySelector('[data-key="year"]').value || 0)).forEach(tr => body.appendChild(tr));
    refresh();
  }
  document.getElementById("fill-years").addEventListener("click", () => {
    const from = Number(document.getElementById("fill-from").value), to = Number(document.getElementById("fill-to").value);
    const tier = document.getElementById("fill-tier").value.trim(), day = document.getElementById("fill-day").value.trim();
    const error = document.getElementById("fill-error");
    if (!from || !to || from > to || to - from > 80 || !tier || !/^[0-9]{2}-[0-9]{2}$/.test(day)) {
      error.textContent = error.dataset.message || (zh ? "请填写起止年度、档次和缴费日" : "give the years, the tier and the day");
      return;
    }
    error.textContent = "";
    for (let year = from; year <= to; year++) setRecord({ year: year, tier: tier, kind: "regular", date: year + "-" + day });
    sortRows();
  });
  const KINDS = { "补缴": "back_payment", "补": "back_payment", "back_payment": "back_payment", "back payment": "back_payment",
                  "正常": "regular", "正常缴费": "regular", "regular": "regular", "": "regular" };
  function date(text) {
    const m = /^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?$/.exec(text.trim());
    return m ? m[1] + "-" + m[2].padStart(2, "0") + "-" + m[3].padStart(2, "0") : text.trim();
  }
  function money(text) { return text.replace(/[,，\s元]/g, ""); }
  function pasteRows(text) {
    const bad = [];
    const records = [];
    let first = true;
    for (const line of text.split(/\r?\n/)) {
      if (!line.trim()) continue;
      const cells = (line.includes("\t") ? line.split("\t") : line.trim().split(/\s{2,}|,|，/)).map(c => c.trim());
      const header = first && !/[0-9]/.test(line);  // a heading row copied along (年度 档次 …) is not data
      first = false;
      if (header) continue;
      if (!/^[0-9]{4}$/.test(cells[0])) { bad.push(line); continue; }
      const kindCell = cells.length > 2 && !/^[0-9]/.test(cells[2]) ? cells[2] : null;
      const rest = kindCell === null ? cells.slice(2) : cells.slice(3);
      const kind = KINDS[(kindCell || "").toLowerCase()];
      if (kind === undefined) { bad.push(line); continue; }
      records.push({ year: cells[0], tier: money(cells[1] || ""), kind: kind, date: rest[0] ? date(rest[0]) : undefined,
                     collective: rest[1] ? money(rest[1]) : undefined });
    }
    records.forEach(setRecord);
    sortRows();
    return bad;
  }
  document.getElementById("paste-rows").addEventListener("click", () => {
    const bad = pasteRows(document.getElementById("paste-text").value);
    const error = document.getElementById("paste-error");
    error.textContent = bad.length ? error.dataset.message + " " + bad.slice(0, 3).join(" / ") : "";
    if (!bad.length) document.getElementById("paste-text").value = "";
  });
  // Pasting several lines straight into the table (a year cell) imports them the same way.
  document.getElementById("contributions").addEventListener("paste", event => {
    const text = (event.clipboardData || window.clipboardData).getData("text");
    if (!/[\t\n]/.test(text.trim())) return;  // one value: an ordinary paste into the cell
    event.preventDefault();
    const bad = pasteRows(text);
    const error = document.getElementById("paste-error");
    error.textContent = bad.length ? error.dataset.message + " " + bad.slice(0, 3).join(" / ") : "";
  });

  function setPath(obj, path, value) {
    const parts = path.split(".");
    let cur = obj;
    for (const p of parts.slice(0, -1)) { cur = cur[p] = cur[p] || {}; }
    cur[parts[parts.length - 1]] = value;
  }
  function person() {
    const p = {};
    form.querySelectorAll("[data-fact]").forEach(el => { if (el.value.trim()) setPath(p, el.dataset.fact, el.value.trim()); });
    p.groups = [...document.querySelectorAll("#groups tbody tr")].map(tr => {
      const g = {};
      tr.querySelectorAll("[data-key]").forEach(el => { if (el.value.trim()) g[el.dataset.key] = el.value.trim(); });
      return g;
    });
    p.contributions = [...document.querySelectorAll("#contributions tbody tr")].map(tr => {
      const c = {};
      tr.querySelectorAll("[data-key]").forEach(el => {
        const v = el.value.trim();
        if (!v) return;
        c[el.dataset.key] = el.dataset.key === "year" && /^[0-9]+$/.test(v) ? Number(v) : v;
      });
      return c;
    });
    return p;
  }

  function clearErrors() {
    form.querySelectorAll(".invalid").forEach(el => el.classList.remove("invalid"));
    form.querySelectorAll(".field-error").forEach(el => { el.textContent = ""; });
    const box = document.getElementById("errors");
    box.hidden = true;
    box.querySelector("ul").innerHTML = "";
  }
  function showErrors(problem) {
    const box = document.getElementById("errors");
    const list = box.querySelector("ul");
    const errors = problem.errors && problem.errors.length ? problem.errors : [{ pointer: "", detail: problem.detail }];
    let first = null;
    for (const e of errors) {
      const el = form.querySelector('[data-pointer="' + e.pointer + '"]');
      const li = document.createElement("li");
      // the field by its label (the detail names it too, in words); never the JSON pointer, which is the machine's
      const label = el ? (el.getAttribute("aria-label") || el.closest("label")?.firstChild.textContent.trim()) : null;
      li.textContent = (label ? label + (zh ? "：" : ": ") : "") + e.detail;
      list.appendChild(li);
      if (el) {
        el.classList.add("invalid");
        const slot = el.parentElement.querySelector(".field-error");
        if (slot) slot.textContent = e.detail;
        first = first || el;
      }
    }
    box.hidden = false;
    (first || box).focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const button = document.getElementById("submit");
    const busy = document.getElementById("busy");
    button.disabled = true; busy.hidden = false;
    try {
      // The problem details come back in the page's language (?lang=en; Chinese by default).
      const response = await fetch("/v1/regions/" + region + "/entitlements?lang=" + (zh ? "zh" : "en"), {
        // The session's CSRF token: a signed-in caseworker's request is a write of the session (token mode).
        method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ as_of: document.getElementById("as_of").value, explain: false, person: person() }),
      });
      const body = await response.json();
      if (!response.ok) { showErrors(body); return; }
      location.href = "/decisions/" + body.decision_id + (lang === "en" ? "?lang=en" : "");
    } catch (err) {
      showErrors({ detail: (zh ? "网络或服务错误，请稍后重试：" : "network or server error: ") + err });
    } finally {
      button.disabled = false; busy.hidden = true;
    }
  });
})();
