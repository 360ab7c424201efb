"""Reading JSON request bodies and writing JSON and problem+json responses, for every blueprint."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import flask
from flask import current_app, request

from engine import Problem
from engine.language import FieldError, Text, pointer, say
from web.codec import dumps
from web.words import problem_dict

NOWHERE = Text("", "")
_DECODER = json.JSONDecoder(parse_float=Decimal)  # decimals read exactly; made once (json.loads makes one a call)
POLICY_FILE_NAME = re.compile(r"[A-Za-z0-9_\-]+\.policy")  # ASCII, matched whole (no "a.policy\n")
TEST_FILE_NAME = re.compile(r"tests/[A-Za-z0-9_\-]+\.yaml")  # a region's test cases, the same rule


SECURITY_HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                    ("Referrer-Policy", "same-origin"))


class Response(flask.Response):
    """Every response of the app (`app.response_class`: views, errors, redirects, static files) is made with the
    security headers, added once here rather than looked up one by one after each request (Werkzeug's
    `Headers.setdefault` scans and lowercases every header for each: 3% of an answer's instructions)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        headers = self.headers
        given = len(args) > 2 or kwargs.get("headers")
        for name, value in SECURITY_HEADERS:
            if not given or name not in headers:  # headers given by the caller win
                headers.add(name, value)


class HttpProblem(Problem):
    """A problem only the HTTP service has (who is asking, what state the store is in, request size)."""

    TITLES = {**Problem.TITLES,
              401: "需要登录 Authentication required",
              403: "无权操作 Forbidden",
              405: "方法不允许 Method not allowed",
              409: "冲突 Conflict",
              413: "请求过大 Request too large",
              415: "不支持的媒体类型 Unsupported media type"}


def json_response(data, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(dumps(data), status=status, content_type=f"{content_type}; charset=utf-8")


def encoded_json_response(body: bytes, status: int = 200, content_type: str = "application/json") -> Response:
    """`json_response` for a body already encoded by web.codec.dumps."""
    return Response(body, status=status, content_type=f"{content_type}; charset=utf-8")


def request_lang() -> str:
    """The language the caller asked for: English with ?lang=en, else Chinese (the officers' language)."""
    return "en" if request.args.get("lang") == "en" else "zh"


def problem_response(problem: Problem) -> Response:
    """The problem+json response in the request's language (?lang=en): its title, detail and each error's detail;
    its `type` the page of this service that explains it; a region's fields named by their labels (web.words)."""
    response = json_response(answered_problem(problem), problem.status, "application/problem+json")
    if problem.status == 503 and "retry_after" in problem.extra:
        response.headers["Retry-After"] = str(problem.extra["retry_after"])
    return response


def answered_problem(problem: Problem) -> dict:
    """The problem object as this request is answered (web.words.problem_dict)."""
    request_ = request._get_current_object()
    return problem_dict(problem, request_lang(), request_.url_root, _request_policy(request_))


def _request_policy(request_):
    """The live policy of the region the request names, if any (its facts' labels name the fields)."""
    region = (request_.view_args or {}).get("region")
    live = current_app.extensions.get("jubao.live") if region else None
    if live is None:
        return None
    try:
        registry = live.current()
        return registry.policy(region) if region in registry.sources else None
    except Exception:  # a region whose policy does not check, a store away: the ids stay as they are
        return None


def json_body():
    limit = current_app._get_current_object().config["MAX_CONTENT_LENGTH"]
    request_ = request._get_current_object()  # not through the proxy at each use (see web.api.registry)
    kind = request_.mimetype
    if kind and kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        # a body said to be something else (text/plain, a form) is not read as JSON: 415 names the type to send
        raise HttpProblem(415, say("http.media-type", media=kind))
    length = request_.content_length
    if length is not None:
        if length > limit:
            raise HttpProblem(413, say("http.body-too-large", limit=limit))
        # the server's input read for the length announced, without Werkzeug's limited stream around it (its
        # Python-level reads cost more than decoding the JSON)
        raw = request_.input_stream.read(length) if length else b""
    elif request_.environ.get("wsgi.input_terminated"):
        # A chunked body has no Content-Length to check (and Werkzeug's limited stream would cut it silently):
        # read one byte past the limit from the server's terminated input itself.
        raw = request_.input_stream.read(limit + 1)
    else:
        raw = request_.stream.read(limit + 1)
    if len(raw) > limit:
        raise HttpProblem(413, say("http.body-too-large", limit=limit))
    try:
        body = _DECODER.decode(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = say("http.json-where", line=exc.lineno, column=exc.colno) if isinstance(exc, json.JSONDecodeError) \
            else NOWHERE
        raise HttpProblem(400, say("http.body-not-json", where=where), [FieldError("", say("http.malformed-json"))]) \
            from None
    except RecursionError:
        raise HttpProblem(400, say("http.body-too-deep"), [FieldError("", say("http.json-too-deep"))]) from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise HttpProblem(400, say("http.body-value", reason=str(exc)[:120]),
                          [FieldError("", say("http.number-too-long"))]) from None
    if b"\\u" in raw:  # an escaped lone surrogate (\ud800) is no text: it cannot be stored or answered
        try:
            json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
        except UnicodeEncodeError:
            raise HttpProblem(400, say("http.body-surrogate"), [FieldError("", say("http.bad-unicode-escape"))]) \
                from None
        except RecursionError:  # nested deeper than the encoder follows (the decoder took it): as too deep
            raise HttpProblem(400, say("http.body-too-deep"), [FieldError("", say("http.json-too-deep"))]) from None
    return body


def object_body(allowed: set[str]) -> tuple[dict, list[FieldError], list[FieldError]]:
    """The body as a JSON object: (body, wrong-type errors so far, invalid-value errors so far)."""
    body = json_body()
    if not isinstance(body, dict):
        raise HttpProblem(400, say("http.body-not-object"), [FieldError("", say("http.expected-object"))])
    unknown = [FieldError(f"/{k}", say("http.unknown-key", key=k, allowed=", ".join(sorted(allowed))))
               for k in body if k not in allowed]
    return body, [], unknown


def raise_if(type_errors: list, errors: list) -> None:
    """400 when any value had the wrong JSON type (only those listed), else 422 with every invalid field."""
    if type_errors:
        raise HttpProblem(400, say("person.wrong-types"), type_errors)
    if errors:
        raise HttpProblem(422, say("http.request-invalid"), errors)


def policy_files(body: dict, type_errors: list, errors: list, tests: bool = False) -> dict:
    """`files` of a body (name → policy source, and with `tests` also tests/<name>.yaml → test cases); raises
    with every problem of the body found so far."""
    files = body.get("files")
    if files is None:
        errors.append(FieldError("/files", say("http.files-required")))
    elif not isinstance(files, dict):
        type_errors.append(FieldError("/files", say("http.files-type")))
    else:
        for name, text in files.items():
            where = pointer("files", name)
            if not isinstance(text, str):
                type_errors.append(FieldError(where, say("http.file-text-type")))
            elif not POLICY_FILE_NAME.fullmatch(name) and not (tests and TEST_FILE_NAME.fullmatch(name)):
                errors.append(FieldError(where, say("http.file-or-test-name" if tests else "http.file-name",
                                                    name=name)))
    raise_if(type_errors, errors)
    return files
