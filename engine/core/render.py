"""Renderings of a `Decision`: contract.md's DETERMINATION JSON, the explanation tree as JSON, and
the text a caseworker reads (Chinese by default, English with lang="en").

Used by the CLI, the API and the pages; nothing here computes a figure.
"""
from __future__ import annotations

from engine.core.decision import Component, ContributionRow, Decision
from engine.core.memo import Memo
from engine.core.money import fmt
from engine.core.trace import Step
from engine.language.model import LEVEL_LABELS, STATUS_LABELS, UNCONFIRMED

STATUS_WORDS = {"receiving": "领取中", "contributing": "缴费中", "not_eligible": "不符合领取条件", "deceased": "已死亡"}
# The explanation is a tree (contract.md) over steps that a policy may share many times over (a `let` used
# twice by each of twenty lets is 2^20 paths): past this many nodes it ends in a node that says it was cut.
MAX_EXPLANATION_NODES = 100_000


# ── JSON ────────────────────────────────────────────────────────────────────
def decision_json(d: Decision, max_nodes: int = MAX_EXPLANATION_NODES) -> dict:
    """The DETERMINATION of contract.md (with `explanation` when the decision carries one, at most
    `max_nodes` nodes of it)."""
    e = d.eligibility
    out = {
        "region": d.region,
        "policy_version": d.policy_version,
        "as_of": d.as_of.isoformat(),
        "person_id": d.person_id,
        "status": d.status,
        "eligibility": {
            "eligible": e.eligible,
            "required_years": e.required_years,
            "counted_years": e.counted_years,
            "continuous_years": e.continuous_years,
            "pension_start_date": e.pension_start_date.isoformat() if e.pension_start_date else None,
            "reasons": list(e.reasons),
        },
        "monthly_pension": {
            "total": fmt(d.monthly_pension.total),
            "components": [component_json(c) for c in d.monthly_pension.components],
        },
        "contributions": [row_json(r) for r in d.contributions],
        "account": {"balance": fmt(d.account.balance),
                    "balance_at_pension_start": fmt(d.account.balance_at_pension_start)},
        "death": {"funeral_grant": fmt(d.death.funeral_grant),
                  "inheritable_balance": fmt(d.death.inheritable_balance)},
        "tier_options": [{"tier": fmt(t.tier), "personal": fmt(t.personal), "government_paid": fmt(t.government_paid),
                          "subsidy": fmt(t.subsidy)} for t in d.tier_options],
        "uses_unconfirmed": [{"value": u.value, "status": u.status, "used_by": list(u.used_by), "file": u.file,
                              "line": u.line} for u in d.uses_unconfirmed],
    }
    if d.contribution_range is not None:
        out["contribution_range"] = {"from": fmt(d.contribution_range[0]), "to": fmt(d.contribution_range[1])}
    if d.explanation is not None:
        out["explanation"] = explanation_json(d.explanation, max_nodes)
    return out


def component_json(c: Component) -> dict:
    out = {"id": c.id, "amount": fmt(c.amount.total)}
    levels = {level: fmt(v) for level, v in c.amount.by_level if v}
    # contract.md: the basic pension always shows its parts; the account pension is the person's own money.
    if c.id == "basic_pension" or (levels and c.id != "account_pension"):
        out["by_level"] = levels
    return out


ROWS_RENDERED = Memo()  # a shared row's id → (the row, its JSON): each entry holds its row, so an id is never another's


def row_json(row: ContributionRow) -> dict:
    """A contribution row as contract.md's JSON. Rows are shared between answers (engine.core.one_person keeps them
    beside the figures the price memo shares), so a row is rendered once, kept in ROWS_RENDERED, and each answer gets
    its own dicts."""
    hit = ROWS_RENDERED.get(id(row))
    if hit is not None and hit[0] is row:
        made = hit[1]
    else:
        made = _row_json(row)  # a frozen row: its fields never change under the text
        ROWS_RENDERED.put(id(row), (row, made))
    out = dict(made)
    subsidy = made["subsidy"]
    out["subsidy"] = {"total": subsidy["total"], "by_level": dict(subsidy["by_level"])}
    if "government_paid_by_level" in made:
        out["government_paid_by_level"] = dict(made["government_paid_by_level"])
    return out


def _row_json(row: ContributionRow) -> dict:
    out = {"year": row.year, "tier": fmt(row.tier), "kind": row.kind, "date": row.date.isoformat(),
           "personal": fmt(row.personal), "government_paid": fmt(row.government_paid),
           "subsidy": {"total": fmt(row.subsidy.total), "by_level": {l: fmt(v) for l, v in row.subsidy.by_level}},
           "collective": fmt(row.collective), "credited": fmt(row.credited), "counted": row.counted}
    if row.government_by_level:  # contract.md: beside the unchanged total, where the region states who pays
        out["government_paid_by_level"] = {level: fmt(v) for level, v in row.government_by_level}
    for name, amount in row.rewards:
        out[name] = fmt(amount)
    return out


def explanation_json(step: Step, max_nodes: int = MAX_EXPLANATION_NODES) -> dict:
    """The explanation tree as JSON; past `max_nodes` nodes the rest is one node that says it was cut."""
    budget = [max_nodes]
    return _node_json(step, budget)


def _node_json(step: Step, budget: list) -> dict:
    budget[0] -= 1
    children = []
    for child in step.children:
        if budget[0] <= 0:
            children.append(_cut_json(len(step.children) - len(children)))
            break
        children.append(_node_json(child, budget))
    return {"id": step.id, "label": step.label, "value": step.value, "formula": step.formula,
            "source": step.span.as_dict() if step.span else None,
            "citation": step.cite.text if step.cite else None,
            "in_force": step.in_force, "status": step.status, "children": children}


def _cut_json(left: int) -> dict:
    return {"id": "explanation_cut", "label": "说明已截断 explanation cut", "value": "",
            "formula": f"the explanation is over its node budget; {left} more branch(es) not shown "
                       "(the figures above are complete)",
            "source": None, "citation": None, "in_force": None, "status": None, "children": []}


# ── text ────────────────────────────────────────────────────────────────────
def decision_text(d: Decision, lang: str = "zh") -> str:
    """The determination as the CLI prints it, with the "why" tree when the decision carries one."""
    zh = lang == "zh"
    e = d.eligibility
    lines = [
        f"{'地区' if zh else 'region'}: {d.region}   {'核定日' if zh else 'as of'}: {d.as_of}",
        f"{'状态' if zh else 'status'}: {STATUS_WORDS[d.status] if zh else d.status}"
        f"   {'领取起始日' if zh else 'pension start'}: {e.pension_start_date or '—'}"
        f"   {'应缴/已缴年限' if zh else 'required/counted years'}: {e.required_years}/{e.counted_years}",
        f"{'月养老金' if zh else 'monthly pension'}: {fmt(d.monthly_pension.total)}",
    ]
    for c in d.monthly_pension.components:
        shown = component_json(c).get("by_level", {})
        levels = ("，" if zh else ", ").join(f"{LEVEL_LABELS.get(k, k) if zh else k} {v}" for k, v in shown.items())
        name = c.label_zh or c.id if zh else c.id
        lines.append(f"  {name}: {fmt(c.amount.total)}" + ((f"（{levels}）" if zh else f" ({levels})") if levels else ""))
    lines.append(f"{'个人账户余额' if zh else 'account balance'}: {fmt(d.account.balance)}"
                 f"   {'领取时余额' if zh else 'at pension start'}: {fmt(d.account.balance_at_pension_start)}")
    for u in d.uses_unconfirmed:
        lines.append(f"未确认数值【{STATUS_LABELS[u.status]}】{u.text_zh or u.value}（{u.file}:{u.line}）" if zh else
                     f"unconfirmed [{u.status}] {u.value}  ({u.file}:{u.line})")
    if d.explanation is not None:
        lines.append("")
        lines.append(explanation_text(d.explanation, lang))
    return "\n".join(lines)


def explanation_text(step: Step, lang: str = "zh", max_nodes: int = MAX_EXPLANATION_NODES) -> str:
    """An indented "why" tree a caseworker can read (cut after `max_nodes` nodes): each figure is shown once;
    a later use of the same step is one line that refers back to it (the JSON keeps the full tree)."""
    lines: list[str] = []
    _render(step, "", "", lines, lang, [max_nodes], Repeats(_step_content, _step_children))
    return "\n".join(lines)


def see_above(label: str, value: str, lang: str = "zh") -> str:
    """The one line that stands for a figure already shown above."""
    return f"见上：{label} {value}" if lang == "zh" else f"see above: {label} {value}"


class Repeats:
    """Which nodes of an explanation repeat one met before: the same shared step, or a step with the same
    content (id, label, value, formula, source, citation, period, status) and the same children.

    `content(node)` and `children(node)` read a node (a `Step`, or a node of the JSON tree). Each distinct
    node object is keyed once (a step shared many times over costs one key, however many paths reach it).
    """

    def __init__(self, content, children):
        self.content, self.children = content, children
        self.keys: dict[int, int] = {}  # id(node) → its content's number
        self.numbers: dict[tuple, int] = {}  # (content, children's numbers) → a number
        self.nodes: list = []  # the nodes keyed, alive while their ids are in `keys`
        self.shown: set[int] = set()

    def key(self, node) -> int:
        found = self.keys.get(id(node))
        if found is None:
            whole = (self.content(node), tuple(self.key(child) for child in self.children(node)))
            found = self.keys[id(node)] = self.numbers.setdefault(whole, len(self.numbers))
            self.nodes.append(node)
        return found

    def first(self, node) -> bool:
        """True the first time a node (or one of the same content) is met; False after."""
        key = self.key(node)
        if key in self.shown:
            return False
        self.shown.add(key)
        return True


def _step_content(step: Step) -> tuple:
    return (step.id, step.label, step.value, step.formula, (step.span.file, step.span.line) if step.span else None,
            step.cite.text if step.cite else None, tuple(sorted((step.in_force or {}).items())), step.status)


def _step_children(step: Step) -> tuple:
    return step.children


def _json_content(node: dict) -> tuple:
    source = node.get("source") or {}
    return (node["id"], node["label"], node["value"], node["formula"], (source.get("file"), source.get("line")),
            node.get("citation"), tuple(sorted((node.get("in_force") or {}).items())), node.get("status"))


def _json_children(node: dict) -> list:
    return node["children"]


def fold_repeats(node: dict) -> dict:
    """A copy of a JSON explanation for reading: a node that repeats one shown before (in reading order)
    becomes `{"id", "label", "value", "see_above": True, "children": []}`. For the pages; the JSON
    explanation itself stays the full tree (contract.md)."""
    return _fold(node, Repeats(_json_content, _json_children))


def _fold(node: dict, repeats: Repeats) -> dict:
    if not repeats.first(node):
        return {"id": node["id"], "label": node["label"], "value": node["value"], "see_above": True, "children": []}
    return {**node, "children": [_fold(child, repeats) for child in node["children"]]}


def _render(step: Step, lead: str, child_lead: str, lines: list[str], lang: str, budget: list,
            repeats: Repeats) -> None:
    budget[0] -= 1
    if not repeats.first(step):
        lines.append(f"{lead}{see_above(step.label, step.value, lang)}")
        return
    mark = ""
    if step.status in UNCONFIRMED:
        mark = f" 【{STATUS_LABELS[step.status]}】" if lang == "zh" else f" [{step.status}]"
    where = f"  ← {step.span.file}:{step.span.line}" if step.span else ""
    lines.append(f"{lead}{step.label} = {step.value}{mark}{where}")
    detail = child_lead + ("│ " if step.children else "  ")
    if step.formula:
        lines.append(f"{detail}  {step.formula}")
    if step.cite:
        lines.append(f"{detail}  {'依据' if lang == 'zh' else 'source'}: {step.cite.text}{_period(step.in_force, lang)}")
    for i, child in enumerate(step.children):
        if budget[0] <= 0:
            lines.append(f"{child_lead}└ " + ("……说明过长，其余分支未显示（以上数额完整）" if lang == "zh" else
                                                "… the explanation is cut here (the figures above are complete)"))
            return
        last = i == len(step.children) - 1
        _render(child, child_lead + ("└ " if last else "├ "), child_lead + ("  " if last else "│ "), lines, lang,
                budget, repeats)


def _period(in_force: dict | None, lang: str) -> str:
    if not in_force or not (in_force.get("from") or in_force.get("to")):
        return ""
    start, end = in_force.get("from") or "…", in_force.get("to")
    if lang == "zh":
        return f"（{start} 起" + (f"，至 {end}" if end else "") + "）"
    return f" (from {start}" + (f" until {end}" if end else "") + ")"
