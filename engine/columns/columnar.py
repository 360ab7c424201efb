"""The population back end: a batch of persons in one pass of array arithmetic, on the same plan.

Persons are columns (Arrow in, numpy integer arrays inside; money in exact fractions of a yuan,
`engine.core.algebra.Q`). The mechanics are `engine.core.mechanics` on day-number arrays, the formulas the
region's compiled `engine.core.plan` over `engine.core.algebra`'s arrays, the record figures `engine.core.pricing`
priced once for each distinct (period, facts, groups held, kind, tier) through a probe person. A person
outside the common shape — a field the columns do not read, an invalid record, a death, a given start
date, an opening balance — is handed to the one-person back end with the reason (`HANDED`, counted in
the batch's summary), so every row is the one-person back end's row to the fen (tests/test_columnar.py
compares both on random persons). `evaluate_batch` never raises for a person or a policy it cannot take:
a batch it cannot take at all (a column of another type, a constant that depends on a fact) is handed
whole, with the reason.
"""
from __future__ import annotations

import datetime as dt
import functools
import math
from decimal import Decimal

import attrs
import numpy as np
import pyarrow as pa

from engine.columns.arrays import Q, Unsupported, arrays
from engine.columns.arrow import day_numbers, encoded, exact_fen, is_text, is_valid, money_codes, money_fen, owners
from engine.columns.days import DAY_ARRAYS, FAR, day_number, from_day_number, from_ymd, years_of, ymd
from engine.columns.formulas import BatchFormulas
from engine.columns.handed import (
    COMPUTED,
    DATED_MEMBERSHIPS,
    DEATH,
    GIVEN_START,
    HANDED,
    INVALID_FIELD,
    MISSING_FACT,
    OPENING_BALANCE,
    POSITIONED_GROUP,
    RECORD_AFTER_START,
    REFUSED_RECORD,
    UNSPLIT_PRICE,
    WHOLE_BATCH,
)
from engine.columns.segments import distinct_keys, first_of, intervals, person_order, taken
from engine.core import mechanics
from engine.core.explain import NoTrace
from engine.core.lookup import Lookup, Uses
from engine.core.person import (
    CONTRIBUTION_KEYS,
    FIRST_YEAR,
    LAST_YEAR,
    Person,
    Record,
)
from engine.core.plan import compile_plan
from engine.core.prepared import prepare
from engine.core.pricing import Pricing, caps_of
from engine.language.model import LEVELS, Policy

TOP = {"id", "birth_date", "hukou", "groups", "contributions", "scheme_start_date"}
INTERPRETED = {"death_date", "pension_start_date", "opening_balance"}  # rows that give one go to the scalar back end
RECORD_FIGURES_MOST = 200_000  # distinct priced records kept per policy version (past it they are priced afresh)
STATUS_CODES = {name: code for code, name in enumerate(mechanics.STATUSES)}
NO_TRACE = NoTrace()
BY_COLUMN = {"death_date": DEATH, "pension_start_date": GIVEN_START, "opening_balance": OPENING_BALANCE}
__all__ = ["HANDED", "Result", "evaluate_batch"]


@attrs.frozen
class Result:
    """Output columns for a batch, why each row the one-person back end must answer is handed to it, and the
    component totals (of the rows computed here)."""

    columns: dict
    handed: np.ndarray  # int8 per row: an index into HANDED, 0 for a row computed here
    totals: dict
    whole_batch: str | None = None  # why the whole batch was handed (the catalogue's `batch.whole.<reason>`)

    @property
    def fallback(self) -> np.ndarray:
        """The rows the one-person back end answers."""
        return self.handed != COMPUTED

    def counts(self) -> dict[str, int]:
        """Persons handed, by reason (a whole batch under `whole_batch.<reason>`)."""
        found = np.bincount(self.handed, minlength=len(HANDED))
        out = {HANDED[code]: int(n) for code, n in enumerate(found.tolist()) if code != COMPUTED and n}
        if self.whole_batch and WHOLE_BATCH < len(found) and found[WHOLE_BATCH]:
            out[f"whole_batch.{self.whole_batch}"] = out.pop("whole_batch")
        return out


def evaluate_batch(policy: Policy, as_of: dt.date, table: pa.Table) -> Result:
    """Evaluate every row it can; `Result.handed` says which rows the one-person back end must answer, and why."""
    try:
        return Batch(policy, as_of, table).run()
    except Unsupported as refused:  # the whole batch: a reason of the batch, not of any person
        return Result({}, np.full(table.num_rows, WHOLE_BATCH, dtype=np.int8), {}, refused.reason)
    except pa.ArrowException:  # a column Arrow cannot read as its type says
        return Result({}, np.full(table.num_rows, WHOLE_BATCH, dtype=np.int8), {}, "arrow")


class Batch:
    def __init__(self, policy: Policy, as_of: dt.date, table: pa.Table):
        self.policy, self.as_of, self.table = policy, as_of, table
        self.n = table.num_rows
        self.handed = np.zeros(self.n, dtype=np.int8)
        self.as_of_day = day_number(as_of)
        self.missing: list[str] = []  # facts a probe's lookup needed and did not have
        self.lookup = Lookup(policy, Person.probe({}, ()), "en", self.missing)
        self.alg = arrays(self.n)
        self.plan = compile_plan(policy)

    def hand(self, who, reason: int) -> None:
        """Hand `who` (a bool mask or row indices) to the one-person back end, unless already handed."""
        if isinstance(who, np.ndarray) and who.dtype == bool:
            who = who & (self.handed == COMPUTED)
            self.handed[who] = reason
        elif len(who):
            who = np.asarray(who)
            self.handed[who[self.handed[who] == COMPUTED]] = reason

    @property
    def route(self) -> np.ndarray:
        """The rows handed so far."""
        return self.handed != COMPUTED

    # The screen: only fields whose reading is re-done here exactly; anything else goes to the scalar back end.
    def run(self) -> Result:
        names = set(self.table.column_names)
        if not names <= TOP | INTERPRETED or "birth_date" not in names:
            raise Unsupported("shape")
        for name in sorted(names & INTERPRETED):
            self.hand(is_valid(self.table.column(name).combine_chunks()), BY_COLUMN[name])
        self.constants()
        self.read_ids()
        self.read_birth()
        self.read_hukou()
        self.read_groups()
        self.read_contributions()
        self.scheme()
        self.judge_records()
        self.record_figures()
        self.eligibility()
        self.years()
        self.account()
        components = self.pension()
        return self.output(components)

    def constants(self) -> None:
        for name in ("pension_age", "enrolment_age", "full_contribution_years"):
            if any(v.condition for v in self.policy.all_versions(name)):
                raise Unsupported("fact_constant")
            if not any(True for _ in self.policy.all_versions(name)):
                raise Unsupported("undefined_constant")  # the one-person back end says which, for each person
        self.pension_age = int(self.lookup.constant("pension_age", self.as_of))
        self.enrolment_age = int(self.lookup.constant("enrolment_age", self.as_of))
        self.full_years = int(self.lookup.constant("full_contribution_years", self.as_of))

    def read_ids(self) -> None:
        if "id" in self.table.column_names and not (is_text(self.table.column("id").type)
                                                    or pa.types.is_null(self.table.column("id").type)):
            raise Unsupported("column_type")

    def read_birth(self) -> None:
        days, ok = day_numbers(self.table.column("birth_date"))
        self.hand(~ok | (days > self.as_of_day), INVALID_FIELD)
        self.birth = np.where(ok, days, 0)
        self.by, self.bm, self.bd = ymd(self.birth)

    def read_hukou(self) -> None:
        declared = {name.split(".", 1)[1]: f for name, f in self.policy.facts.items() if name.startswith("hukou.")}
        keys = list(declared)
        codes = np.full((self.n, len(keys)), -1, dtype="int64")  # index into `values[k]`, -1 for none
        values: list[list] = [[] for _ in keys]
        column = self.table.column("hukou").combine_chunks() if "hukou" in self.table.column_names else None
        if column is not None and not pa.types.is_null(column.type):
            if not pa.types.is_struct(column.type):
                raise Unsupported("column_type")
            valid = is_valid(column)
            for i in range(column.type.num_fields):
                field = column.type.field(i)
                present = is_valid(column.field(i)) & valid
                if field.name not in declared or not is_text(field.type):
                    self.hand(present, INVALID_FIELD)
                    continue
                k = keys.index(field.name)
                dictionary, index = encoded(column.field(i))
                values[k] = dictionary.to_pylist()
                choices = {c for c, _ in declared[field.name].choices}
                allowed = np.array([not choices or v in choices for v in values[k]] + [True], dtype=bool)
                index = np.where(present, index, -1)
                self.hand(~allowed[index], INVALID_FIELD)
                codes[:, k] = index
        if self.n and keys and math.prod(len(v) + 1 for v in values) >= 2**62:
            unique, inverse = np.unique(codes, axis=0, return_inverse=True)
        elif self.n and keys:
            # the distinct rows of codes in np.unique's (lexicographic) order, by one mixed-radix key per person
            radix = [len(v) + 1 for v in values]
            key = np.zeros(self.n, dtype="int64")
            for k in range(len(keys)):
                key = key * radix[k] + (codes[:, k] + 1)
            distinct, inverse = distinct_keys(key, math.prod(radix))
            unique = np.zeros((len(distinct), len(keys)), dtype="int64")
            for k in range(len(keys) - 1, -1, -1):
                distinct, unique[:, k] = np.divmod(distinct, radix[k])
            unique -= 1
        else:
            unique, inverse = np.zeros((1, len(keys)), dtype="int64") - 1, np.zeros(self.n, dtype="int64")
        self.fact_class = np.asarray(inverse, dtype="int64").reshape(-1)
        self.classes = [{k: (values[j][c] if c >= 0 else None) for j, (k, c) in enumerate(zip(keys, row))}
                        for row in unique]

    def read_groups(self) -> None:
        self.group_names = list(self.policy.groups)
        self.group_start = np.full((self.n, len(self.group_names)), FAR, dtype="int64")
        self.group_end = np.full((self.n, len(self.group_names)), FAR, dtype="int64")
        if "groups" not in self.table.column_names:
            return
        column = self.table.column("groups").combine_chunks()
        if pa.types.is_null(column.type):
            return
        if not pa.types.is_list(column.type):
            raise Unsupported("column_type")
        items = column.flatten()
        owner = owners(column)
        if len(items) == 0:
            return
        if pa.types.is_null(items.type):
            self.hand(owner, INVALID_FIELD)  # null entries in the list
            return
        if not pa.types.is_struct(items.type):
            raise Unsupported("column_type")
        self.hand(owner[~is_valid(items)], INVALID_FIELD)
        fields = {items.type.field(i).name: items.field(i) for i in range(items.type.num_fields)}
        positions = {g.required_key for g in self.policy.groups.values() if g.required_key}
        for name, values in fields.items():
            if name not in ("id", "from", "to"):  # a position (village cadres') is read by the one-person back end
                self.hand(owner[is_valid(values)], POSITIONED_GROUP if name in positions else INVALID_FIELD)
        if "id" not in fields or "from" not in fields:
            self.hand(owner, INVALID_FIELD)
            return
        if not is_text(fields["id"].type):
            raise Unsupported("column_type")
        dictionary, index = encoded(fields["id"])
        named = dictionary.to_pylist()
        usable = [self.group_names.index(g) if g in self.policy.groups and not self.policy.groups[g].required_key
                  else -1 for g in named]
        positioned = np.array([g in self.policy.groups and bool(self.policy.groups[g].required_key) for g in named]
                              + [False], dtype=bool)[index]
        self.hand(owner[positioned], POSITIONED_GROUP)
        group = np.array(usable + [-1], dtype="int64")[index]
        start, ok = day_numbers(fields["from"])
        end = np.full(len(items), FAR, dtype="int64")
        if "to" in fields and not pa.types.is_null(fields["to"].type):
            given = is_valid(fields["to"])
            end_days, end_ok = day_numbers(fields["to"])
            ok &= ~given | (end_ok & (end_days >= start))
            end = np.where(given, end_days, FAR)
        good = (group >= 0) & ok
        self.hand(owner[~good], INVALID_FIELD)
        owner, group, start, end = owner[good], group[good], start[good], end[good]
        # One membership per group is a period; several open-ended ones hold from the earliest; several
        # with end dates are left to the interpreter.
        cell, cells = owner * len(self.group_names) + group, self.group_start.size
        count = np.bincount(cell, minlength=cells).reshape(self.group_start.shape)
        ended = np.bincount(cell[end < FAR], minlength=cells).reshape(self.group_start.shape)
        self.hand(((count > 1) & (ended > 0)).any(axis=1), DATED_MEMBERSHIPS)
        if count.size and count.max() > 1:
            np.minimum.at(self.group_start, (owner, group), start)
            np.minimum.at(self.group_end, (owner, group), end)
        else:  # each membership in a cell of its own: the minimum with "never" is the membership's own dates
            self.group_start[owner, group] = start
            self.group_end[owner, group] = end

    def read_contributions(self) -> None:
        empty = np.zeros(0, dtype="int64")
        self.r_person = self.r_year = self.r_tier = self.r_kind = self.r_date = self.r_collective = empty
        self.r_tier_code, self.tier_codes = empty, 1
        self.r_has_date = np.zeros(0, dtype=bool)
        if "contributions" not in self.table.column_names:
            return
        column = self.table.column("contributions").combine_chunks()
        if pa.types.is_null(column.type):
            return
        if not pa.types.is_list(column.type):
            raise Unsupported("column_type")
        items = column.flatten()
        owner = owners(column)
        if len(items) == 0:
            return
        if not pa.types.is_struct(items.type):
            raise Unsupported("column_type")
        bad = ~np.asarray(items.is_valid().to_numpy(zero_copy_only=False))
        fields = {items.type.field(i).name: items.field(i) for i in range(items.type.num_fields)}
        for name, values in fields.items():
            if name not in CONTRIBUTION_KEYS:
                bad |= np.asarray(values.is_valid().to_numpy(zero_copy_only=False))
        for name in ("year", "tier", "kind"):
            if name not in fields:
                bad[:] = True
                self.hand(owner, INVALID_FIELD)
                return
        year = fields["year"]
        if not pa.types.is_integer(year.type):
            raise Unsupported("column_type")
        year_values = np.asarray(year.fill_null(0).to_numpy(zero_copy_only=False), dtype="int64")
        bad |= (year_values < FIRST_YEAR) | (year_values > LAST_YEAR)
        tier_fen, tier_ok, tier_code, self.tier_codes = money_codes(fields["tier"])
        bad |= ~tier_ok
        kind = fields["kind"]
        if not is_text(kind.type):
            raise Unsupported("column_type")
        dictionary, index = encoded(kind)
        kinds = {"regular": 0, "back_payment": 1}
        kind_code = np.array([kinds.get(k, -1) for k in dictionary.to_pylist()] + [-1], dtype="int64")[index]
        bad |= kind_code < 0
        if "date" in fields:
            date_values = fields["date"]
            has_date = np.asarray(date_values.is_valid().to_numpy(zero_copy_only=False))
            days, ok = day_numbers(date_values)
            bad |= has_date & ~ok
        else:
            has_date = np.zeros(len(items), dtype=bool)
            days = np.zeros(len(items), dtype="int64")
        collective = np.zeros(len(items), dtype="int64")
        if "collective" in fields and not pa.types.is_null(fields["collective"].type):
            given = is_valid(fields["collective"])
            collective, ok = money_fen(fields["collective"])
            bad |= given & ~ok
            collective = np.where(given, collective, 0)
        self.hand(owner[bad], INVALID_FIELD)
        self.r_person, self.r_year, self.r_tier, self.r_kind = owner, year_values, tier_fen, kind_code
        self.r_tier_code = tier_code  # the tier's text among the column's distinct texts
        self.r_collective = collective
        self.r_date, self.r_has_date = np.where(has_date, days, 0), has_date

    def scheme(self) -> None:
        """Scheme start per fact class, by the same lookup as one person's (a table keyed by county …)."""
        starts = np.zeros(len(self.classes), dtype="int64")
        failed = np.zeros(len(self.classes), dtype=bool)
        for c, facts in enumerate(self.classes):
            missing: list[str] = []
            start = Lookup(self.policy, Person.probe(facts, ()), "en", missing).scheme_start(self.as_of)[0]
            if start is None or missing:
                failed[c] = True
            else:
                starts[c] = day_number(start)
        given, days = np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype="int64")
        if "scheme_start_date" in self.table.column_names:
            column = self.table.column("scheme_start_date").combine_chunks()
            given = is_valid(column)
            days, ok = day_numbers(column)
            self.hand(given & ~ok, INVALID_FIELD)
        self.hand(failed[self.fact_class] & ~given, MISSING_FACT)
        self.scheme_start = np.where(given, days, starts[self.fact_class])
        self.sy, self.sm, self.sd = ymd(self.scheme_start)
        cal = DAY_ARRAYS
        self.enrolment_day = from_ymd(*cal.anniversary(self.by, self.bm, self.bd, self.enrolment_age))
        y, m, d = cal.anniversary(self.by, self.bm, self.bd, self.pension_age)
        self.pension_month = cal.first_of_next_month(from_ymd(y, m, d))
        self.age_at_start = cal.age_on(self.by, self.bm, self.bd, self.sy, self.sm, self.sd)
        self.required = mechanics.required_years(cal, self.age_at_start, self.pension_age, self.full_years, y,
                                                 self.sy)

    def judge_records(self) -> None:
        """The day each record is judged on, and the persons with a record the mechanics refuse."""
        p = self.r_person
        earliest = mechanics.earliest_back_payment_year(DAY_ARRAYS, self.sy, ymd(self.enrolment_day)[0])
        day, problem = mechanics.record_problem(DAY_ARRAYS, self.r_kind == 0, self.r_has_date, self.r_date,
                                                self.r_year, self.scheme_start[p], earliest[p], self.enrolment_day[p])
        bad = problem != mechanics.RECORD_OK
        order = person_order(p, self.r_year)
        po, yo = taken(p, order), taken(self.r_year, order)
        second = np.flatnonzero((po[1:] == po[:-1]) & (yo[1:] == yo[:-1])) + 1
        bad[second if order is None else order[second]] = True  # a second record for a year
        self.hand(p[bad], REFUSED_RECORD)
        self.r_day = day

    def record_figures(self) -> None:
        """Personal, 代缴, subsidy by level per record: engine.core.pricing's figures for each distinct key."""
        keep = ~self.route[self.r_person]
        if not keep.all():
            self.r_person, self.r_year, self.r_tier, self.r_kind, self.r_day, self.r_collective, self.r_tier_code = (
                a[keep] for a in (self.r_person, self.r_year, self.r_tier, self.r_kind, self.r_day,
                                  self.r_collective, self.r_tier_code))
        p, day = self.r_person, self.r_day
        bounds = np.array([day_number(d) for d in self.plan.change_days], dtype="int64")
        interval = intervals(bounds, day)
        held = np.zeros(len(p), dtype="int64")
        in_group = np.zeros(self.n, dtype=bool)
        for g in range(len(self.group_names)):
            in_group |= self.group_start[:, g] < FAR
        member = np.flatnonzero(in_group[p])  # the records of persons in some group
        if len(member) and self.group_names:
            pm, dm = p[member], day[member][:, None]
            inside = (self.group_start[pm] <= dm) & (dm <= self.group_end[pm])
            held[member] = inside.astype("int64") @ (1 << np.arange(len(self.group_names), dtype="int64"))
        # by the tier's text (a record kept has a valid one): a few codes, where the fen span thousands of yuan
        tiers, tier_index = distinct_keys(self.r_tier_code, self.tier_codes)
        # One integer key per record, of the ranks among the values present (a small range); each distinct key is
        # priced once (and remembered across batches).
        parts = [distinct_keys(interval, len(bounds) + 1), (None, self.fact_class[p]),
                 distinct_keys(held, 1 << len(self.group_names)), (None, self.r_kind), (tiers, tier_index)]
        sizes = [len(parts[0][0]), len(self.classes), len(parts[2][0]), 2, len(tiers)]
        key = np.zeros(len(p), dtype="int64")
        for (_, part), size in zip(parts, sizes):
            if size > 1:  # a part with one value adds nothing to the key
                key *= size
                key += part
        unique, inverse = distinct_keys(key, math.prod(sizes))
        first = first_of(inverse, len(unique))
        cache = prepare(self.policy).record_figures
        if len(cache) > RECORD_FIGURES_MOST:  # a long-running process sees a few thousand keys per policy version
            cache.clear()
        caps = list(caps_of(self.policy).items())
        # why it is handed (0: priced), personal, gov, levels…, then each capped item's levels (priced as if no year
        # were used yet)
        width = 3 + len(LEVELS) * (1 + len(caps))
        facts_of = [tuple(sorted(facts.items())) for facts in self.classes]
        priced = []
        for c, mask, kind, tier, at, d in zip(*(a.tolist() for a in (self.fact_class[p[first]], held[first],
                                                                     self.r_kind[first], self.r_tier[first],
                                                                     interval[first], day[first]))):
            lookup = (at, facts_of[c], mask, kind, tier)
            figures = cache.get(lookup)
            if figures is None:
                figures = cache[lookup] = self._price(self.classes[c], mask, kind, Decimal(tier) / 100,
                                                      from_day_number(d))
            priced.append(figures)
        figures = np.array(priced, dtype="int64").reshape(len(unique), width)
        if figures[:, 0].any():
            reason = figures[:, 0][inverse]
            for code in np.unique(reason[reason != COMPUTED]).tolist():
                self.hand(p[reason == code], code)
        # Only what a record puts in the account is needed on: sums over the levels per distinct key, then one
        # gather per record (a capped item past its cap comes off the subsidy).
        # (what a key credits but the collective aid, gathered once; the aid and the capped items per record)
        levels = figures[:, 3:3 + len(LEVELS)].sum(axis=1)
        credited = mechanics.credited(figures[:, 1], figures[:, 2], levels, 0)[inverse] + self.r_collective
        for i, (_, cap) in enumerate(caps):
            item = figures[:, 3 + len(LEVELS) * (i + 1):][:, :len(LEVELS)].sum(axis=1)
            if item.any():
                credited = credited - self._beyond_cap(item[inverse], cap)
        self.r_credited = credited

    def _beyond_cap(self, item: np.ndarray, cap: int) -> np.ndarray:
        """The item on the records past the first `cap` (in year order) of each person that earn it (else 0)."""
        earns = item != 0
        order = person_order(self.r_person, self.r_year)
        p, e = taken(self.r_person, order), taken(earns, order).astype("int64")
        before = np.cumsum(e) - e  # records that earned it before this one, over everyone …
        first = np.searchsorted(p, p, side="left")  # … less those of the persons before this one
        if order is None:
            rank = before - before[first]
        else:
            rank = np.empty(len(order), dtype="int64")
            rank[order] = before - before[first]
        return np.where(earns & (rank >= cap), item, 0)

    def _price(self, facts: dict, mask: int, kind: int, tier: Decimal, day: dt.date) -> list[int]:
        """engine.core.pricing's figures of one distinct record, in fen; or why its persons are handed (first)."""
        groups = tuple(g for i, g in enumerate(self.group_names) if mask >> i & 1)
        missing: list[str] = []
        lookup = Lookup(self.policy, Person.probe(facts, groups), "en", missing)
        errors: list = []
        record = Record(0, day.year, tier, "regular" if kind == 0 else "back_payment", day, Decimal(0))
        priced = Pricing(lookup, Uses(self.policy), NO_TRACE, errors).price(record, day)
        width = 3 + len(LEVELS) * (1 + len(caps_of(self.policy)))
        if missing:
            return [MISSING_FACT] + [0] * (width - 1)
        if priced is None or errors:  # the one-person back end says what is wrong with the record
            return [REFUSED_RECORD] + [0] * (width - 1)
        levels = dict(priced.subsidy.by_level)
        capped = dict(priced.capped)
        parts = [priced.personal, priced.government_paid] + [levels.get(l, Decimal(0)) for l in LEVELS]
        for name in caps_of(self.policy):
            item = dict(capped[name].by_level) if name in capped else {}
            if name in capped and capped[name].total != sum(item.values(), Decimal(0)):
                return [UNSPLIT_PRICE] + [0] * (width - 1)
            parts += [item.get(l, Decimal(0)) for l in LEVELS]
        fen = [exact_fen(part) for part in parts]
        if priced.subsidy.total != sum(levels.values(), Decimal(0)) or None in fen:
            return [UNSPLIT_PRICE] + [0] * (width - 1)  # a subsidy without a funding level, or finer than a fen
        return [COMPUTED] + fen

    def eligibility(self) -> None:
        """The pension start by engine.core.mechanics' routes, the earliest of them (FAR where none)."""
        n, p, cal = self.n, self.r_person, DAY_ARRAYS
        aged = self.age_at_start >= self.pension_age
        candidates = [mechanics.age_start(cal, aged, self.scheme_start, self.pension_month)]
        # the payment route: the day the required-th record (in date order, paid by as_of) was paid
        paid = self.r_day <= self.as_of_day
        order = person_order(p, self.r_day)
        order = np.flatnonzero(paid) if order is None else order[paid[order]]
        counts = np.bincount(p[order], minlength=n)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        need = self.required
        has = (need > 0) & (counts >= need)
        met = np.full(n, FAR)
        idx = np.flatnonzero(has)
        met[idx] = self.r_day[order[offsets[idx] + need[idx] - 1]]
        candidates.append(mechanics.payment_start(cal, aged, need, met, self.pension_month))
        for _, _, group, rule_start, rule_end in prepare(self.policy).early_routes:
            if group not in self.group_names:
                continue
            g_start = self.group_start[:, self.group_names.index(group)]
            member = g_start < FAR  # a person not in the group: a membership that ends before it begins
            g_end = np.where(member, self.group_end[:, self.group_names.index(group)], -FAR)
            candidates.append(mechanics.early_start(cal, day_number(rule_start), day_number(rule_end),
                                                    self.pension_month, np.where(member, g_start, 0), g_end,
                                                    self.as_of_day))
        self.start = functools.reduce(np.minimum, candidates)
        self.eligible = self.start < FAR
        late = self.eligible[p] & (self.r_day > self.start[p])
        self.hand(p[late], RECORD_AFTER_START)
    def years(self) -> None:
        p = self.r_person
        self.counted = self.r_day <= self.as_of_day
        n_counted = np.bincount(p[self.counted], minlength=self.n)
        self.counted_years = mechanics.counted_years(DAY_ARRAYS, n_counted, self.required, self.full_years)
        sel = self.counted & (self.r_kind == 0)
        ps, ys = p[sel], self.r_year[sel]
        order = person_order(ps, ys)
        pp, yy = taken(ps, order), taken(ys, order)
        breaks = np.ones(len(pp), dtype=bool)
        breaks[1:] = (pp[1:] != pp[:-1]) | (yy[1:] != yy[:-1] + 1)
        runs = np.flatnonzero(breaks)  # where each run of consecutive years starts, in person order
        run_len = np.diff(np.append(runs, len(pp)))
        best = np.zeros(self.n, dtype="int64")
        if len(pp):
            owner = pp[runs]
            first = np.flatnonzero(np.append(True, owner[1:] != owner[:-1]))  # each person's first run
            best[owner[first]] = np.maximum.reduceat(run_len, first)
        self.continuous_years = best
        self.regular_years = np.bincount(ps, minlength=self.n)
        ay, am, ad = (np.array([part], dtype="int64") for part in (self.as_of.year, self.as_of.month, self.as_of.day))
        self.age = DAY_ARRAYS.age_on(self.by, self.bm, self.bd, ay, am, ad)
        # deaths are answered by the scalar back end: here nobody is deceased
        self.status = mechanics.status(DAY_ARRAYS, False, self.eligible & (self.start <= self.as_of_day),
                                       self.age < self.pension_age, self.eligible & (self.start > self.as_of_day))

    def account(self) -> None:
        self.started = self.eligible & (self.start <= self.as_of_day)
        day = np.where(self.started, self.start, self.as_of_day)
        until = years_of(day)
        # Counted, and credited by the person's last year (a payment in a year after the pension start adds
        # nothing to the balance at the start): a later year's cell would lie in the next person's row.
        credit_year = years_of(self.r_day)
        kept = self.counted & (credit_year <= until[self.r_person])
        kept = slice(None) if kept.all() else kept  # (records after the as-of day or the start: rare)
        p = self.r_person[kept]
        credit_year = credit_year[kept]
        credited = self.r_credited[kept]
        balance = np.zeros(self.n, dtype="int64")
        if len(p):
            first, last = int(credit_year.min()), int(until.max())
            width = last - first + 1
            cells = np.bincount(p * width + (credit_year - first), weights=credited.astype("float64"),
                                minlength=self.n * width)  # exact: sums stay far below 2**53 fen
            by_year = np.rint(cells).astype("int64").reshape(self.n, width)
            for y in range(first, last + 1):
                add = np.where(y <= until, by_year[:, y - first], 0)
                rate = self._rate(dt.date(y, 12, 31))
                if rate is not None and y < last:
                    interest = mechanics.yearly_interest(balance, rate)
                    balance = balance + add + np.where(y < until, interest, 0)
                else:
                    balance = balance + add
        self.at_start = np.where(self.started, balance, 0)
        monthly = np.zeros(self.n, dtype="int64")
        # the divisor in force on each distinct start day, then the persons of each distinct divisor at once
        starts, start_index = np.unique(self.start[self.started], return_inverse=True)
        ratios = [Decimal(self.lookup.rule("account_divisor", from_day_number(s)).figure).as_integer_ratio()
                  for s in starts.tolist()]
        divisors = list(dict.fromkeys(ratios))
        by_divisor = np.array([divisors.index(r) for r in ratios] or [0], dtype="int64")[start_index.reshape(-1)]
        at_start = self.at_start[self.started]
        paid = np.zeros(len(at_start), dtype="int64")
        for i, ratio in enumerate(divisors):
            who = by_divisor == i if len(divisors) > 1 else slice(None)
            paid[who] = mechanics.account_pension(at_start[who], ratio)
        monthly[self.started] = paid
        months = DAY_ARRAYS.months_inclusive(np.where(self.started, self.start, 0), np.full(self.n, self.as_of_day))
        self.balance = np.where(self.started, mechanics.balance_after_start(DAY_ARRAYS, self.at_start, monthly, months),
                                balance)

    def _rate(self, day: dt.date):
        versions = self.policy.versions_at("interest_rate", day)
        if any(v.condition for v in versions):
            raise Unsupported("fact_constant")
        if not versions:
            return None
        return Decimal(versions[0].figure).as_integer_ratio()

    # ── the pension: the plan's formulas over arrays ───────────────────────
    def pension(self) -> list:
        env = BatchFormulas(self)
        out = []
        for c in self.plan.components:
            paid = self.status == STATUS_CODES[c.formula.paid_while]
            out.append((c.name, self.alg.masked(env.formula(c.name), paid)))
        return out

    # ── output ─────────────────────────────────────────────────────────────
    def output(self, components: list) -> Result:
        total = Q(np.zeros(self.n, "int64"), 1, 0)
        columns, totals = {}, {}
        keep = ~self.route
        anyone = bool(keep.any())
        keep = slice(None) if keep.all() else keep  # every row (the common case): no selection to copy
        for name, money in components:
            total = total + money.total
            fen = money.total.fen_values()
            columns[name] = fen
            if not anyone:
                continue
            parts = totals.setdefault(name, {"total": Decimal(int(fen[keep].sum())) / 100})
            if name == "account_pension":
                continue
            for level, v in money.by_level:
                level_fen = v.fen_values()
                if np.any(v.num[keep] != 0):
                    parts[level] = Decimal(int(level_fen[keep].sum())) / 100
        columns["monthly_pension_total"] = total.fen_values()
        columns["account_balance"] = self.balance
        columns["status"] = self.status
        return Result(columns, self.handed.copy(), totals)


