"""The Flask application factory: settings, registry, decision log, error handlers, access log."""
from __future__ import annotations

import logging
import sys
import time

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from engine import InvalidInput, PolicyError, Problem, Registry, UnknownRegion, problem_of
from engine.language import say
from web.access import enforce
from web.api import api
from web.auth import CookieSessions
from web.bodies import SECURITY_HEADERS, HttpProblem, Response, json_response, problem_response
from web.codec import dumps_text
from web.decisions import DecisionLog, DecisionLogUnavailable, make_engine
from web.lifecycle import lifecycle
from web.live import LivePolicies
from web.openapi import openapi_document
from web.pages import pages, render_page_error
from web.settings import Settings
from web.store import Store

access_log = logging.getLogger("jubao.access")
API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/openapi.json")
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def create_app(overrides: dict | None = None, registry: Registry | None = None) -> Flask:
    """Application factory: embedded defaults (policies/, SQLite in ./data) unless told otherwise."""
    settings = Settings.load(overrides)
    app = Flask(__name__)
    app.response_class = Response  # every response made with the security headers (web.bodies.Response)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.config["JUBAO_MAX_BATCH"] = settings.max_batch
    app.config["JUBAO_SETTINGS"] = settings
    app.secret_key = settings.secret_key()
    app.session_interface = CookieSessions()
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    store = app.extensions["jubao.store"] = Store(engine)
    live = app.extensions["jubao.live"] = LivePolicies(store, settings.policy_dir, settings.data_dir / "live.stamp")
    # The policy folder seeds the store; from then on the store's live versions are what is served.
    live.seed(registry or Registry(settings.policy_dir))
    live.current()  # prepare once, evaluate many: parse and check every region now
    if settings.decision_log:
        app.extensions["jubao.decisions"] = DecisionLog(engine)
    engine.dispose()  # no pooled connection may cross a fork of the server
    # One access table for every route (web/access.py), on this app only: the blueprints are module-level
    # and shared by every app of the process.
    app.before_request(_start_and_enforce)
    app.register_blueprint(api)
    app.register_blueprint(lifecycle)
    app.register_blueprint(pages)
    app.add_url_rule("/openapi.json", "openapi", lambda: json_response(openapi_document(app)))
    _error_handlers(app)
    _access_log(app)
    return app


def _start_and_enforce():
    """One before-request hook (each costs Flask a sync/async check per request): the access log's clock starts,
    then the access table decides (web/access.py)."""
    g.started = time.perf_counter()
    return enforce()


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def on_problem(problem: Problem):
        return problem_response(problem)

    @app.errorhandler(InvalidInput)
    @app.errorhandler(UnknownRegion)
    @app.errorhandler(PolicyError)  # a region whose policy does not check: 503 with its diagnostics
    def on_engine_error(exc: Exception):
        return problem_response(problem_of(exc))

    @app.errorhandler(HTTPException)
    def on_http(exc: HTTPException):
        status = exc.code or 500
        if not request.path.startswith(API_PREFIXES):
            return render_page_error(status, exc.description or exc.name), status
        detail = {404: say("http.no-endpoint"), 405: say("http.method"),
                  413: say("http.body-too-large", limit=app.config["MAX_CONTENT_LENGTH"])}
        response = problem_response(HttpProblem(status, detail.get(status) or say(
            "http.other", status=status, name=exc.name, description=exc.description or exc.name)))
        if status == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(DecisionLogUnavailable)
    def on_log_unavailable(exc: DecisionLogUnavailable):
        app.logger.error("decision log unavailable: %s", exc)
        return problem_response(HttpProblem(503, say("http.log-unavailable"),
                                            extra={"retry_after": 5}))

    @app.errorhandler(Exception)
    def on_crash(exc: Exception):
        app.logger.exception("unhandled error")
        return problem_response(HttpProblem(500, say("http.internal")))


_OWN_HANDLER: logging.StreamHandler | None = None  # the access log's handler as this module set it up


def _access_log(app: Flask) -> None:
    global _OWN_HANDLER
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
        _OWN_HANDLER = handler

    @app.after_request
    def finish(response):  # one hook rather than two: Flask checks each for being a coroutine, every request
        _security_headers(response)
        _log_request(response)
        return response


def _security_headers(response) -> None:
    headers = response.headers
    if not isinstance(response, Response):  # made by other code than the app's response class
        for name, value in SECURITY_HEADERS:
            headers.setdefault(name, value)
    if (response.content_type or "").startswith("text/html"):
        # Everything the pages use is served from here (no CDN); inline scripts and styles are the pages' own.
        headers.setdefault("Content-Security-Policy", CSP)


def _log_request(response) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    request_, request_g = request._get_current_object(), g._get_current_object()  # see web.api.registry
    entry = {"time": _clock_text(), "method": request_.method, "path": request_.path,
             "status": response.status_code, "duration_ms": round((time.perf_counter() - request_g.get("started",
             time.perf_counter())) * 1000, 2), "remote": request_.remote_addr,
             "bytes": response.calculate_content_length()}
    decision_ids = request_g.get("decision_ids")
    if decision_ids:
        entry["decision_ids"] = decision_ids[:10]
    _write_access_line(dumps_text(entry))  # orjson: a sixth of json.dumps's time, the same line


def _write_access_line(line: str) -> None:
    """The line to the access log. With only this module's handler on it, as set up (no filters, its message-only
    format), the line is written to the handler's stream directly, under its lock, as its emit would: a LogRecord
    with the caller's frame looked up, formatted back to the message, cost more than the rest of the access line
    (callgrind: 0.16 M of 4.16 M instructions per answer went to the access log). Any other setup — another
    handler, a filter, a changed format — goes through logging as before."""
    own = _OWN_HANDLER
    if (own is not None and access_log.handlers == [own] and not access_log.filters and not own.filters
            and own.level <= logging.INFO and own.formatter is not None and own.formatter._fmt == "%(message)s"):
        try:
            with own.lock:
                own.stream.write(line + own.terminator)
                own.stream.flush()
            return
        except Exception:  # a closed or broken stream: logging reports it its own way
            pass
    access_log.info(line)


_clock = (0, "")


def _clock_text() -> str:
    """The access line's local time to the second, formatted once a second rather than once a request."""
    global _clock
    now = int(time.time())
    if _clock[0] != now:
        _clock = (now, time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now)))
    return _clock[1]
