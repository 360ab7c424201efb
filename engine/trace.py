"""The explanation: a tree of steps built during evaluation, and its renderings."""
from __future__ import annotations

import attrs

from engine.model import STATUS_LABELS, Cite, Version
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

    def as_dict(self) -> dict:
        out = {"id": self.id, "label": self.label, "value": self.value, "formula": self.formula,
               "source": self.span.as_dict() if self.span else None,
               "citation": self.cite.text if self.cite else None,
               "in_force": self.in_force, "status": self.status,
               "children": [c.as_dict() for c in self.children]}
        return out


def render_text(step: Step, lang: str = "zh") -> str:
    """An indented "why" tree a caseworker can read."""
    lines: list[str] = []
    _render(step, "", "", lines, lang)
    return "\n".join(lines)


def _render(step: Step, lead: str, child_lead: str, lines: list[str], lang: str) -> None:
    mark = ""
    if step.status in ("proposal", "provisional"):
        mark = f" 【{STATUS_LABELS[step.status]}】" if lang == "zh" else f" [{step.status}]"
    where = f"  ← {step.span.file}:{step.span.line}" if step.span else ""
    lines.append(f"{lead}{step.label} = {step.value}{mark}{where}")
    detail = child_lead + ("│ " if step.children else "  ")
    if step.formula:
        lines.append(f"{detail}  {step.formula}")
    if step.cite:
        period = ""
        if step.in_force and (step.in_force.get("from") or step.in_force.get("to")):
            period = f"（{step.in_force.get('from') or '…'} 起" + (f"，至 {step.in_force['to']}" if step.in_force.get("to") else "") + "）" \
                if lang == "zh" else f" (from {step.in_force.get('from') or '…'}" + (f" until {step.in_force['to']}" if step.in_force.get("to") else "") + ")"
        lines.append(f"{detail}  {'依据' if lang == 'zh' else 'source'}: {step.cite.text}{period}")
    for i, child in enumerate(step.children):
        last = i == len(step.children) - 1
        _render(child, child_lead + ("└ " if last else "├ "), child_lead + ("  " if last else "│ "), lines, lang)
