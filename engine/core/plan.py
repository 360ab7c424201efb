"""The compiled plan of a region: every formula with its names resolved once, for both back ends.

`check` leaves formulas as expression trees with names as written (Chinese or English). `compile_plan`
resolves each name to what it is — a builtin of the scheme, another formula, a dated figure, a bonus
schedule, a group — and builds a tree of small nodes. A node evaluates against an *environment* that
a back end provides (one person: `engine.core.one_person`; a population: `engine.columns.columnar`) with values of
the matching `engine.core.algebra`; the operators, functions, conditions and funding levels are defined
here once. `trace` evaluates the same nodes and also returns the steps and the formula text with the
numbers used (parentheses where the source needs them); it is only called when an explanation is asked.
"""
from __future__ import annotations

import datetime as dt

import attrs

from engine.core.algebra import binary, extreme
from engine.core.explain import WORDS
from engine.core.prepared import prepare
from engine.language import model, nodes
from engine.language.check import BUILTIN_ALIASES, BUILTINS, FUNCTIONS, fact_test, fact_value
from engine.language.units import share_text

ACCOUNT_PENSION = "account_pension"  # contract.md: the person's own money, no funding levels
BUILTIN_WORDS = {name: WORDS[name] for name in BUILTINS}  # the same words as the explanation's steps
OPERATOR_SIGNS = {"*": "×", "/": "÷", "-": "−", "and": "且", "or": "或"}
PRECEDENCE = {"or": 1, "and": 2, "<": 3, "<=": 3, ">": 3, ">=": 3, "==": 3, "!=": 3, "+": 4, "-": 4, "*": 5, "/": 5}


def _pick(labels: tuple[str, str], lang: str) -> str:
    return labels[1] if lang == "en" else labels[0]


# ── nodes ──────────────────────────────────────────────────────────────────
class Node:
    precedence = 9  # an atom: never needs parentheses

    def run(self, env):
        raise NotImplementedError

    def trace(self, env) -> tuple[object, list, str]:
        raise NotImplementedError


@attrs.frozen
class Const(Node):
    value: object
    text: str | None = None  # as written, when that differs from the value (50% is 0.5)

    def run(self, env):
        return env.alg.const(self.value)

    def trace(self, env):
        return self.value, [], self.text or str(self.value)


@attrs.frozen
class Builtin(Node):
    """age, counted_years, continuous_years, balance_at_pension_start: what the mechanics computed."""

    name: str
    labels: tuple[str, str]

    def run(self, env):
        return env.builtin(self.name)

    def trace(self, env):
        value, steps = env.trace_builtin(self.name)
        return value, steps, f"{_pick(self.labels, env.lang)} {env.show(value)}"


@attrs.frozen
class FormulaRef(Node):
    name: str
    labels: tuple[str, str]

    def run(self, env):
        return env.formula(self.name)

    def trace(self, env):
        value, step = env.trace_formula(self.name)
        return value, [step] if step else [], f"{_pick(self.labels, env.lang)} {env.show(value)}"


@attrs.frozen
class Figure(Node):
    """A dated value or table of the policy, on the as-of date."""

    definition: model.Definition

    def run(self, env):
        return env.figure(self.definition)

    def trace(self, env):
        value, steps = env.trace_figure(self.definition)
        return value, steps, f"{self.definition.label(env.lang)} {env.show(value)}"


@attrs.frozen
class Bonus(Node):
    """A bonus schedule: an amount per year beyond a threshold, or by band of age or years."""

    definition: model.Definition
    kind = "bonus"  # the environment's method (and its trace_ twin) that works the schedule out

    def run(self, env):
        return getattr(env, self.kind)(self.definition)

    def trace(self, env):
        value, steps = getattr(env, "trace_" + self.kind)(self.definition)
        return value, steps, f"{self.definition.label(env.lang)} {env.show(value)}"


@attrs.frozen
class Raise(Bonus):
    """Raises for those already receiving: each raise since the pension started, by the age on its date."""

    kind = "raises"


@attrs.frozen
class Member(Node):
    group: str

    def run(self, env):
        return env.member(self.group)

    def trace(self, env):
        held = env.member(self.group)
        label = env.group_label(self.group)
        return held, [], (f"{label} {'是' if held else '否'}" if env.lang == "zh" else f"{label} {held}")


@attrs.frozen
class FactIs(Node):
    """`hukou.type == rural`: whether the person's fact has a value (`negate` for !=)."""

    fact: str
    value: str
    negate: bool
    labels: tuple[str, str]  # the fact's label, the value's label (Chinese)

    def run(self, env):
        held = env.fact_is(self.fact, self.value)
        return env.alg.not_(held) if self.negate else held

    def trace(self, env):
        held = self.run(env)
        sign = "≠" if self.negate else "="
        if env.lang == "zh":
            return held, [], f"{self.labels[0]} {sign} {self.labels[1]} {'是' if held else '否'}"
        return held, [], f"{self.fact} {sign} {self.value} {held}"


@attrs.frozen
class Not(Node):
    operand: Node

    def run(self, env):
        return env.alg.not_(self.operand.run(env))

    def trace(self, env):
        v, s, t = self.operand.trace(env)
        return env.alg.not_(v), s, f"not {_wrap(self.operand, t, 6)}"


@attrs.frozen
class Neg(Node):
    operand: Node

    def run(self, env):
        return -self.operand.run(env)

    def trace(self, env):
        v, s, t = self.operand.trace(env)
        return -v, s, f"−{_wrap(self.operand, t, 6)}"


@attrs.frozen
class Binary(Node):
    op: str
    left: Node
    right: Node

    @property
    def precedence(self) -> int:
        return PRECEDENCE[self.op]

    def run(self, env):
        alg = env.alg
        left = self.left.run(env)
        if alg.decided(self.op, left):
            return left
        return binary(alg, self.op, left, self.right.run(env))

    def trace(self, env):
        alg = env.alg
        lv, ls, lt = self.left.trace(env)
        if alg.decided(self.op, lv):
            return lv, ls, lt
        rv, rs, rt = self.right.trace(env)
        # The source's parentheses: a looser operand, or an equal one on the right of − and ÷.
        right_needs = self.precedence + (1 if self.op in ("-", "/") or self.precedence == 3 else 0)
        text = f"{_wrap(self.left, lt, self.precedence)} {OPERATOR_SIGNS.get(self.op, self.op)} " \
               f"{_wrap(self.right, rt, right_needs)}"
        return binary(alg, self.op, lv, rv), ls + rs, text


@attrs.frozen
class Call(Node):
    function: str  # max, min, round
    args: tuple[Node, ...]

    def run(self, env):
        values = [a.run(env) for a in self.args]
        return env.alg.round(values[0]) if self.function == "round" else extreme(env.alg, self.function, values)

    def trace(self, env):
        values, steps, texts = [], [], []
        for a in self.args:
            v, s, t = a.trace(env)
            values.append(v)
            steps += s
            texts.append(t)
        if self.function == "round":
            word = "四舍五入到分" if env.lang == "zh" else "round half-up to 0.01"
            return env.alg.round(values[0]), steps, f"{word}({', '.join(texts)})"
        return extreme(env.alg, self.function, values), steps, f"{self.function}({', '.join(texts)})"


def _wrap(node: Node, text: str, needs: int) -> str:
    return f"({text})" if node.precedence < needs else text


# ── formulas ───────────────────────────────────────────────────────────────
@attrs.frozen
class Compiled:
    """A component or `let`, compiled."""

    formula: model.Formula
    expr: Node
    when: Node | None
    unconfirmed: bool  # the rule itself is a proposal or provisional
    name: str = attrs.field(init=False)  # the formula's, read for every component of every person
    field: str = attrs.field(init=False)  # the answer's field it decides (`monthly_pension.<name>`)
    label_zh: str = attrs.field(init=False)  # its Chinese name, which the answer's component carries

    def __attrs_post_init__(self):
        object.__setattr__(self, "name", self.formula.name)
        object.__setattr__(self, "field", f"monthly_pension.{self.formula.name}")
        object.__setattr__(self, "label_zh", self.formula.label("zh"))


@attrs.frozen
class Plan:
    """A region prepared for evaluation: its formulas compiled, its components in pension order, and the
    days on which any of its figures changes (between two of them every version in force stays the same)."""

    policy: model.Policy
    formulas: dict[str, Compiled]
    components: tuple[Compiled, ...]
    change_days: tuple[dt.date, ...]

    def describe(self) -> str:
        """The plan as text: each component and `let` with its resolved expression (`jubao plan REGION`)."""
        lines = [f"plan {self.policy.region} ({self.policy.digest[:19]}…)",
                 f"  figures change on {len(self.change_days)} days, "
                 f"{self.change_days[0] if self.change_days else '—'} … {self.change_days[-1] if self.change_days else '—'}"]
        for c in self.formulas.values():
            kind = "component" if c.name in self.policy.components else "let"
            period = f" [{c.formula.start or '…'}–{c.formula.end or ''}]" if c.formula.start or c.formula.end else ""
            paid = f" paid by {c.formula.paid_by}" if c.formula.paid_by else ""
            lines.append(f"  {kind} {c.name}{period}{paid} while {c.formula.paid_while}"
                         + (" (unconfirmed rule)" if c.unconfirmed else ""))
            if c.when is not None:
                lines.append(f"    when {describe(c.when)}")
            lines.append(f"    = {describe(c.expr)}")
        return "\n".join(lines)


def compile_plan(policy: model.Policy) -> Plan:
    """The plan of a checked policy, built once per policy object and kept in its `Prepared` (prepare once, evaluate
    many)."""
    prepared = prepare(policy)
    plan = prepared.plan
    if plan is None:
        formulas = {name: _compile(policy, f) for name, f in policy.formulas.items()}
        plan = prepared.plan = Plan(policy, formulas, tuple(formulas[name] for name in policy.components),
                                    _change_days(policy))
    return plan


def _change_days(policy: model.Policy) -> tuple[dt.date, ...]:
    days = set()
    for layers in policy.definitions.values():
        for layer in layers:
            for v in layer.versions:
                if v.start:
                    days.add(v.start)
                if v.end and v.end < dt.date.max:
                    days.add(v.end + dt.timedelta(days=1))
    return tuple(sorted(days))


def describe(node: Node) -> str:
    """A node as resolved: what each name turned out to be."""
    match node:
        case Const(value=v, text=t):
            return t or str(v)
        case Builtin(name=n):
            return f"builtin:{n}"
        case FormulaRef(name=n):
            return f"formula:{n}"
        case Figure(definition=d):
            return f"figure:{d.name}" + (f"[{d.unit}]" if d.unit else "")
        case Raise(definition=d):
            return f"raises:{d.name}"
        case Bonus(definition=d):
            return f"bonus:{d.name}"
        case Member(group=g):
            return f"member({g})"
        case FactIs(fact=f, value=v, negate=n):
            return f"fact:{f} {'!=' if n else '=='} {v}"
        case Not(operand=o):
            return f"not {describe(o)}"
        case Neg(operand=o):
            return f"-{describe(o)}"
        case Binary(op=op, left=l, right=r):
            return f"({describe(l)} {op} {describe(r)})"
        case Call(function=fn, args=args):
            return f"{fn}({', '.join(describe(a) for a in args)})"
    return repr(node)


def _compile(policy: model.Policy, formula: model.Formula) -> Compiled:
    unconfirmed = bool(formula.cite and formula.cite.status in model.UNCONFIRMED)
    return Compiled(formula, _node(policy, formula.expr),
                    _node(policy, formula.when) if formula.when is not None else None, unconfirmed)


def _node(policy: model.Policy, expr: nodes.Expr) -> Node:
    match expr:
        case nodes.Number(value=v, percent=True):
            return Const(v, share_text(v))
        case nodes.Number(value=v):
            return Const(v)
        case nodes.Ref(name=name):
            return _ref(policy, name)
        case nodes.Unary(op="not", operand=o):
            return Not(_node(policy, o))
        case nodes.Unary(operand=o):
            return Neg(_node(policy, o))
        case nodes.Call(function=fn, args=args):
            function = FUNCTIONS[fn]
            if function == "member":
                return Member(policy.resolve(args[0].name))
            return Call(function, tuple(_node(policy, a) for a in args))
        case nodes.Binary(op="==" | "!=") if (found := fact_test(policy.facts, policy.aliases, expr)):
            name, written, _ = found
            fact = policy.facts[name]
            value = fact_value(fact, written)
            label = next((zh for ch, zh in fact.choices if ch == value and zh), value)
            return FactIs(name, value, expr.op == "!=", (fact.labels.zh or name, label))
        case nodes.Binary(op=op, left=l, right=r):
            return Binary(op, _node(policy, l), _node(policy, r))
    raise AssertionError(f"unknown expression {expr!r}")  # the checker admits no other


def _ref(policy: model.Policy, name: str) -> Node:
    builtin = BUILTIN_ALIASES.get(name, name)
    if builtin in BUILTINS:
        return Builtin(builtin, BUILTIN_WORDS[builtin])
    resolved = policy.resolve(name)
    if resolved in policy.formulas:
        f = policy.formulas[resolved]
        return FormulaRef(resolved, (f.label("zh"), f.label("en")))
    definition = policy.definition(resolved)
    return {"bonus": Bonus, "raise": Raise}.get(definition.kind, Figure)(definition)


# ── evaluating a component ─────────────────────────────────────────────────
def component(env, c: Compiled):
    """The monthly amount of a component (or `let`) on the as-of date, before the status decides payment."""
    alg = env.alg
    if not c.formula.covers(env.as_of):
        return alg.zero()
    held = True
    if c.when is not None:
        held = c.when.run(env)
        env.condition(held)
        if held is False:
            return alg.zero()
    value = _finish(env, c, alg.money(c.expr.run(env)))
    return alg.masked(value, held)


def trace_component(env, c: Compiled):
    """(amount, steps, formula text, outcome): outcome is "ok", "not_in_force" or "condition"."""
    alg = env.alg
    if not c.formula.covers(env.as_of):
        return alg.zero(), [], "", "not_in_force"
    if c.when is not None:
        held, steps, text = c.when.trace(env)
        if not held:
            return alg.zero(), steps, text, "condition"
    value, steps, text = c.expr.trace(env)
    return _finish(env, c, alg.money(value)), steps, text, "ok"


def _finish(env, c: Compiled, value):
    if c.unconfirmed:
        env.unconfirmed_rule(c, value)
    if c.formula.paid_by:
        value = value.relevel(c.formula.paid_by)
    if c.name == ACCOUNT_PENSION:
        value = env.alg.money(env.alg.total(value))
    return value
