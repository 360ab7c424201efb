"""The explanation: a tree of steps, built by the `engine.core.explain.Trace` recorder (rendered by `engine.core.render`)."""
from __future__ import annotations

import attrs

from engine.language.model import Cite
from engine.language.source import Span


@attrs.frozen
class Step:
    """One figure of a determination and why: formula with numbers, policy line, citation, period.

    `window` is not shown: the period around the as-of date that this step's as-of inputs bound
    (None = nothing bounds it); the recorder uses it for the `in_force` of the steps above.
    """

    id: str
    label: str
    value: str
    formula: str | None = None
    span: Span | None = None
    cite: Cite | None = None
    in_force: dict | None = None
    children: tuple["Step", ...] = attrs.field(default=(), repr=False)  # shared steps: a repr must not walk them
    window: tuple | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def status(self) -> str | None:
        return self.cite.status if self.cite else None
