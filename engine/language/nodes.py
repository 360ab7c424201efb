"""The policy as written: one frozen node class per construct of grammar/policy.lark.

Spans are attributes, not fields: two trees parsed from differently laid-out text
compare equal.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from engine.language.source import Span

_span = attrs.field(eq=False, default=None)


@attrs.frozen
class Labels:
    """Display names: Chinese first (the default language), English second."""

    zh: str | None = None
    en: str | None = None


@attrs.frozen
class Citation:
    """`cite 国发2014_8 provisional "note"`: the source and, optionally, a weaker status."""

    source: str
    status: str | None = None
    note: str | None = None
    span: Span = _span


@attrs.frozen
class Atom:
    """One word of a table cell or a version's figure; `kind` is its terminal."""

    kind: str  # NAME NUMBER DATE BAND STRING PERCENT DASH
    text: str
    span: Span = _span


@attrs.frozen
class Row:
    cells: tuple[tuple[Atom, ...], ...]
    span: Span = _span


@attrs.frozen
class Period:
    """`from A until B` (both included); `always` has neither bound."""

    start: dt.date | None
    end: dt.date | None
    span: Span = _span


@attrs.frozen
class Condition:
    """`for hukou.type = rural` on a version: it applies only to matching persons."""

    fact: str
    value: str
    span: Span = _span


@attrs.frozen
class Version:
    period: Period
    condition: Condition | None
    figure: Atom | None
    citation: Citation | None
    rows: tuple[Row, ...]
    span: Span = _span
    step: Atom | None = None  # a range's step (`1000-9000 step 100`)


@attrs.frozen
class Clause:
    """A header clause: kind is unit, paid_by, by, per, for or cap; args are its words."""

    kind: str
    args: tuple[str, ...]
    span: Span = _span


@attrs.frozen
class Block:
    """Any dated definition: value, tiers, subsidy, floor, daijiao, reward, bonus, early_start, table."""

    kind: str
    name: str
    labels: Labels
    clauses: tuple[Clause, ...]
    versions: tuple[Version, ...]
    span: Span = _span

    def clause(self, kind: str) -> Clause | None:
        return next((c for c in self.clauses if c.kind == kind), None)


@attrs.frozen
class Region:
    name: str
    labels: Labels
    extends: str | None
    span: Span = _span


@attrs.frozen
class Source:
    """A legal or documentary source, declared once and cited by name."""

    name: str
    labels: Labels
    number: str | None
    issued: dt.date | None
    status: str | None
    seed: str | None
    url: str | None
    span: Span = _span
    status_span: Span | None = attrs.field(eq=False, default=None)


@attrs.frozen
class Group:
    """A canonical group id (domain.md §1) and, for some, a required key with its choices."""

    name: str
    labels: Labels
    required_key: str | None = None
    choices: tuple[str, ...] = ()
    span: Span = _span
    choice_labels: tuple[tuple[str, str | None], ...] = ()  # (value, its Chinese label or None)


@attrs.frozen
class Fact:
    """A declared person fact: its type (date, text, money, …) or its closed list of choices."""

    name: str
    labels: Labels
    type: str
    choices: tuple[tuple[str, str | None], ...] = ()
    required: bool = False
    required_unless: str | None = None
    span: Span = _span


@attrs.frozen
class Component:
    """A named formula: a monthly pension component (`component`) or a helper (`let`)."""

    kind: str
    name: str
    labels: Labels
    expr: "Expr"
    citation: Citation | None
    when: "Expr | None"
    paid_while: str
    paid_by: str | None
    period: Period | None = None
    span: Span = _span
    while_span: Span | None = _span  # where `while …` and `paid by …` are written, for their diagnostics
    paid_by_span: Span | None = _span


@attrs.frozen
class Number:
    """A figure in a formula; `percent` when written as a percentage (50% is held as 0.5)."""

    value: Decimal
    span: Span = _span
    percent: bool = attrs.field(eq=False, default=False)


@attrs.frozen
class Ref:
    name: str
    span: Span = _span


@attrs.frozen
class Call:
    function: str
    args: tuple["Expr", ...]
    span: Span = _span


@attrs.frozen
class Binary:
    """Arithmetic (+ - * /), comparison (< <= > >= == !=) or logic (and, or)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span = _span


@attrs.frozen
class Unary:
    op: str  # "-" or "not"
    operand: "Expr"
    span: Span = _span


Expr = Number | Ref | Call | Binary | Unary
Definition = Region | Source | Group | Fact | Block | Component


@attrs.frozen
class PolicyFile:
    name: str
    definitions: tuple[Definition, ...]
