"""A policy version prepared for evaluation, once (as OPA's PrepareForEval): what is worked out for a version of a
region's rules — the tables derived from it, its compiled plan — and the bounded memos the evaluation keeps for it,
each a named field of one object, `Prepared`.

`prepare(policy)` gives the policy object's own (`PREPARED`: the policies this process evaluates, bounded). A field
filled on first use is filled by the module that owns it (`plan` by core.plan.compile_plan, `person_shape` by
core.person), so that this module imports none of them. A memo holds pure functions of the policy version and a few
keys: it can never answer for another version, and it dies with its `Prepared`.
"""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import attrs

from engine.core.memo import Memo
from engine.language import model


@attrs.define(eq=False)
class Prepared:
    policy: model.Policy
    # worked out when prepared
    caps: dict[str, int]  # items paid for at most N years (`at most 15 years` on a tiers, subsidy or reward block)
    condition_facts: tuple[str, ...]  # every fact a `for …` version depends on
    no_rewards: tuple[tuple[str, Decimal], ...]  # (name, 0) for every reward (a row earning none still lists each)
    # every early-start route: (its name, version, a group it serves, the version's first and last day — the
    # earliest and latest day there is where open)
    early_routes: tuple[tuple[str, model.Version, str, dt.date, dt.date], ...]
    # filled on first use, by the module that owns each
    plan: object = None  # core.plan.Plan: the formulas compiled
    person_shape: object = None  # core.person: what reading a PERSON asks of the declared facts
    # the numbers given to the person part of the price memo's keys (never one given before, even to a key the
    # memo has dropped since)
    person_tokens: itertools.count = attrs.field(factory=itertools.count)
    # bounded memos (engine.core.memo.Memo), each of a pure function of the policy version and its key
    prices: Memo = attrs.field(factory=Memo)  # (person token, day, year, tier, kind, collective, groups) → figures
    price_person_keys: Memo = attrs.field(factory=Memo)  # (recorder, languages, facts) → person token
    contribution_rows: Memo = attrs.field(factory=Memo)  # Priced's id and counted → (Priced, the answer's row)
    scheme_constants: Memo = attrs.field(factory=Memo)  # as-of day → pension age, full years, enrolment age, its rule
    interest_rates: Memo = attrs.field(factory=Memo)  # year → (version, rate as a ratio)
    unconfirmed_uses: Memo = attrs.field(factory=Memo)  # a use's line, texts and fields → UnconfirmedUse
    use_texts: Memo = attrs.field(factory=Memo)  # (line, name, figure) → the texts of an unconfirmed figure used
    layers: Memo = attrs.field(factory=Memo)  # a version's id → (version, the layer it comes from)
    figure_values: Memo = attrs.field(factory=Memo)  # (definition's id, version's id) → the figure a formula reads
    # a tier table's rows open to a person, by (table, condition, 代缴, the groups that matter to it); and the groups
    # some tier of a table is kept for, by table: both as many as the policy has tables
    open_tiers: dict = attrs.field(factory=dict)
    kept_for: dict = attrs.field(factory=dict)
    # the column back end's figures of each distinct priced record, in fen: (period, facts, groups held, kind, tier)
    # → figures (engine.columns.columnar bounds it)
    record_figures: dict = attrs.field(factory=dict)

    @classmethod
    def of(cls, policy: model.Policy) -> "Prepared":
        return cls(
            policy,
            {name: layers[0].cap for name, layers in policy.definitions.items() if layers[0].cap is not None},
            tuple(sorted({v.condition[0] for name in policy.definitions for v in policy.all_versions(name)
                          if v.condition})),
            tuple((name, Decimal(0)) for name in policy.names_of_kind("reward")),
            tuple((name, version, group, version.start or dt.date.min, version.end or dt.date.max)
                  for name in policy.names_of_kind("early_start") for version in policy.all_versions(name)
                  for group in policy.definitions[name][0].for_groups))


class PreparedPolicies:
    """The prepared policies of this process, by policy object (a server reloading its regions makes new ones: past
    MOST, the oldest goes). Safe under threads: a lost race prepares a policy twice, and one of the two is kept."""

    MOST = 32

    def __init__(self):
        self.by_id: dict[int, Prepared] = {}

    def of(self, policy: model.Policy) -> Prepared:
        found = self.by_id.get(id(policy))
        if found is not None and found.policy is policy:
            return found
        if len(self.by_id) >= self.MOST:
            try:
                del self.by_id[next(iter(self.by_id))]
            except (KeyError, StopIteration, RuntimeError):
                pass
        made = self.by_id[id(policy)] = Prepared.of(policy)
        return made


PREPARED = PreparedPolicies()


def prepare(policy: model.Policy) -> Prepared:
    """The policy's `Prepared`, made on its first evaluation."""
    return PREPARED.of(policy)
