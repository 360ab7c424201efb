"""The RFC 9457 problem object, and the status each engine error is reported with.

For the front ends (the CLI, the case runner, batch error rows; `web` builds on it): the evaluation
itself raises `engine.language.errors` exceptions and never an HTTP status.
"""
from __future__ import annotations

from engine.language.catalogue import say
from engine.language.errors import Diagnostic, FieldError, InvalidInput, PolicyError, UnknownRegion
from engine.language.text import Text, in_lang


class Problem(Exception):
    """A bad request, rendered as an RFC 9457 problem object.

    `detail` and each error's detail are catalogue Texts: `as_dict()` writes them in Chinese, `as_dict("en")`
    in English (the title carries both languages already).
    """

    TITLES = {
        400: "请求格式错误 Malformed request",
        404: "未找到 Not found",
        422: "请求内容无效 Invalid request",
        500: "内部错误 Internal error",
        503: "暂不可用 Unavailable",
    }

    def __init__(self, status: int, detail: Text | str, errors: list[FieldError] | None = None, extra: dict | None = None,
                 title: str | None = None):
        self.status = status
        self.detail = detail
        self.errors = list(errors or [])
        self.extra = dict(extra or {})  # more members of the problem object (RFC 9457 allows extensions)
        self.title = title or self.TITLES.get(status, "Error")  # what went wrong, by kind (a 404 of what)
        super().__init__(detail)

    def __reduce__(self):
        return (type(self), (self.status, self.detail, self.errors, self.extra, self.title))

    def as_dict(self, lang: str = "zh") -> dict:
        return {
            "type": f"https://jubao.example/problems/{self.status}",
            "title": self.title,
            "status": self.status,
            "detail": in_lang(self.detail, lang),
            "errors": [e.as_dict(lang) for e in self.errors],
            **{k: _shown(v, lang) for k, v in self.extra.items()},
        }


def _shown(value, lang: str):
    """An extension member as written in `lang`: a Text in that language, diagnostics as their dicts."""
    if isinstance(value, Text):
        return in_lang(value, lang)
    if isinstance(value, list) and value and all(isinstance(v, Diagnostic) for v in value):
        return [d.as_dict(lang) for d in value]
    return value


def problem_of(error: Exception) -> Problem:
    """The problem object a front end reports for an engine error (contract.md's statuses)."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, InvalidInput):
        return Problem(400 if error.malformed else 422, error.detail, error.errors)
    if isinstance(error, UnknownRegion):
        return Problem(404, say("problem.unknown-region", region=error.region, known=", ".join(error.known)),
                       title="未知地区 Unknown region")
    if isinstance(error, PolicyError):
        return Problem(503, say("problem.policy-not-clean"), extra={"diagnostics": list(error.diagnostics)})
    raise TypeError(f"not an engine error: {type(error).__name__}")


ENGINE_ERRORS = (InvalidInput, UnknownRegion, PolicyError)  # what a front end reports, by problem_of
