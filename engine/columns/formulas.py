"""The environment the plan's formulas evaluate in for a batch (engine.core.plan's node protocol), over engine.columns.arrays."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from engine.columns.arrays import Q, Unsupported
from engine.columns.days import DAY_ARRAYS, day_number, ymd
from engine.columns.handed import MISSING_FACT
from engine.core import schedules
from engine.core.lookup import Lookup
from engine.core.person import (
    Person,
)
from engine.core.plan import component

if TYPE_CHECKING:  # the back end that makes this environment
    from engine.columns.columnar import Batch


class BatchFormulas:
    """The environment the plan's formulas evaluate in for a batch (engine.core.plan's node protocol)."""

    def __init__(self, batch: Batch):
        self.batch, self.alg, self.as_of = batch, batch.alg, batch.as_of
        self.cache: dict = {}

    def builtin(self, name: str):
        b = self.batch
        if name == "balance_at_pension_start":
            return self.alg.money(Q.fen(b.at_start))
        if name in ("age_at_pension_start", "pension_start_year"):
            sy, sm, sd = ymd(np.where(b.eligible, b.start, 0))
            value = sy if name == "pension_start_year" else DAY_ARRAYS.age_on(b.by, b.bm, b.bd, sy, sm, sd)
            return self.alg.integer(np.where(b.eligible, value, 0))
        years = {"age": b.age, "counted_years": b.counted_years, "continuous_years": b.continuous_years,
                 "regular_years": b.regular_years}
        return self.alg.integer(years[name])  # the checker admits no other builtin

    def formula(self, name: str):
        if name not in self.cache:
            self.cache[name] = component(self, self.batch.plan.formulas[name])
        return self.cache[name]

    def _versions(self, definition) -> list:
        """The version on the as-of date for each fact class (None: none in force); the persons of a class whose
        lookup needs a fact they lack are handed to the one-person back end, which says which."""
        b = self.batch
        versions, failed = [], np.zeros(len(b.classes), dtype=bool)
        for c, facts in enumerate(b.classes):
            missing: list[str] = []
            versions.append(Lookup(b.policy, Person.probe(facts, ()), "en", missing).value(definition.name, self.as_of))
            failed[c] = bool(missing)
        if failed.any():
            b.hand(failed[b.fact_class], MISSING_FACT)
        return versions

    def figure(self, definition):
        b = self.batch
        figures = [v.figure if v is not None else None for v in self._versions(definition)]
        if {type(f) for f in figures if f is not None} - {Decimal}:
            raise Unsupported("not_number")
        ratios = [Decimal(f if f is not None else 0).as_integer_ratio() for f in figures]
        value = Q.of_fractions(ratios, b.fact_class) if ratios else Q(np.zeros(b.n, "int64"), 1, 0)
        if not (definition.unit is not None and definition.unit.startswith("元")):
            return value
        missing = np.array([f is None for f in figures] or [False], dtype=bool)[b.fact_class] if figures \
            else np.zeros(b.n, bool)
        money = self.alg.money_at(definition.paid_by, value)
        # no version in force: the scalar back end's empty Amount (no funding level)
        return self.alg.choose(missing, self.alg.zero(), money) if missing.any() else money

    def bonus(self, definition):
        b, alg = self.batch, self.alg
        results = self._versions(definition)
        total = alg.zero()
        for c, version in enumerate(results):
            if version is None:
                continue
            layer, level = schedules.paid_at(b.policy, version, definition)
            amount = alg.money_at(level, schedules.bonus(alg, version, layer, self.builtin(layer.basis)))
            total = alg.choose(b.fact_class == c, amount, total)
        return total

    def raises(self, definition):
        """Each raise since the pension start, by the age on its date (engine.core.schedules.raises)."""
        b, alg = self.batch, self.alg

        def age_on(day: dt.date):
            y, m, d = (np.full(b.n, part, dtype="int64") for part in (day.year, day.month, day.day))
            return alg.integer(DAY_ARRAYS.age_on(b.by, b.bm, b.bd, y, m, d))

        return schedules.raises(alg, b.policy, definition, b.as_of, lambda day: b.eligible & (b.start < day_number(day)),
                                age_on)[0]

    def member(self, group: str):
        b = self.batch
        if group not in b.group_names:
            return np.zeros(b.n, dtype=bool)
        g = b.group_names.index(group)
        return (b.group_start[:, g] <= b.as_of_day) & (b.as_of_day <= b.group_end[:, g])

    def fact_is(self, fact: str, value: str):
        b = self.batch
        if not fact.startswith("hukou."):
            raise Unsupported("unread_fact")
        have = [facts.get(fact.split(".", 1)[1]) for facts in b.classes]  # a class holds hukou facts by key
        missing = np.array([h is None for h in have] or [False], dtype=bool)
        if missing.any():  # the one-person back end names the missing fact
            b.hand(missing[b.fact_class], MISSING_FACT)
        return np.array([h == value for h in have] or [False], dtype=bool)[b.fact_class]

    def condition(self, held) -> None:
        pass  # the checker types conditions as true/false

    def unconfirmed_rule(self, c, value) -> None:
        pass  # the batch output lists no unconfirmed figures (`jubao why` explains a row)

