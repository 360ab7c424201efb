"""The checks of formulas (`component`, `let`): names, references and their order, units, fact tests."""
from __future__ import annotations

from engine.language import model, nodes, units
from engine.language.builtins import fact_test, fact_value  # noqa: F401 (the checker's face names them)
from engine.language.catalogue import Text, say
from engine.language.check.blocks import citation_of, group_of
from engine.language.check.checker import (
    BANDED,
    BUILTIN_ALIASES,
    BUILTINS,
    FUNCTIONS,
    MONTHLY,
    WHILE_WORDS,
    Checker,
    did_you_mean,
    unit_text,
)


def check_formulas(c: Checker) -> None:
    """Components and lets: a region overrides by name; citations, names, units, cycles."""
    for layer, f in c.each(nodes.Component):
        existing = c.formulas.get(f.name)
        if existing and existing.region == layer.region:
            c.error("duplicate-definition", "formula-twice", f.span, "formula-twice.hint", a=f.name, b=layer.region,
                    c=existing.span)
            continue
        if f.name in c.definitions:
            c.error("duplicate-definition", "formula-name-taken", f.span, "formula-name-taken.hint", a=f.name,
                    b=c.definitions[f.name][0].kind)
            continue
        cite = citation_of(c, f.citation, f.span, say("word.formula", a=f.kind, b=f.name))
        paid_by = model.LEVEL_NAMES.get(f.paid_by) if f.paid_by else None
        if f.paid_by and paid_by is None:
            c.error("unknown-name", "unknown-level", f.paid_by_span or f.span,
                    did_you_mean(f.paid_by, model.LEVEL_NAMES) or "unknown-level.hint", a=f.paid_by)
        paid_while = WHILE_WORDS.get(f.paid_while)
        if paid_while is None:
            c.error("unknown-name", "unknown-state", f.while_span or f.span,
                    did_you_mean(f.paid_while, WHILE_WORDS) or "unknown-state.hint", a=f.paid_while)
        start, end = (f.period.start, f.period.end) if f.period else (None, None)
        if start and end and end < start:
            c.error("bad-period", "period-reversed", f.period.span, "period-reversed.hint", a=end, b=start)
        c.formulas[f.name] = model.Formula(f.kind, f.name, f.labels, f.expr, cite, f.when, paid_while or "receiving",
                                           paid_by,
                                           layer.region, f.span, start, end)
        if f.kind == "component" and f.name not in c.components:
            c.components.append(f.name)
        if f.labels.zh:
            c.aliases[f.labels.zh] = f.name
    for name in _formula_order(c):
        formula = c.formulas[name]
        unit = _unit_of(c, formula.expr)
        c.formula_units[name] = unit
        if formula.kind == "component" and unit is not None and unit != MONTHLY:
            c.error("unit-mismatch", "component-unit", formula.span, "component-unit.hint", a=name,
                    b=unit_text(unit))
        if formula.when is not None:
            _unit_of(c, formula.when)


def _references(c: Checker, expr: nodes.Expr) -> list[nodes.Ref]:
    match expr:
        case nodes.Ref():
            return [expr]
        case nodes.Call(function=fn) if FUNCTIONS.get(fn) == "member":
            return []
        case nodes.Call(args=args):
            return [r for a in args for r in _references(c, a)]
        case nodes.Binary(left=l, right=r):
            return _references(c, l) + _references(c, r)
        case nodes.Unary(operand=o):
            return _references(c, o)
    return []


def _formula_order(c: Checker) -> list[str]:
    """Formulas in dependency order; a cycle is reported once, at each formula on it."""
    order, state = [], {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = path[path.index(name):] + [name]
            f = c.formulas[name]
            c.error("cycle", "cycle", f.span, "cycle.hint", a=" → ".join(cycle))
            return
        state[name] = "active"
        f = c.formulas[name]
        deps = [f.expr] + ([f.when] if f.when is not None else [])
        for expr in deps:
            for ref in _references(c, expr):
                target = c.aliases.get(ref.name, ref.name)
                if target in c.formulas:
                    visit(target, path + [name])
        state[name] = "done"
        order.append(name)

    for name in list(c.formulas):
        visit(name, [])
    return order


def _unit_of(c: Checker, expr: nodes.Expr) -> units.Unit | None:
    """The unit of an expression, reporting unknown names and unit mismatches; None = unknown/boolean."""
    match expr:
        case nodes.Number():
            return units.DIMENSIONLESS
        case nodes.Ref():
            return _ref_unit(c, expr)
        case nodes.Call(function=fn, args=args):
            return _call_unit(c, expr, FUNCTIONS.get(fn), args)
        case nodes.Unary(op="-", operand=o):
            return _unit_of(c, o)
        case nodes.Unary(operand=o):
            _unit_of(c, o)
            return None
        case nodes.Binary(op="==" | "!=") if _fact_test(c, expr) is not None:
            return None  # `hukou.type == rural`: true or false
        case nodes.Binary(op=op, left=l, right=r):
            lu, ru = _unit_of(c, l), _unit_of(c, r)
            if op in ("and", "or"):
                return None
            if op in ("+", "-") and any(isinstance(side, nodes.Number) and side.percent and other != units.DIMENSIONLESS
                                        for side, other in ((l, ru), (r, lu))):
                c.error("unit-mismatch", "percentage-added", expr.span, "percentage-added.hint", a=op)
                return None
            if lu is None or ru is None:
                return None
            if op in ("*", "/"):
                return units.multiply(lu, ru, 1 if op == "*" else -1)
            if lu != ru and lu != units.DIMENSIONLESS and ru != units.DIMENSIONLESS:
                c.error("unit-mismatch", "units-differ", expr.span, "units-differ.hint", a=unit_text(lu),
                        b=unit_text(ru), c=op)
                return None
            if op in ("+", "-"):
                return lu if lu != units.DIMENSIONLESS else ru
            return None
    return None




def _fact_test(c: Checker, expr: nodes.Binary):
    found = fact_test(c.facts, c.aliases, expr)
    if found is None:
        return None
    name, written, node = found
    fact = c.facts[name]
    if fact.type not in ("text", "choice", "文本") or not name.startswith("hukou."):
        c.error("type-mismatch", "fact-not-comparable", expr.span, "fact-not-comparable.hint", a=name)
    elif written is None or fact_value(fact, written) is None:
        choices = ", ".join(ch + (f" ({zh})" if zh else "") for ch, zh in fact.choices)
        c.error("unknown-name", "not-a-value", node.span, "compare-with" if choices else "compare-with-word",
                a=written or "…", b=name, c=choices)
    return found


def _ref_unit(c: Checker, ref: nodes.Ref) -> units.Unit | None:
    name = c.aliases.get(ref.name, BUILTIN_ALIASES.get(ref.name, ref.name))
    if name in c.facts and name not in c.formulas and name not in c.definitions:
        c.error("type-mismatch", "fact-alone", ref.span, "fact-alone.hint", a=ref.name,
                b=(c.facts[name].choices or (('红塔', None),))[0][0])
        return None
    if name in BUILTINS:
        return BUILTINS[name][1]
    if name in c.formulas:
        return c.formula_units.get(name)
    if name in c.definitions:
        d = c.definitions[name][-1]
        if d.kind in BANDED:
            return MONTHLY
        if d.kind != "value":
            c.error("type-mismatch", "table-in-formula", ref.span, "table-in-formula.hint", a=ref.name, b=d.kind)
            return None
        return units.parse_unit(d.unit) if d.unit else None
    candidates = list(c.formulas) + list(c.definitions) + list(BUILTINS) + list(BUILTIN_ALIASES) + \
        [a for a in c.aliases]
    c.error("unknown-name", "unknown-ref", ref.span,
            did_you_mean(ref.name, candidates) or "unknown-ref.hint", a=ref.name)
    return None


def _call_unit(c: Checker, call: nodes.Call, fn: str | None, args) -> units.Unit | None:
    if fn is None:
        c.error("unknown-name", "unknown-function", call.span,
                did_you_mean(call.function, FUNCTIONS) or "unknown-function.hint", a=call.function)
        return None
    if fn == "member":
        if len(args) != 1 or not isinstance(args[0], nodes.Ref):
            c.error("type-mismatch", "member-args", call.span, "member-args.hint")
        else:
            group_of(c, args[0].name, args[0].span)
        return None
    arg_units = [_unit_of(c, a) for a in args]
    if fn == "round":
        if len(args) != 1:
            c.error("type-mismatch", "round-args", call.span, "round-args.hint")
        return arg_units[0] if arg_units else None
    if len(args) < 2:
        c.error("type-mismatch", "min-max-args", call.span, "min-max-args.hint", a=fn)
    known = [u for u in arg_units if u not in (None, units.DIMENSIONLESS)]
    if any(u != known[0] for u in known):
        c.error("unit-mismatch", "mixed-units", call.span, "mixed-units.hint", a=fn,
                b=Text("、".join(units.describe(u) for u in known),
                       " and ".join(units.describe(u, "en") for u in known)))
        return None
    return known[0] if known else units.DIMENSIONLESS
