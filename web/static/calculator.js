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
      li.textContent = (el ? (el.getAttribute("aria-label") || el.closest("label")?.firstChild.textContent.trim() || e.pointer) : e.pointer) + "：" + e.detail;
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
