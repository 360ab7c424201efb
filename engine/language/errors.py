"""What can go wrong: diagnostics about policy text, and the errors the engine raises about its input.

The engine names the fields and the fix; the front ends (CLI, API, pages, case runner) choose how to
report them (`engine.core.problem` renders them as RFC 9457 problem objects).
"""
from __future__ import annotations

import attrs

from engine.language.source import SourceFile, Span
from engine.language.text import Text, in_lang


@attrs.frozen
class Diagnostic:
    """One problem in a policy file: a stable code, a message, where, and how to fix it.

    `message` and `hint` are Chinese (the officers' language); `message_en` and `hint_en` the same in English
    (engine.language.catalogue holds both). A diagnostic built with one text only shows it in both languages.
    """

    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: str = "error"
    message_en: str | None = None
    hint_en: str | None = None

    def in_lang(self, lang: str) -> "Diagnostic":
        """The diagnostic as shown in `lang` (zh: as it is; en: the English texts in message and hint)."""
        if lang != "en":
            return self
        return attrs.evolve(self, message=self.message_en or self.message,
                            hint=self.hint_en if self.hint_en is not None else self.hint)

    def format(self, source: SourceFile | None = None, lang: str = "zh") -> str:
        shown = self.in_lang(lang)
        head = f"{self.span}: {self.severity}[{self.code}]: {shown.message}"
        parts = [head]
        if source is not None and source.line_text(self.span.line):
            parts.append(source.excerpt(self.span))
        if shown.hint:
            parts.append(f"{'hint' if lang == 'en' else '提示'}: {shown.hint}")
        return "\n".join(parts)

    def as_dict(self, lang: str = "zh") -> dict:
        shown = self.in_lang(lang)
        return {
            "severity": self.severity,
            "code": self.code,
            "message": shown.message,
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line or self.span.line,
            "end_column": self.span.end_column or self.span.column + 1,
            "hint": shown.hint,
        }


class PolicyError(Exception):
    """Policy text that cannot be used; holds every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column))
        super().__init__("\n".join(f"{d.span}: {d.code}: {d.message}" for d in self.diagnostics))


@attrs.frozen
class FieldError:
    """One offending field of a request, by JSON pointer (RFC 6901).

    `detail` is a catalogue Text (engine.language.catalogue.say), shown in Chinese unless English is asked for.
    """

    pointer: str = attrs.field(converter=str)  # a str, or anything that writes itself out as one
    detail: Text | str

    def as_dict(self, lang: str = "zh") -> dict:
        return {"pointer": self.pointer, "detail": in_lang(self.detail, lang)}


class InvalidInput(Exception):
    """Input the engine cannot evaluate, with every offending field by JSON pointer.

    `malformed` marks input of the wrong shape (text that is not JSON, a string where a list belongs),
    as opposed to well-formed values that are not valid. Front ends choose the status they report.
    `detail` is a catalogue Text (Chinese and English); str() gives the Chinese.
    Instances pickle: batch workers send them between processes.
    """

    def __init__(self, detail: Text | str, errors=(), malformed: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.malformed = malformed

    def __reduce__(self):
        return (type(self), (self.detail, self.errors, self.malformed))


class InvalidPerson(InvalidInput):
    """A PERSON that does not validate against the region's declared facts and groups."""


class InvalidRecord(InvalidInput):
    """Contribution records, or facts they need, that do not fit the policy in force on their dates."""


class UnknownRegion(Exception):
    """A region with no folder of policy files."""

    def __init__(self, region: str, known=()):
        self.region = region
        self.known = tuple(known)
        super().__init__(f"unknown region '{region}'; known regions: {', '.join(self.known)}")

    def __reduce__(self):
        return (type(self), (self.region, self.known))


def escape_pointer_token(token: str) -> str:
    token = str(token)
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*parts: object) -> str:
    joined = "\0".join(map(str, parts))
    if "~" in joined or "/" in joined:  # rare: escape token by token (RFC 6901)
        return "".join("/" + escape_pointer_token(str(p)) for p in parts)
    return "/" + joined.replace("\0", "/") if parts else ""
