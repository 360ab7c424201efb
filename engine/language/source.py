"""Policy source text and positions in it; knows nothing else of the engine."""
from __future__ import annotations

import unicodedata

import attrs


@attrs.frozen
class Span:
    """Where a piece of policy text is: repo-relative file, 1-based line and column."""

    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column}


@attrs.frozen
class SourceFile:
    """One policy file as read: its display name (repo-relative path) and NFC text."""

    name: str
    text: str

    @classmethod
    def from_text(cls, name: str, text: str) -> "SourceFile":
        # Officers paste from Word and WeChat: drop a BOM, unify line ends, and
        # NFC-normalise so that the same Chinese name always compares equal.
        text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        return cls(name=name, text=unicodedata.normalize("NFC", text))

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")
        return lines[line - 1] if 1 <= line <= len(lines) else ""

    def excerpt(self, span: Span) -> str:
        """The source line and a caret under the column, CJK-width aware."""
        text = self.line_text(span.line)
        prefix = text[: max(span.column - 1, 0)]
        width = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in prefix)
        return f"{text}\n{' ' * width}^"
