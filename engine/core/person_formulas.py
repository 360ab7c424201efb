"""The environment the plan's formulas evaluate in for one person (engine.core.plan's node protocol): builtins, figures, bonus and raise schedules over engine.core.algebra's scalar values."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from engine.core import dates, schedules
from engine.core.algebra import SCALAR
from engine.core.lookup import show
from engine.core.money import Amount
from engine.core.plan import Compiled, component, trace_component
from engine.core.prepared import Prepared
from engine.language import model
from engine.language.catalogue import say
from engine.language.errors import FieldError, InvalidPerson, pointer

if TYPE_CHECKING:  # the back end that makes this environment
    from engine.core.one_person import OnePerson


class PersonFormulas:
    """The environment the plan's formulas evaluate in for one person (engine.core.plan's node protocol)."""

    alg = SCALAR
    __slots__ = ("run", "account", "as_of", "lang", "rec", "lookup", "uses", "plan", "field", "cache")

    def __init__(self, run: OnePerson, account: dict):
        self.run, self.account = run, account
        self.as_of, self.lang, self.rec = run.as_of, run.lang, run.rec
        self.lookup, self.uses, self.plan = run.lookup, run.uses, run.plan
        self.field = ""
        self.cache: dict = {}

    def component(self, c: Compiled, paid: bool) -> tuple[Amount, object]:
        rec = self.rec
        if not paid:
            return Amount(), rec.component_not_paid(c.formula)
        self.field = c.field
        if not rec.active:
            return component(self, c), None
        value, steps, text, outcome = trace_component(self, c)
        if outcome == "not_in_force":
            return value, rec.component_not_in_force(c.formula, self.as_of)
        if outcome == "condition":
            return value, rec.component_condition(c.formula, text, steps)
        return value, rec.component(c.formula, value, text, steps)

    # the node protocol
    def show(self, value) -> str:
        return show(value)

    def group_label(self, group: str) -> str:
        return self.run.policy.group_label(group, self.lang)

    def builtin(self, name: str):
        run = self.run
        if name == "age":
            return Decimal(dates.age_on(run.person.birth_date, self.as_of))
        if name == "balance_at_pension_start":
            return Amount(self.account["at_start"])
        if name == "counted_years":
            return Decimal(run.counted_years)
        if name == "regular_years":  # counted years less back payments (e.g. 长缴多得 where 补缴 years do not count)
            return Decimal(sum(1 for r in run.rows if r.counted and r.record.kind == "regular"))
        if name == "age_at_pension_start":
            return Decimal(dates.age_on(run.person.birth_date, run.start) if run.start else 0)
        if name == "pension_start_year":
            return Decimal(run.start.year if run.start else 0)
        return Decimal(run.continuous_years)  # the checker admits no other builtin

    def trace_builtin(self, name: str):
        value = self.builtin(name)
        if name == "balance_at_pension_start":
            step = self.account.get("at_start_step")
            return value, [step] if step else []
        return value, [self.rec.builtin(name, value)]

    def formula(self, name: str):
        if name not in self.cache:
            self.cache[name] = self._formula(name)
        return self.cache[name][0]

    def trace_formula(self, name: str):
        if name not in self.cache:
            self.cache[name] = self._formula(name)
        return self.cache[name]

    def _formula(self, name: str):
        outer = self.field
        try:
            return self.component(self.plan.formulas[name], True)
        finally:
            self.field = outer

    def _version(self, definition):
        return self.lookup.value(definition.name, self.as_of)

    def figure(self, definition):
        return self._figure(definition, self._version(definition))

    def _figure(self, definition, version):
        if version is None:
            return Amount()
        self.uses.use(version, self.field)
        return figure_value(self.run.prepared, definition, version)

    def trace_figure(self, definition):
        version = self._version(definition)
        value = self._figure(definition, version)
        return value, [self.rec.figure(definition, version, value)] if version is not None else []

    def bonus(self, definition):
        return self._bonus(definition)[0]

    def trace_bonus(self, definition):
        amount, version, basis, row, beyond = self._bonus(definition)
        if version is None:
            return amount, []
        return amount, [self.rec.bonus(definition, version, amount, basis, row, beyond)]

    def _bonus(self, definition):
        version = self._version(definition)
        if version is None:
            return Amount(), None, None, None, None
        layer, level = schedules.paid_at(self.run.policy, version, definition)
        basis = self.builtin(layer.basis)
        amount = Amount.at(level, schedules.bonus(SCALAR, version, layer, basis))
        if amount.total:
            self.uses.use(version, self.field)
        row = None  # the band used, which the explanation cites
        if layer.beyond is None and self.rec.active:
            index = SCALAR.band(basis, version.rows)
            row = version.rows[index] if index >= 0 else None
        return amount, version, basis, row, layer.beyond

    def raises(self, definition):
        return self._raises(definition)[0]

    def trace_raises(self, definition):
        total, applied = self._raises(definition)
        return total, [self.rec.raises(definition, total, applied, self.run.start)]

    def _raises(self, definition):
        """(total, [(version, age on its date, amount)]): every raise after the pension start, up to the as-of date."""
        run = self.run
        if run.start is None:
            return Amount(), []
        birth, start = run.person.birth_date, run.start
        total, applied = schedules.raises(SCALAR, run.policy, definition, self.as_of, lambda day: start < day,
                                          lambda day: Decimal(dates.age_on(birth, day)))
        for version, _, amount in applied:
            if amount:
                self.uses.use(version, self.field)
        return total, applied

    def member(self, group: str) -> bool:
        return any(m.group == group for m in self.run.person.groups_on(self.as_of))

    def fact_is(self, fact: str, value: str) -> bool:
        have = self.run.person.fact(fact)
        if have is None:
            raise InvalidPerson(say("fact.needed-for", fact=fact, field=self.field or fact), [FieldError(
                pointer("person", *fact.split(".")), say("fact.compared", fact=fact, value=value))])
        return have == value

    def condition(self, held) -> None:
        pass  # the checker types conditions as true/false

    def unconfirmed_rule(self, c: Compiled, value: Amount) -> None:
        if value.total:
            self.uses.use_formula(c.formula, self.field)


def figure_value(prepared: Prepared, definition: model.Definition, version: model.Version):
    """A figure as a formula reads it: an amount in yuan with its funding level, other figures as they are; a pure
    function of the definition and the version, kept in the prepared memo (each entry holds its version, so an id
    is never another's)."""
    memo = prepared.figure_values
    key = (id(definition), id(version))
    hit = memo.get(key)
    if hit is not None and hit[0] is version and hit[1] is definition:
        return hit[2]
    figure = version.figure
    if isinstance(figure, Decimal) and definition.unit and definition.unit.startswith("元"):
        figure = Amount.at(definition.paid_by, figure)
    memo.put(key, (version, definition, figure))
    return figure


