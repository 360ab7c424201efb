"""Diagnostics about policy text, and the problems reported about a request.

This module formats; callers decide what went wrong.
"""
from __future__ import annotations

import attrs

from engine.source import SourceFile, Span


@attrs.frozen
class Diagnostic:
    """One problem in a policy file: a stable code, a message, where, and how to fix it."""

    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: str = "error"

    def format(self, source: SourceFile | None = None) -> str:
        head = f"{self.span}: {self.severity}[{self.code}]: {self.message}"
        parts = [head]
        if source is not None and source.line_text(self.span.line):
            parts.append(source.excerpt(self.span))
        if self.hint:
            parts.append(f"提示 hint: {self.hint}")
        return "\n".join(parts)

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line or self.span.line,
            "end_column": self.span.end_column or self.span.column + 1,
            "hint": self.hint,
        }


class PolicyError(Exception):
    """Policy text that cannot be used; holds every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column))
        super().__init__("\n".join(f"{d.span}: {d.code}: {d.message}" for d in self.diagnostics))


@attrs.frozen
class FieldError:
    """One offending field of a request, by JSON pointer (RFC 6901)."""

    pointer: str
    detail: str

    def as_dict(self) -> dict:
        return {"pointer": self.pointer, "detail": self.detail}


TITLES = {
    400: "请求格式错误 Malformed request",
    401: "需要登录 Authentication required",
    403: "无权操作 Forbidden",
    404: "未知地区 Unknown region",
    409: "冲突 Conflict",
    413: "请求过大 Request too large",
    422: "请求内容无效 Invalid request",
}


class Problem(Exception):
    """A bad request, rendered as an RFC 9457 problem object."""

    def __init__(self, status: int, detail: str, errors: list[FieldError] | None = None, extra: dict | None = None):
        self.status = status
        self.detail = detail
        self.errors = list(errors or [])
        self.extra = dict(extra or {})  # more members of the problem object (RFC 9457 allows extensions)
        super().__init__(detail)

    def as_dict(self) -> dict:
        return {
            "type": f"https://jubao.example/problems/{self.status}",
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
            "errors": [e.as_dict() for e in self.errors],
            **self.extra,
        }


def escape_pointer_token(token: str) -> str:
    token = str(token)
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*parts: object) -> str:
    return "".join("/" + escape_pointer_token(str(p)) for p in parts)
