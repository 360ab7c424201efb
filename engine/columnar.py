"""Population evaluation on columns: a batch of persons in one pass of integer-fen array arithmetic.

The per-record figures (tier table, 代缴, subsidies, rewards) are looked up once for each distinct
(period, facts, groups held, kind, tier) by the interpreter's own functions and spread over the
records; eligibility, the account with its yearly interest and the pension formulas run over numpy
arrays as exact fractions. A person outside the common shape — a field the columns do not read, an
invalid record, a death, a given start date — is answered by the interpreter, so every row is the
interpreter's row to the fen (tests/test_columnar.py compares both paths on random persons).
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine import nodes
from engine.check import BUILTIN_ALIASES, FUNCTIONS
from engine.errors import InvalidInput
from engine.evaluate import _Run
from engine.model import LEVELS, Policy
from engine.person import CONTRIBUTION_KEYS, DATE_PATTERN, EARLIEST, FIRST_YEAR, LAST_YEAR, LATEST, MONEY, \
    Membership, Person, Record

EPOCH = dt.date(1970, 1, 1)
FAR = np.int64(10**9)  # "never" as a day number
TOP = {"id", "birth_date", "hukou", "groups", "contributions", "scheme_start_date"}
INTERPRETED = {"death_date", "pension_start_date", "opening_balance"}  # rows that give one go to the interpreter


_FIGURES: dict[str, dict] = {}  # policy digest → record-figure key → figures (a process-wide memo)


class Unsupported(Exception):
    """The policy or the batch uses something the column path does not compute: use the interpreter."""


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def from_day_number(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


# ── calendar on arrays of day numbers (engine.dates, vectorised) ─────────
def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of day numbers (proleptic Gregorian, in integer arithmetic: H. Hinnant's civil_from_days)."""
    z = np.asarray(days, dtype="int64") + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, d


def from_ymd(y, m, d) -> np.ndarray:
    """Day numbers of (year, month, day) arrays (days_from_civil)."""
    y, m, d = (np.asarray(v, dtype="int64") for v in (y, m, d))
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _leap(y) -> np.ndarray:
    return (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))


def anniversary(by, bm, bd, years: int):
    """dates.anniversary: 29 February falls on 1 March in common years."""
    y = by + years
    moved = (bm == 2) & (bd == 29) & ~_leap(y)
    return y, np.where(moved, 3, bm), np.where(moved, 1, bd)


def age_on(by, bm, bd, y, m, d):
    years = y - by
    _, am, ad = anniversary(by, bm, bd, 0)
    moved = (bm == 2) & (bd == 29) & ~_leap(y)
    am, ad = np.where(moved, 3, bm), np.where(moved, 1, bd)
    return years - ((am * 100 + ad) > (m * 100 + d))


def first_of_next_month(days):
    y, m, _ = ymd(days)
    return from_ymd(y + (m == 12), m % 12 + 1, 1)


def first_of_month(days):
    y, m, _ = ymd(days)
    return from_ymd(y, m, 1)


def months_inclusive(start, end):
    sy, sm, _ = ymd(start)
    ey, em, _ = ymd(end)
    return np.maximum((ey - sy) * 12 + em - sm + 1, 0)


# ── exact fractions over arrays ───────────────────────────────────────────
@attrs.frozen
class Q:
    """num / den yuan, elementwise; den a positive integer shared by the whole array."""

    num: np.ndarray
    den: int

    @classmethod
    def of(cls, value: Decimal | int, n: int) -> "Q":
        frac = Decimal(value).as_integer_ratio()
        return cls(np.full(n, frac[0], dtype="int64"), frac[1])

    @classmethod
    def fen(cls, values: np.ndarray) -> "Q":
        return cls(values.astype("int64"), 100)

    def _common(self, other: "Q"):
        den = self.den * other.den // math.gcd(self.den, other.den)
        return self.num * (den // self.den), other.num * (den // other.den), den

    def __add__(self, other: "Q") -> "Q":
        a, b, den = self._common(other)
        return Q(a + b, den)

    def __neg__(self) -> "Q":
        return Q(-self.num, self.den)

    def __sub__(self, other: "Q") -> "Q":
        return self + (-other)

    def __mul__(self, other: "Q") -> "Q":
        return Q(self.num * other.num, self.den * other.den)._reduced()

    def divide(self, other: "Q") -> "Q":
        """Division by a figure that is the same for everyone (e.g. the account divisor)."""
        divisors = np.unique(other.num)
        if len(divisors) != 1 or divisors[0] == 0:
            raise Unsupported("division by a per-person or zero amount")
        d = int(divisors[0])
        sign = -1 if d < 0 else 1
        return Q(self.num * other.den * sign, self.den * abs(d))._reduced()

    def _reduced(self) -> "Q":
        if self.den == 1:
            return self
        g = math.gcd(self.den, int(np.gcd.reduce(self.num)) if self.num.size else 0)
        return Q(self.num // g, self.den // g) if g > 1 else self

    def compare(self, other: "Q", op: str) -> np.ndarray:
        a, b, _ = self._common(other)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]

    def where(self, mask: np.ndarray, other: "Q") -> "Q":
        a, b, den = self._common(other)
        return Q(np.where(mask, a, b), den)

    def round_fen(self) -> "Q":
        """四舍五入到分, half away from zero as Decimal's ROUND_HALF_UP."""
        magnitude = (2 * np.abs(self.num) * 100 + self.den) // (2 * self.den)
        return Q(np.sign(self.num) * magnitude, 100)

    def fen_values(self) -> np.ndarray:
        return self.round_fen().num


@attrs.frozen
class Money:
    """An Amount over arrays: the total and its parts by funding level."""

    total: Q
    levels: tuple[tuple[str, Q], ...] = ()

    @classmethod
    def at(cls, level: str | None, value: Q) -> "Money":
        return cls(value, ((level, value),) if level else ())

    def level_map(self) -> dict[str, Q]:
        return dict(self.levels)

    def __add__(self, other: "Money") -> "Money":
        merged = self.level_map()
        for level, v in other.levels:
            merged[level] = merged[level] + v if level in merged else v
        return Money(self.total + other.total, _ordered(merged))

    def __neg__(self) -> "Money":
        return Money(-self.total, tuple((l, -v) for l, v in self.levels))

    def scaled(self, factor: Q) -> "Money":
        return Money(self.total * factor, tuple((l, v * factor) for l, v in self.levels))

    def divided(self, divisor: Q) -> "Money":
        return Money(self.total.divide(divisor), tuple((l, v.divide(divisor)) for l, v in self.levels))

    def rounded(self) -> "Money":
        return Money(self.total.round_fen(), tuple((l, v.round_fen()) for l, v in self.levels))

    def masked(self, mask: np.ndarray) -> "Money":
        """Zero where `mask` is False (a component not paid to that person)."""
        zero = Q(np.zeros_like(self.total.num), 1)
        return Money(self.total.where(mask, zero), tuple((l, v.where(mask, zero)) for l, v in self.levels))


def _ordered(levels: dict) -> tuple:
    return tuple((l, levels[l]) for l in LEVELS if l in levels)


def _choose(mask: np.ndarray, a, b):
    """Elementwise a where mask else b, for Money, Q or bool arrays."""
    if isinstance(a, Money) or isinstance(b, Money):
        a, b = _money(a), _money(b)
        zero = Q(np.zeros_like(a.total.num), 1)
        la, lb = a.level_map(), b.level_map()
        levels = {l: la.get(l, zero).where(mask, lb.get(l, zero)) for l in LEVELS if l in la or l in lb}
        return Money(a.total.where(mask, b.total), _ordered(levels))
    if isinstance(a, Q):
        return a.where(mask, b)
    return np.where(mask, a, b)


def _money(v) -> "Money":
    return v if isinstance(v, Money) else Money(v)


# ── the batch ─────────────────────────────────────────────────────────────
@attrs.frozen
class Result:
    """Output columns for a batch, the rows the interpreter must answer, and the component totals."""

    columns: dict
    fallback: np.ndarray  # bool per row
    totals: dict


def evaluate_batch(policy: Policy, as_of: dt.date, table: pa.Table) -> Result:
    """Evaluate every row it can; `fallback` marks the rows left to the interpreter."""
    return _Batch(policy, as_of, table).run()


class _Batch:
    def __init__(self, policy: Policy, as_of: dt.date, table: pa.Table):
        self.policy, self.as_of, self.table = policy, as_of, table
        self.n = table.num_rows
        self.route = np.zeros(self.n, dtype=bool)
        self.as_of_day = day_number(as_of)
        self.probe = _Run(policy, _probe_person({}, ()), as_of, False, "en")

    # The screen: only fields whose reading is re-done here exactly; anything else goes to the interpreter.
    def run(self) -> Result:
        names = set(self.table.column_names)
        if not names <= TOP | INTERPRETED or "birth_date" not in names:
            raise Unsupported("columns outside the common shape")
        for name in names & INTERPRETED:
            self.route |= _valid(self.table.column(name).combine_chunks())
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
                raise Unsupported(f"{name} depends on a fact")
        try:
            self.pension_age = int(self.probe.constant("pension_age"))
            self.enrolment_age = int(self.probe.constant("enrolment_age"))
            self.full_years = int(self.probe.constant("full_contribution_years"))
        except InvalidInput as exc:
            raise Unsupported(str(exc)) from None

    def read_ids(self) -> None:
        if "id" in self.table.column_names and not (pa.types.is_string(self.table.column("id").type)
                                                    or pa.types.is_null(self.table.column("id").type)):
            raise Unsupported("id is not a string column")

    def read_birth(self) -> None:
        days, ok = _dates(self.table.column("birth_date"))
        self.route |= ~ok | (days > self.as_of_day)
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
                raise Unsupported("hukou is not an object column")
            valid = _valid(column)
            for i in range(column.type.num_fields):
                field = column.type.field(i)
                present = _valid(column.field(i)) & valid
                if field.name not in declared or not pa.types.is_string(field.type):
                    self.route |= present
                    continue
                k = keys.index(field.name)
                encoded = pc.dictionary_encode(column.field(i))
                values[k] = encoded.dictionary.to_pylist()
                choices = {c for c, _ in declared[field.name].choices}
                allowed = np.array([not choices or v in choices for v in values[k]] + [True], dtype=bool)
                index = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype="int64")
                index = np.where(present, index, -1)
                self.route |= ~allowed[index]
                codes[:, k] = index
        if self.n and keys:
            unique, inverse = np.unique(codes, axis=0, return_inverse=True)
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
            raise Unsupported("groups is not a list column")
        items = column.flatten()
        owner = _owners(column)
        if len(items) == 0:
            return
        if pa.types.is_null(items.type):
            self.route[owner] = True  # null entries in the list
            return
        if not pa.types.is_struct(items.type):
            raise Unsupported("groups are not objects")
        self.route[owner[~_valid(items)]] = True
        fields = {items.type.field(i).name: items.field(i) for i in range(items.type.num_fields)}
        for name, values in fields.items():
            if name not in ("id", "from", "to"):
                self.route[owner[_valid(values)]] = True
        if "id" not in fields or "from" not in fields:
            self.route[owner] = True
            return
        if not pa.types.is_string(fields["id"].type):
            raise Unsupported("group ids are not text")
        encoded = pc.dictionary_encode(fields["id"])
        usable = [self.group_names.index(g) if g in self.policy.groups and not self.policy.groups[g].required_key
                  else -1 for g in encoded.dictionary.to_pylist()]
        lookup = np.array(usable + [-1], dtype="int64")
        group = lookup[np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype="int64")]
        start, ok = _dates(fields["from"])
        end = np.full(len(items), FAR, dtype="int64")
        if "to" in fields and not pa.types.is_null(fields["to"].type):
            given = _valid(fields["to"])
            end_days, end_ok = _dates(fields["to"])
            ok &= ~given | (end_ok & (end_days >= start))
            end = np.where(given, end_days, FAR)
        good = (group >= 0) & ok
        self.route[owner[~good]] = True
        owner, group, start, end = owner[good], group[good], start[good], end[good]
        # One membership per group is a period; several open-ended ones hold from the earliest; several
        # with end dates are left to the interpreter.
        count = np.zeros_like(self.group_start)
        np.add.at(count, (owner, group), 1)
        ended = np.zeros_like(self.group_start)
        np.add.at(ended, (owner, group), (end < FAR).astype("int64"))
        self.route |= ((count > 1) & (ended > 0)).any(axis=1)
        np.minimum.at(self.group_start, (owner, group), start)
        np.minimum.at(self.group_end, (owner, group), end)

    def read_contributions(self) -> None:
        empty = np.zeros(0, dtype="int64")
        self.r_person = self.r_year = self.r_tier = self.r_kind = self.r_date = self.r_collective = empty
        self.r_has_date = np.zeros(0, dtype=bool)
        if "contributions" not in self.table.column_names:
            return
        column = self.table.column("contributions").combine_chunks()
        if pa.types.is_null(column.type):
            return
        if not pa.types.is_list(column.type):
            raise Unsupported("contributions is not a list column")
        items = column.flatten()
        owner = _owners(column)
        if len(items) == 0:
            return
        if not pa.types.is_struct(items.type):
            raise Unsupported("contribution records are not objects")
        bad = ~np.asarray(items.is_valid().to_numpy(zero_copy_only=False))
        fields = {items.type.field(i).name: items.field(i) for i in range(items.type.num_fields)}
        for name, values in fields.items():
            if name not in CONTRIBUTION_KEYS:
                bad |= np.asarray(values.is_valid().to_numpy(zero_copy_only=False))
        for name in ("year", "tier", "kind"):
            if name not in fields:
                bad[:] = True
                self.route[owner] = True
                return
        year = fields["year"]
        if not pa.types.is_integer(year.type):
            raise Unsupported("year is not an integer column")
        year_values = np.asarray(year.fill_null(0).to_numpy(zero_copy_only=False), dtype="int64")
        bad |= (year_values < FIRST_YEAR) | (year_values > LAST_YEAR)
        tier_fen, tier_ok = _money_fen(fields["tier"])
        bad |= ~tier_ok
        kind = fields["kind"]
        if not (pa.types.is_string(kind.type)):
            raise Unsupported("kind is not a string column")
        kind_code = np.where(pc.equal(kind, "regular").fill_null(False).to_numpy(zero_copy_only=False), 0,
                             np.where(pc.equal(kind, "back_payment").fill_null(False).to_numpy(zero_copy_only=False),
                                      1, -1))
        bad |= kind_code < 0
        if "date" in fields:
            date_values = fields["date"]
            has_date = np.asarray(date_values.is_valid().to_numpy(zero_copy_only=False))
            days, ok = _dates(date_values)
            bad |= has_date & ~ok
        else:
            has_date = np.zeros(len(items), dtype=bool)
            days = np.zeros(len(items), dtype="int64")
        collective = np.zeros(len(items), dtype="int64")
        if "collective" in fields and not pa.types.is_null(fields["collective"].type):
            given = _valid(fields["collective"])
            collective, ok = _money_fen(fields["collective"])
            bad |= given & ~ok
            collective = np.where(given, collective, 0)
        self.route[owner[bad]] = True
        self.r_person, self.r_year, self.r_tier, self.r_kind = owner, year_values, tier_fen, kind_code
        self.r_collective = collective
        self.r_date, self.r_has_date = np.where(has_date, days, 0), has_date

    def scheme(self) -> None:
        """Scheme start per fact class, by the interpreter's own lookup (a table keyed by county …)."""
        starts = np.zeros(len(self.classes), dtype="int64")
        failed = np.zeros(len(self.classes), dtype=bool)
        for c, facts in enumerate(self.classes):
            run = _Run(self.policy, _probe_person(facts, ()), self.as_of, False, "en")
            try:
                starts[c] = day_number(run.scheme_start_date()[0])
            except InvalidInput:
                failed[c] = True
        given, days = np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype="int64")
        if "scheme_start_date" in self.table.column_names:
            column = self.table.column("scheme_start_date").combine_chunks()
            given = _valid(column)
            days, ok = _dates(column)
            self.route |= given & ~ok
        self.route |= failed[self.fact_class] & ~given
        self.scheme_start = np.where(given, days, starts[self.fact_class])
        self.sy, self.sm, self.sd = ymd(self.scheme_start)
        y, m, d = anniversary(self.by, self.bm, self.bd, self.enrolment_age)
        self.sixteenth = from_ymd(y, m, d)
        y, m, d = anniversary(self.by, self.bm, self.bd, self.pension_age)
        self.pension_age_year = y
        self.pension_month = first_of_next_month(from_ymd(y, m, d))
        self.age_at_start = age_on(self.by, self.bm, self.bd, self.sy, self.sm, self.sd)
        self.required = np.where(self.age_at_start >= self.pension_age, 0,
                                 np.minimum(self.full_years, self.pension_age_year - self.sy))

    def judge_records(self) -> None:
        """The date each record is judged on (regular: its date or 31 December; back payment: paid date)."""
        p, year = self.r_person, self.r_year
        year_end = from_ymd(year, 12, 31)
        regular = self.r_kind == 0
        day = np.where(regular & ~self.r_has_date, year_end, self.r_date)
        bad = regular & self.r_has_date & (ymd(self.r_date)[0] != year)
        back = self.r_kind == 1
        sixteenth_year = ymd(self.sixteenth)[0]
        bad |= back & (~self.r_has_date | (self.r_date <= year_end) |
                       (year < np.maximum(self.sy[p], sixteenth_year[p])))
        bad |= (day < self.scheme_start[p]) | (day < self.sixteenth[p])
        order = np.lexsort((year, p))
        same = (p[order][1:] == p[order][:-1]) & (year[order][1:] == year[order][:-1])
        bad[order[1:][same]] = True
        self.route[p[bad]] = True
        self.r_day = day

    def record_figures(self) -> None:
        """Personal, 代缴, subsidy by level per record: the interpreter's figures for each distinct key."""
        keep = ~self.route[self.r_person]
        self.r_person, self.r_year, self.r_tier, self.r_kind, self.r_day, self.r_collective = (
            a[keep] for a in (self.r_person, self.r_year, self.r_tier, self.r_kind, self.r_day, self.r_collective))
        p, day = self.r_person, self.r_day
        bounds = np.array(sorted(_boundaries(self.policy)), dtype="int64")
        interval = np.searchsorted(bounds, day, side="right")
        held = np.zeros(len(p), dtype="int64")
        for g in range(len(self.group_names)):
            held |= ((self.group_start[p, g] <= day) & (day <= self.group_end[p, g])).astype("int64") << g
        tiers, tier_index = np.unique(self.r_tier, return_inverse=True)
        # One integer key per record; each distinct key is looked up once (and remembered across batches).
        key = interval
        for part, size in ((self.fact_class[p], len(self.classes)), (held, 1 << len(self.group_names)),
                           (self.r_kind, 2), (tier_index.reshape(-1), len(tiers))):
            key = key * size + part
        unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        cache = _FIGURES.setdefault(self.policy.digest, {})
        figures = np.zeros((len(unique), 3 + len(LEVELS)), dtype="int64")  # ok, personal, gov, levels…
        for u, r in enumerate(first):
            c, mask, kind, tier = int(self.fact_class[p[r]]), int(held[r]), int(self.r_kind[r]), int(self.r_tier[r])
            facts = tuple(sorted(self.classes[c].items()))
            lookup = (int(interval[r]), facts, mask, kind, tier)
            if lookup not in cache:
                cache[lookup] = self._record_figure(self.classes[c], mask, kind, Decimal(tier) / 100,
                                                    from_day_number(day[r]))
            figures[u] = cache[lookup]
        rows = figures[inverse]
        ok = rows[:, 0].astype(bool)
        self.route[p[~ok]] = True
        self.r_personal, self.r_gov = rows[:, 1], rows[:, 2]
        self.r_levels = rows[:, 3:]
        self.r_credited = self.r_personal + self.r_gov + self.r_levels.sum(axis=1) + self.r_collective

    def _record_figure(self, facts: dict, mask: int, kind: int, tier: Decimal, day: dt.date) -> list[int]:
        groups = tuple(g for i, g in enumerate(self.group_names) if mask >> i & 1)
        run = _Run(self.policy, _probe_person(facts, groups), self.as_of, False, "en")
        record = Record(0, day.year, tier, "regular" if kind == 0 else "back_payment", day, Decimal(0))
        row = run.contribution(record, day)
        if row is None or run.errors:
            return [0] * (3 + len(LEVELS))
        levels = dict(row.subsidy.by_level)
        if row.subsidy.total != sum(levels.values(), Decimal(0)):
            return [0] * (3 + len(LEVELS))  # a subsidy without a funding level: leave it to the interpreter
        return [1, _fen(row.personal), _fen(row.government_paid)] + [_fen(levels.get(l, Decimal(0))) for l in LEVELS]

    def eligibility(self) -> None:
        n, p = self.n, self.r_person
        candidates = []
        aged = self.age_at_start >= self.pension_age
        candidates.append(np.where(aged, np.maximum(first_of_month(self.scheme_start), self.pension_month), FAR))
        # payment route: the date the required-th record (in date order, paid by as_of) was paid
        paid = self.r_day <= self.as_of_day
        order = np.lexsort((self.r_day, p))
        order = order[paid[order]]
        counts = np.bincount(p[order], minlength=n)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        need = self.required
        has = (~aged) & (need > 0) & (counts >= need)
        met = np.full(n, FAR)
        idx = np.flatnonzero(has)
        met[idx] = self.r_day[order[offsets[idx] + need[idx] - 1]]
        payment = np.where(met < self.pension_month, self.pension_month, first_of_next_month(np.where(has, met, 0)))
        candidates.append(np.where(has, payment, np.where((~aged) & (need == 0), self.pension_month, FAR)))
        for name in self.policy.names_of_kind("early_start"):
            definition = self.policy.definitions[name][0]
            for version in self.policy.all_versions(name):
                v_start = day_number(version.start) if version.start else -FAR
                v_end = day_number(version.end) if version.end else FAR
                for group in definition.for_groups:
                    if group not in self.group_names:
                        continue
                    g_start = self.group_start[:, self.group_names.index(group)]
                    g_end = self.group_end[:, self.group_names.index(group)]
                    member = g_start < FAR
                    on = np.where(ymd(np.where(member, g_start, 0))[2] == 1, g_start,
                                  first_of_next_month(np.where(member, g_start, 0)))
                    day = np.maximum(np.maximum(v_start, self.pension_month), on)
                    good = member & (day <= g_end) & (v_start <= day) & (day <= v_end) & (day <= self.as_of_day)
                    candidates.append(np.where(good, day, FAR))
        self.start = np.min(np.stack(candidates), axis=0)
        self.eligible = self.start < FAR
        late = self.eligible[p] & (self.r_day > self.start[p])
        self.route[p[late]] = True

    def years(self) -> None:
        p = self.r_person
        self.counted = self.r_day <= self.as_of_day
        n_counted = np.bincount(p[self.counted], minlength=self.n)
        self.counted_years = np.where(self.required < self.full_years, np.minimum(n_counted, self.full_years),
                                      n_counted)
        sel = self.counted & (self.r_kind == 0)
        order = np.lexsort((self.r_year[sel], p[sel]))
        pp, yy = p[sel][order], self.r_year[sel][order]
        breaks = np.ones(len(pp), dtype=bool)
        breaks[1:] = (pp[1:] != pp[:-1]) | (yy[1:] != yy[:-1] + 1)
        run_id = np.cumsum(breaks) - 1
        run_len = np.bincount(run_id)
        best = np.zeros(self.n, dtype="int64")
        if len(pp):
            np.maximum.at(best, pp[breaks], run_len)
        self.continuous_years = best
        ay, am, ad = ymd(np.full(self.n, self.as_of_day))
        self.age = age_on(self.by, self.bm, self.bd, ay, am, ad)
        self.status = np.where(self.eligible & (self.start <= self.as_of_day), 2,  # receiving
                               np.where((self.age < self.pension_age) | (self.eligible & (self.start > self.as_of_day)),
                                        1, 0))  # contributing / not eligible

    def account(self) -> None:
        p = self.r_person[self.counted]
        credit_year = ymd(self.r_day[self.counted])[0]
        credited = self.r_credited[self.counted]
        self.started = self.eligible & (self.start <= self.as_of_day)
        day = np.where(self.started, self.start, self.as_of_day)
        until = ymd(day)[0]
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
                    num, den = rate
                    # interest on the balance at the start of the year, credited at the end of 31 December
                    interest = (2 * balance * num + den) // (2 * den)
                    balance = balance + add + np.where(y < until, interest, 0)
                else:
                    balance = balance + add
        self.at_start = np.where(self.started, balance, 0)
        ap = np.zeros(self.n, dtype="int64")
        for s in np.unique(self.start[self.started]):
            version = self.probe.value("account_divisor", from_day_number(s)) or \
                next(iter(self.policy.all_versions("account_divisor")))
            d = Decimal(version.figure).as_integer_ratio()
            who = self.started & (self.start == s)
            ap[who] = Q(self.at_start[who] * d[1], 100 * d[0]).fen_values()
        months = months_inclusive(np.where(self.started, self.start, 0), np.full(self.n, self.as_of_day))
        self.balance = np.where(self.started, np.maximum(self.at_start - ap * months, 0), balance)

    def _rate(self, day: dt.date):
        versions = self.policy.versions_at("interest_rate", day)
        if any(v.condition for v in versions):
            raise Unsupported("interest rate depends on a fact")
        if not versions:
            return None
        return Decimal(versions[0].figure).as_integer_ratio()

    # ── the pension formulas over arrays ───────────────────────────────────
    def pension(self) -> list[tuple[str, Money]]:
        self.cache: dict = {}
        out = []
        for name in self.policy.components:
            formula = self.policy.formulas[name]
            paid = {"receiving": self.status == 2, "contributing": self.status == 1}.get(
                formula.paid_while, np.zeros(self.n, dtype=bool))
            out.append((name, self.component(formula).masked(paid)))
        return out

    def component(self, formula) -> Money:
        zero = Money(Q(np.zeros(self.n, dtype="int64"), 1))
        if not formula.covers(self.as_of):
            return zero
        held = np.ones(self.n, dtype=bool)
        if formula.when is not None:
            held = self.eval(formula.when)
            if not isinstance(held, np.ndarray) or held.dtype != bool:
                raise Unsupported("a condition that is not true/false")
        value = _money(self.eval(formula.expr))
        if formula.paid_by:
            value = Money.at(formula.paid_by, value.total)
        if formula.name == "account_pension":
            value = Money(value.total)
        return value.masked(held)

    def eval(self, expr):
        match expr:
            case nodes.Number(value=v):
                return Q.of(v, self.n)
            case nodes.Ref(name=name):
                return self.ref(name)
            case nodes.Unary(op="not", operand=o):
                return ~self.eval(o)
            case nodes.Unary(operand=o):
                return -self.eval(o)
            case nodes.Call(function=fn, args=args):
                return self.call(FUNCTIONS[fn], args)
            case nodes.Binary(op=op, left=l, right=r):
                return _binary(op, self.eval(l), self.eval(r))
        raise Unsupported(f"expression {expr!r}")

    def ref(self, name: str):
        builtin = BUILTIN_ALIASES.get(name, name)
        if builtin in ("age", "counted_years", "continuous_years"):
            return Q(np.asarray(getattr(self, builtin), dtype="int64"), 1)
        if builtin == "balance_at_pension_start":
            return Money(Q.fen(self.at_start))
        resolved = self.policy.resolve(name)
        if resolved in self.policy.formulas:
            if resolved not in self.cache:
                self.cache[resolved] = self.component(self.policy.formulas[resolved])
            return self.cache[resolved]
        definition = self.policy.definition(resolved)
        if definition is None:
            raise Unsupported(f"unknown name {name}")
        if definition.kind == "bonus":
            return self.bonus(definition)
        return self.value_of(resolved, definition)

    def _per_class(self, name: str, pick) -> np.ndarray:
        """pick(run) for each fact class, spread to persons; a class whose lookup fails goes to the interpreter."""
        results = []
        for facts in self.classes:
            run = _Run(self.policy, _probe_person(facts, ()), self.as_of, False, "en")
            try:
                results.append(pick(run))
            except InvalidInput:
                results.append(None)
        failed = np.array([r is None for r in results], dtype=bool)
        self.route |= failed[self.fact_class] if len(failed) else False
        return results

    def value_of(self, name: str, definition):
        results = self._per_class(name, lambda run: ("v", run.value(name, self.as_of)))
        figures = [r[1].figure if r and r[1] is not None else None for r in results]
        money = definition.unit is not None and definition.unit.startswith("元")
        kinds = {type(f) for f in figures if f is not None}
        if kinds - {Decimal}:
            raise Unsupported(f"{name} is not a number")
        none = [f is None for f in figures]
        ratios = [Decimal(f if f is not None else 0).as_integer_ratio() for f in figures]
        den = math.lcm(*(d for _, d in ratios)) if ratios else 1
        nums = np.array([n * (den // d) for n, d in ratios] or [0], dtype="int64")
        value = Q(nums[self.fact_class] if len(ratios) else np.zeros(self.n, "int64"), den)
        if money:
            zero = Q(np.zeros(self.n, "int64"), 1)
            missing = np.array(none or [False], dtype=bool)[self.fact_class] if len(none) else np.zeros(self.n, bool)
            # no version in force: the interpreter's empty Amount (no funding level)
            level = Money.at(definition.paid_by, value)
            return _choose(missing, Money(zero), level) if missing.any() else level
        return value

    def bonus(self, definition) -> Money:
        results = self._per_class(definition.name, lambda run: run.value(definition.name, self.as_of))
        total = Money(Q(np.zeros(self.n, "int64"), 1))
        for c, version in enumerate(results):
            if version is None:
                continue
            layer = self.policy.layer_of(version) or definition
            level = layer.paid_by or "province"
            who = self.fact_class == c
            if layer.beyond is not None:
                basis = Q(np.asarray(getattr(self, layer.basis), dtype="int64"), 1)
                years = basis - Q.of(layer.beyond, self.n)
                years = Q(np.maximum(years.num, 0), years.den)
                amount = Money.at(level, Q.of(version.figure, self.n) * years)
            else:
                basis = np.asarray(self.age if layer.basis == "age" else getattr(self, layer.basis), dtype="int64")
                amount_q = Q(np.zeros(self.n, "int64"), 1)
                found = np.zeros(self.n, dtype=bool)
                for band in version.rows:
                    inside = ~found & (basis >= math.ceil(band.low))
                    if band.high is not None:
                        inside &= basis <= math.floor(band.high)
                    amount_q = Q.of(band.amount, self.n).where(inside, amount_q)
                    found |= inside
                amount = Money.at(level, amount_q)
            total = _choose(who, amount, total)
        return total

    def call(self, fn: str, args):
        if fn == "member":
            group = self.policy.resolve(args[0].name)
            if group not in self.group_names:
                return np.zeros(self.n, dtype=bool)
            g = self.group_names.index(group)
            return (self.group_start[:, g] <= self.as_of_day) & (self.as_of_day <= self.group_end[:, g])
        values = [self.eval(a) for a in args]
        if fn == "round":
            v = values[0]
            return v.rounded() if isinstance(v, Money) else v.round_fen()
        out = values[0]
        for v in values[1:]:
            a, b = _total(out), _total(v)
            # Python's max/min keep the first of equals: replace only when strictly better
            better = b.compare(a, ">") if fn == "max" else b.compare(a, "<")
            out = _choose(better, v, out)
        return out

    # ── output ─────────────────────────────────────────────────────────────
    def output(self, components: list[tuple[str, Money]]) -> Result:
        total = Q(np.zeros(self.n, "int64"), 1)
        columns, totals = {}, {}
        keep = ~self.route
        for name, money in components:
            total = total + money.total
            fen = money.total.fen_values()
            columns[name] = fen
            if not keep.any():
                continue
            parts = totals.setdefault(name, {"total": Decimal(int(fen[keep].sum())) / 100})
            if name == "account_pension":
                continue
            for level, v in money.levels:
                level_fen = v.fen_values()
                if np.any(v.num[keep] != 0):
                    parts[level] = Decimal(int(level_fen[keep].sum())) / 100
        columns["monthly_pension_total"] = total.fen_values()
        columns["account_balance"] = self.balance
        columns["status"] = self.status
        return Result(columns, self.route.copy(), totals)


def _total(v) -> Q:
    return v.total if isinstance(v, Money) else v


def _binary(op: str, a, b):
    if op in ("and", "or"):
        return (a & b) if op == "and" else (a | b)
    if op in ("+", "-"):
        if isinstance(a, Money) or isinstance(b, Money):
            a, b = _money(a), _money(b)
            return a + b if op == "+" else a + (-b)
        return a + b if op == "+" else a - b
    if op == "*":
        if isinstance(a, Money) and not isinstance(b, Money):
            return a.scaled(b)
        if isinstance(b, Money) and not isinstance(a, Money):
            return b.scaled(a)
        return _total(a) * _total(b)
    if op == "/":
        if isinstance(a, Money) and not isinstance(b, Money):
            return a.divided(b)
        return _total(a).divide(_total(b))
    return _total(a).compare(_total(b), op)


def _fen(x: Decimal) -> int:
    scaled = x * 100
    if scaled != scaled.to_integral_value():
        raise Unsupported("an amount finer than a fen")
    return int(scaled)


def _boundaries(policy: Policy) -> set[int]:
    """Days on which some version starts or ends: between two of them nothing changes."""
    out = set()
    for layers in policy.definitions.values():
        for layer in layers:
            for v in layer.versions:
                if v.start:
                    out.add(day_number(v.start))
                if v.end:
                    out.add(day_number(v.end) + 1)
    return out


def _probe_person(facts: dict, groups: tuple[str, ...]) -> Person:
    """A stand-in with only the facts a lookup reads: hukou facts and the groups held that day."""
    hukou = {k: v for k, v in facts.items() if v is not None}
    members = tuple(Membership(g, EARLIEST, None, None, i) for i, g in enumerate(groups))
    return Person(None, EARLIEST, None, hukou, None, None, members, (), None, {})


def _owners(column: pa.ListArray) -> np.ndarray:
    """For each flattened list item, the row it belongs to."""
    offsets = np.asarray(column.offsets.to_numpy(zero_copy_only=False), dtype="int64")
    lengths = np.diff(offsets)
    if column.null_count:
        lengths = np.where(np.asarray(column.is_valid().to_numpy(zero_copy_only=False)), lengths, 0)
    return np.repeat(np.arange(len(column), dtype="int64"), lengths)


def _valid(values) -> np.ndarray:
    return np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _dates(values) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of YYYY-MM-DD strings and whether each is a valid date in range (null → not valid)."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    n = len(values)
    if pa.types.is_null(values.type) or n == 0:
        return np.zeros(n, "int64"), np.zeros(n, bool)
    if not pa.types.is_string(values.type):
        raise Unsupported("a date column that is not text")
    shaped = np.asarray(pc.match_substring_regex(values, DATE_PATTERN).fill_null(False).to_numpy(zero_copy_only=False),
                        dtype=bool)
    text = pc.if_else(pa.array(shaped), values, "1970-01-01")
    y, m, d = (np.asarray(pc.cast(pc.utf8_slice_codeunits(text, a, b), pa.int64()).to_numpy(zero_copy_only=False))
               for a, b in ((0, 4), (5, 7), (8, 10)))
    # A calendar date survives the round trip through a day number ("1970-02-30" does not).
    numbers = from_ymd(y, np.clip(m, 1, 12), np.clip(d, 1, 31))
    back = ymd(numbers)
    ok = shaped & (back[0] == y) & (back[1] == m) & (back[2] == d)
    ok &= (numbers >= day_number(EARLIEST)) & (numbers <= day_number(LATEST))
    return np.where(ok, numbers, 0), ok


def _money_fen(values) -> tuple[np.ndarray, np.ndarray]:
    """Fen of money strings like "300.00" (at most two decimals, no sign)."""
    if not pa.types.is_string(values.type):
        raise Unsupported("tier is not a text column")
    encoded = pc.dictionary_encode(values)
    fen_of = []
    for text in encoded.dictionary.to_pylist():
        fen_of.append(_fen(Decimal(text)) if _is_money(text) else -1)
    lookup = np.array(fen_of or [-1], dtype="int64")
    indices = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype="int64")
    fen = np.where(indices >= 0, lookup[np.maximum(indices, 0)], -1)
    return np.maximum(fen, 0), fen >= 0


def _is_money(text: str) -> bool:
    return bool(MONEY.match(text))
