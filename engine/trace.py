"""The explanation: a tree of steps built during evaluation (rendered by `engine.render`)."""
from __future__ import annotations

import attrs

from engine.model import Cite, Version
from engine.source import Span


@attrs.frozen
class Step:
    """One figure of a determination and why: formula with numbers, policy line, citation, period."""

    id: str
    label: str
    value: str
    formula: str | None = None
    span: Span | None = None
    cite: Cite | None = None
    in_force: dict | None = None
    children: tuple["Step", ...] = ()

    @classmethod
    def of_version(cls, id: str, label: str, value: str, version: Version, formula: str | None = None,
                   children: tuple = ()) -> "Step":
        return cls(id, label, value, formula, version.span, version.cite, version.in_force, tuple(children))

    @property
    def status(self) -> str | None:
        return self.cite.status if self.cite else None
