"""Pages for caseworkers (calculate, "why this amount") and policy officers (browse, edit)."""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import attrs
from flask import Blueprint, abort, current_app, redirect, render_template, request, send_from_directory, session
from markupsafe import Markup, escape

from engine import PolicyError, Problem, keywords
from engine.core import fold_repeats
from engine.language import CATALOGUE, share_text
from engine.tools import region_coverage
from web.api import registry, stored_decision
from web.auth import csrf_token, current_user, sign_in, sign_out, store
from web.highlight import highlight_line
from web.i18n import translator
from web.live import test_part

pages = Blueprint("pages", __name__)


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def _render(template: str, **context):
    lang = _lang()
    regions = [(r, region_name(r, lang)) for r in registry().regions]
    return render_template(template, t=translator(lang), lang=lang, regions=regions, user=_user(),
                           csrf=csrf_token(), region_name=region_name, **context)


def region_name(region: str, lang: str = "zh") -> str:
    """A region as a reader of `lang` names it (宁夏); its id where the policy gives no label or does not check."""
    try:
        labels = registry().policy(region).labels
    except (PolicyError, KeyError):
        return region
    return (labels.en if lang == "en" else labels.zh) or labels.zh or region


def _user():
    try:
        return current_user() if "Authorization" not in request.headers else None
    except Problem:
        return None


@pages.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with a user name and the token `jubao users add` printed; the session then carries a CSRF token."""
    error = None
    if request.method == "POST":
        sent, expected = request.form.get("csrf", ""), session.get("login_csrf", "")
        if not expected or not hmac.compare_digest(sent, expected):
            abort(403)  # a sign-in form from another site (login CSRF)
        user = sign_in(request.form.get("name", ""), request.form.get("token", ""))
        if user is not None:
            store().audit(user.name, "login", None, None, request.remote_addr, {})
            return redirect(same_site_path(request.args.get("next")), 303)
        error = True
    session.setdefault("login_csrf", secrets.token_urlsafe(24))
    return _render("login.html", error=error, login_csrf=session["login_csrf"]), (401 if error else 200)


def same_site_path(target: str | None, default: str = "/policies/") -> str:
    """`next` after sign-in: only a path of this site ("/…"), never "//host", "/\\host", a scheme, spaces or
    control characters (browsers drop tabs and newlines, so "/\t/evil.example" would become "//evil.example")."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if "\\" in target or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else default


@pages.post("/logout")
def logout():
    if request.form.get("csrf") == csrf_token():
        sign_out()
    return redirect("/", 303)


@pages.get("/policies/<region>/versions")
def policy_versions(region: str):
    _region_or_404(region)
    zone = _settings().zone()
    versions = [{**v, "shown_time": local_time(v["approved_at"] or v["created_at"], zone)}
                for v in store().versions(region)]
    return _render("policy_versions.html", region=region, versions=versions, live_id=store().live().get(region))


def local_time(moment: dt.datetime, zone) -> str:
    """A stored time (UTC) as the officers read it: in the service's zone (JUBAO_TIME_ZONE, China time by default),
    with the zone said (2026-12-08 09:30 UTC+08:00)."""
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=dt.timezone.utc)
    here = moment.astimezone(zone)
    offset = here.strftime("%z")
    return f"{here:%Y-%m-%d %H:%M} UTC{offset[:3]}:{offset[3:]}"


def _settings():
    return current_app.config["JUBAO_SETTINGS"]


def _region_or_404(region: str):
    if region not in registry().sources:
        abort(404)
    return registry().policy(region)


def figure_text(figure, unit: str | None) -> str | None:
    """A figure as an officer reads it: 是/否 for yes/no, a rate as a percentage (2.25%), dates as written."""
    if figure is None:
        return None
    if isinstance(figure, bool):
        return ("是" if figure else "否") if _lang() == "zh" else ("yes" if figure else "no")
    if isinstance(figure, Decimal) and unit and unit.split("/")[0] == "%":
        return f"{(figure * 100).quantize(Decimal('0.01'))}%"
    if isinstance(figure, dt.date):
        return figure.isoformat()
    if isinstance(figure, Decimal) and unit and unit.startswith("元"):  # money with its unit (90.00 元/月)
        return f"{figure} {unit}" if _lang() == "zh" else f"{figure} {UNIT_WORDS.get(unit, unit)}"
    return str(figure)


@pages.get("/favicon.ico")
def favicon():
    return send_from_directory(Path(__file__).parent / "static", "favicon.svg", mimetype="image/svg+xml",
                               max_age=86400)


@pages.get("/docs")
def api_docs():
    """The interactive reference of /openapi.json (Swagger UI 5, served from the pinned swagger-ui-py package)."""
    return _render("api_docs.html")


@pages.get("/docs/assets/<name>")
def api_docs_asset(name: str):
    import swagger_ui

    if name not in API_DOCS_ASSETS:
        abort(404)
    return send_from_directory(Path(swagger_ui.__file__).parent / "static", name, max_age=86400)


API_DOCS_ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js"}


@pages.get("/")
def calculator():
    region = request.args.get("region", "anhui" if "anhui" in registry().sources else registry().regions[0])
    policy = _region_or_404(region)
    facts = [f for name, f in policy.facts.items()
             if f.type in ("date", "text", "choice", "money") and name not in ("groups",)]
    tiers = sorted({r.tier for layers in policy.definitions.get("contribution_tiers", ()) for layer in [layers]
                    for v in layer.versions for r in v.rows})
    return _render("calculator.html", region=region, policy=policy, facts=facts, named=declared_names(policy),
                   groups=sorted(policy.groups.values(), key=lambda g: g.name),
                   tiers=[f"{t:.2f}" for t in tiers], today=dt.date.today().isoformat())


def declared_names(policy) -> dict[str, list[str]]:
    """The values a text fact can take where the region's rules name them all: the keys of a table looked up by that
    fact (Yuxi's nine counties, Chongqing's districts) — the form offers them as a choice. The API keeps the rule
    book's exact names; a fact no table is keyed by stays free text."""
    found: dict[str, set] = {}
    for layers in policy.definitions.values():
        for layer in layers:
            if layer.kind == "table" and layer.keys:
                found.setdefault(layer.keys[0], set()).update(r.key for v in layer.versions for r in v.rows)
    return {fact: sorted(names) for fact, names in found.items()
            if fact in policy.facts and not policy.facts[fact].choices}


@pages.get("/decisions/<decision_id>")
def determination(decision_id: str):
    try:
        d = stored_decision(decision_id, _lang())
    except Problem:
        abort(404)
    policy = registry().policy(d["region"]) if d["region"] in registry().sources else None
    if d.get("explanation"):  # the page shows each figure once; a later use refers back to it
        d = {**d, "explanation": fold_repeats(d["explanation"])}
    return _render("determination.html", d=d, policy=policy, levels=("central", "province", "city", "county"))


@pages.get("/policies/")
def policy_index():
    return _render("policy_index.html")


@pages.get("/policies/<region>/")
def policy_region(region: str):
    policy = _region_or_404(region)
    return _render("policy_region.html", region=region, policy=policy, files=_files(region),
                   tables=_tables(policy, region), timeline=_timeline(policy, region),
                   provisional=_provisional(policy, region), coverage=_coverage(region, policy))


@pages.get("/policies/<region>/<name>")
def policy_file(region: str, name: str):
    _region_or_404(region)
    source = _files(region).get(name)
    if source is None:
        abort(404)
    lines = [(i + 1, highlight_line(line)) for i, line in enumerate(source.text.split("\n"))]
    coverage = next((f for f in _coverage(region, registry().policy(region)).files if f.file == source.name), None)
    return _render("policy_file.html", region=region, name=name, lines=lines, files=_files(region),
                   coverage=coverage)


@pages.get("/policies/<region>/edit")
def policy_edit(region: str):
    _region_or_404(region)
    files = {name: src.text for name, src in _files(region).items()}
    # the live version's test cases are edited and submitted with the policy (a draft carries them)
    live_id = store().live().get(region)
    files.update(test_part(store().version(live_id)["files"]) if live_id else {})
    current = request.args.get("file") if request.args.get("file") in files else sorted(files)[0]
    codes = {code: (entry.title_en if _lang() == "en" else entry.title_zh) for code, entry in CATALOGUE.items()}
    return _render("policy_edit.html", region=region, files=files, current=current, keywords=list(keywords()),
                   codes=codes)


@attrs.frozen
class Coverage:
    """The region's rule coverage by its test cases (as `jubao test --coverage`), for marking unused lines."""
    files: tuple  # engine.tools.coverage.FileCoverage per policy file
    cases: int
    failed: int

    @property
    def uncovered(self) -> frozenset[tuple[str, int]]:
        return frozenset((f.file, line) for f in self.files for line in f.uncovered)

    @property
    def percent(self) -> float:
        total = sum(len(f.lines) for f in self.files)
        return 100.0 * sum(len(f.covered) for f in self.files) / total if total else 100.0


_COVERAGE: dict = {}  # (region, live version id, policy digest) → Coverage; the newest 32 kept


def _coverage(region: str, policy) -> Coverage:
    """The region's coverage by the cases its live version carries; computed once per version (the cases run in
    about a second) and kept."""
    live = current_app.extensions["jubao.live"]
    key = (region, store().live().get(region), policy.digest)
    if key not in _COVERAGE:
        try:
            cases = live.cases(region)
        except PolicyError:  # a test file that cannot be read: nothing counts as covered
            cases = []
        files, failed = region_coverage(policy, cases)
        while len(_COVERAGE) >= 32:
            _COVERAGE.pop(next(iter(_COVERAGE)))
        _COVERAGE[key] = Coverage(tuple(files), len(cases), failed)
    return _COVERAGE[key]


def _files(region: str) -> dict:
    return {name.rsplit("/", 1)[-1]: src for name, src in sorted(registry().sources[region].items())}


def _tables(policy, region: str) -> list[dict]:
    """Tier/subsidy tables, bands and dated values of this region and its bases, one table per period."""
    out = []
    for name, layers in policy.definitions.items():
        for layer in layers:
            periods = []
            for v in layer.versions:
                periods.append({"version": v, "rows": v.rows, "figure": figure_text(v.figure, layer.unit),
                                "condition": condition_text(policy, v.condition)})
            out.append({"name": name, "label": layer.label(_lang()), "kind": layer.kind, "unit": layer.unit,
                        "region": layer.region, "region_name": region_name(layer.region, _lang()),
                        "keys": layer.keys, "periods": periods, "paid_by": layer.paid_by,
                        "levels": sorted({lvl for v in layer.versions for r in v.rows
                                          for lvl, _ in getattr(r, "subsidy", ()) or getattr(r, "by_level", ())},
                                         key=("central", "province", "city", "county").index)})
    order = {"tiers": 0, "subsidy": 1, "daijiao": 2, "reward": 3, "value": 4, "bonus": 5, "table": 6, "floor": 7,
             "early_start": 8}
    return sorted(out, key=lambda t: (t["region"] != region, order.get(t["kind"], 9), t["name"]))


def _timeline(policy, region: str) -> list[tuple[str, list[str]]]:
    changes: dict[str, list[str]] = {}
    for name, layers in policy.definitions.items():
        for layer in layers:
            for v in layer.versions:
                if v.start and v.start.year > 1900:
                    changes.setdefault(v.start.isoformat(), []).append(
                        f"{layer.label(_lang())}（{region_name(layer.region, _lang())}）")
    return sorted((day, sorted(set(names))) for day, names in changes.items())


def _provisional(policy, region: str) -> list[dict]:
    out = []
    for name, layers in policy.definitions.items():
        for layer in layers:
            for v in layer.versions:
                if v.cite.status in ("proposal", "provisional"):
                    out.append({"label": layer.label(_lang()), "version": v, "region": layer.region,
                                "region_name": region_name(layer.region, _lang()),
                                "condition": condition_text(policy, v.condition),
                                "figure": figure_text(v.figure, layer.unit)})
    return sorted(out, key=lambda p: (p["version"].span.file, p["version"].span.line))


def condition_text(policy, condition) -> str | None:
    """A version's condition as a reader of the page's language reads it (户籍类型 = 农村)."""
    if not condition:
        return None
    fact, value = condition
    return f"{fact_label(policy, fact)} = {choice_label(policy, fact, value)}"


@pages.app_template_global("fact_label")
def fact_label(policy, fact: str) -> str:
    found = policy.facts.get(fact)
    if found is None:
        return fact
    return (found.labels.en if _lang() == "en" else found.labels.zh) or found.labels.zh or fact


@pages.app_template_global("choice_label")
def choice_label(policy, fact: str, value: str) -> str:
    """One of a fact's choices (rural → 农村), or of a group's positions (secretary → 书记/主任), in the page's
    language; the value itself in English or where no label is declared."""
    if _lang() == "en":
        return value
    found = policy.facts.get(fact)
    labels = dict(found.choices) if found is not None else dict(policy.groups[fact].choice_labels) \
        if fact in policy.groups else {}
    return labels.get(value) or value


@pages.app_template_filter("yuan")
def yuan_filter(value, unit: str = "元") -> str:
    """Money with its unit (issue 32: "money with its unit on the page"): 110.00 元, 110.00 元/月."""
    if value is None or value == "":
        return "—"
    return f"{value} {unit}" if _lang() == "zh" else f"{value} {UNIT_WORDS.get(unit, unit)}"


UNIT_WORDS = {"元": "yuan", "元/月": "yuan/month", "元/年": "yuan/year"}


@pages.app_template_filter("code_spans")
def code_spans(text: str) -> Markup:
    """A page text with its `backticked` names (headers, commands, variables) set as code, the rest escaped."""
    parts = str(text).split("`")
    return Markup("".join(f"<code>{escape(part)}</code>" if i % 2 else str(escape(part)) for i, part in enumerate(parts)))


@pages.app_template_filter("money")
def money_filter(value) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)):,.2f}"


@pages.app_template_global("percent")
def percent_text(share) -> str:
    """A share (0.5) as an officer writes it (50%)."""
    return share_text(Decimal(share))


@pages.app_template_filter("policy_link")
def policy_link(source: dict | None, lang: str = "zh") -> str | None:
    if not source:
        return None
    parts = source["file"].split("/")
    if len(parts) < 3:
        return None
    suffix = "?lang=en" if lang == "en" else ""
    return f"/policies/{parts[1]}/{parts[2]}{suffix}#L{source['line']}"


def render_page_error(status: int, detail: str):
    """An error page in the page's language: the status in words, never Werkzeug's English sentence."""
    t = translator(_lang())
    said = t(f"page_error_{status}")
    return _render("error.html", status=status, detail=said if said != f"page_error_{status}" else
                   (detail if _lang() == "en" else t("page_error")))


PROBLEM_STATUSES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 500, 503)


@pages.get("/problems/<int:status>")
def problem_page(status: int):
    """What a problem of this status means and what to do: the page each problem's `type` names."""
    if status not in PROBLEM_STATUSES:
        abort(404)
    return _render("problem.html", status=status, statuses=PROBLEM_STATUSES)
