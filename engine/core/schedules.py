"""Bonus and raise schedules (domain.md §2: 长缴多得, age-band add-ons, raises for pensioners), written once over
the value interface — one person's values (engine.core.algebra.SCALAR) or a population's arrays
(engine.columns.arrays). The back ends supply the basis, the ages and whether a raise applies; the rule is here."""
from __future__ import annotations

import datetime as dt

from engine.language import model


def paid_at(policy: model.Policy, version: model.Version, definition: model.Definition):
    """(the layer a schedule's version comes from, the funding level that pays it): the layer decides the basis (a
    region may change `per` into `by`) and the level (the province where none is named)."""
    layer = policy.layer_of(version) or definition
    return layer, layer.paid_by or "province"


def band_amount(alg, rows, basis):
    """The amount of the first band of `rows` that holds `basis` (0 where none does)."""
    return alg.pick([r.amount for r in rows], alg.band(basis, rows))


def bonus(alg, version: model.Version, layer: model.Definition, basis):
    """A bonus for `basis` (an age or a number of years): the figure for each year beyond a threshold
    (`per … beyond N`), or the amount of the band the basis falls in."""
    if layer.beyond is not None:
        return alg.const(version.figure) * alg.at_least_zero(basis - alg.const(layer.beyond))
    return band_amount(alg, version.rows, basis)


def raises(alg, policy: model.Policy, definition: model.Definition, as_of: dt.date, started_before, age_on):
    """Every raise since the pension start up to the as-of date, by the age on its date: (the total by funding level,
    [(version, age, amount)] of those that apply). `started_before(day)`: whether the pension started before a raise's
    day (False, or a mask); `age_on(day)`: the age (周岁) on it."""
    total, applied = alg.zero(), []
    for version in policy.events(definition.name):
        if version.start > as_of:
            continue
        applies = started_before(version.start)
        if applies is False:
            continue
        age = age_on(version.start)
        amount = band_amount(alg, version.rows, age) if version.rows else alg.const(version.figure)
        if alg.any_nonzero(amount):
            total = total + alg.masked(alg.money_at(paid_at(policy, version, definition)[1], amount), applies)
        applied.append((version, age, amount))
    return total, applied
