"""Synthetic populations for batch runs and impact studies, shaped only by the region's own policy.

Tiers are drawn from the tiers open to each person on each payment date, weighted towards the low
tiers so that the average contribution approaches a target (e.g. 338 yuan, seed 000's Anhui figure).

Vectorised: the random draws are numpy arrays over a chunk of persons; what the policy says (which tiers
are open in each period for each hukou, the scheme start of each area, the weights of each set of tiers)
is worked out once per policy in `_Plan` and looked up by index. The chunks are Arrow tables with the
columns and nesting of PERSON JSON, written as they come to Parquet, JSON Lines or CSV.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.columns.days import day_number, from_day_number, from_ymd, years_of
from engine.core.explain import NoTrace
from engine.core.lookup import Lookup, Uses
from engine.core.person import Person
from engine.core.pricing import Pricing
from engine.language.model import AmountRange, Policy
from engine.populations.batch import COLUMN_CHUNK

GROUP_SHARES = {"dibao": 0.04, "severe_disability": 0.02, "poverty_registered": 0.05, "only_child_family": 0.03}
HUKOU_TYPES = (("rural", 0.8), ("urban", 0.2))
SKIP_YEAR = 0.15  # share of years a person does not pay
CHUNK = COLUMN_CHUNK  # persons per chunk and per Parquet row group: `jubao batch` workers read a group each
DEFAULT_START = dt.date(2009, 9, 1)

CONTRIBUTION = pa.struct([("year", pa.int64()), ("tier", pa.string()), ("kind", pa.string()), ("date", pa.string())])
GROUP = pa.struct([("id", pa.string()), ("from", pa.string())])


def generate(policy: Policy, size: int, seed: int, as_of: dt.date, mean_contribution: Decimal = Decimal(338),
             receiving_share: float = 0.27) -> Iterator[dict]:
    """The persons one by one, as PERSON dicts (the same persons `tables` gives as columns)."""
    for table in tables(policy, size, seed, as_of, mean_contribution, receiving_share):
        yield from table.to_pylist()


def tables(policy: Policy, size: int, seed: int, as_of: dt.date, mean_contribution: Decimal = Decimal(338),
           receiving_share: float = 0.27) -> Iterator[pa.Table]:
    """The population as Arrow tables of at most CHUNK persons; the same seed and size give the same tables."""
    plan = _Plan(policy, as_of, float(mean_contribution), receiving_share)
    for number, first in enumerate(range(0, size, CHUNK)):
        rng = np.random.default_rng([seed % 2 ** 64, number])
        yield plan.chunk(rng, first, min(CHUNK, size - first))


def write(policy: Policy, size: int, seed: int, as_of: dt.date, path: Path, mean_contribution: Decimal = Decimal(338),
          progress: Callable[[int], object] | None = None) -> int:
    """Write the population to `path` (.parquet; .csv with flat columns; otherwise JSON Lines); the persons written."""
    writer = _WRITERS.get(path.suffix.lower(), _JsonlWriter)(path, _Plan.schema_of(policy))
    written = 0
    try:
        for table in tables(policy, size, seed, as_of, mean_contribution):
            writer.write(table)
            written += table.num_rows
            if progress:
                progress(table.num_rows)
    finally:
        writer.close()
    return written


def seed_tag(i: int) -> str:
    return f"{i:08d}"


NO_TRACE = NoTrace()


class _Plan:
    """Everything the policy decides, worked out once: draws become indices into these tables."""

    def __init__(self, policy: Policy, as_of: dt.date, mean: float, receiving_share: float):
        self.policy, self.as_of, self.receiving_share = policy, as_of, receiving_share
        self.area_key, self.areas, starts = _scheme_starts(policy, as_of)
        # starts[area, type]: the scheme start (day number) of a person of that area and hukou type
        self.starts = np.array([[day_number(d) for d in row] for row in starts], dtype=np.int64)
        self.combos = [self.hukou(a, t) for a in range(len(starts)) for t in range(len(HUKOU_TYPES))]
        self.groups = [(g, share) for g, share in GROUP_SHARES.items() if g in policy.groups]
        # The periods in which the tiers open cannot change: every start and every day after an end.
        edges = sorted({day_number(d) for v in policy.all_versions("contribution_tiers")
                        for d in (v.start, v.end and v.end + dt.timedelta(days=1)) if d is not None})
        self.edges = np.array(edges, dtype=np.int64)
        firsts = [edges[0] - 1] + edges if edges else [day_number(as_of)]
        texts: dict[Decimal, int] = {}
        sets: dict[tuple, int] = {}
        self.sets: list[tuple[np.ndarray, np.ndarray]] = []  # (cumulative weights, indices into self.texts)
        self.set_of = np.full((len(firsts), len(self.combos)), -1, dtype=np.int64)  # [period, combo] → set or −1
        for period, first in enumerate(firsts):
            for combo, hukou in enumerate(self.combos):
                tiers = tuple(_open_tiers(policy, {"hukou": hukou}, from_day_number(first)))
                if not tiers:
                    continue
                if tiers not in sets:
                    sets[tiers] = len(self.sets)
                    weights = np.cumsum(_weights(tiers, mean))
                    self.sets.append((weights / weights[-1], np.array([texts.setdefault(t, len(texts))
                                                                       for t in tiers], dtype=np.int64)))
                self.set_of[period, combo] = sets[tiers]
        self.texts = pa.array([f"{t:.2f}" for t in texts] or [""], pa.string())
        self.schema = self.schema_of(policy)

    def hukou(self, area: int, kind: int) -> dict:
        hukou = {"type": HUKOU_TYPES[kind][0]}
        if self.area_key:
            hukou[self.area_key] = self.areas[area]
        return hukou

    @staticmethod
    def schema_of(policy: Policy) -> pa.Schema:
        area_key = _scheme_starts(policy)[0]
        hukou = [("type", pa.string())] + ([(area_key, pa.string())] if area_key else [])
        return pa.schema([("id", pa.string()), ("birth_date", pa.string()), ("hukou", pa.struct(hukou)),
                          ("groups", pa.list_(GROUP)), ("contributions", pa.list_(CONTRIBUTION))])

    def chunk(self, rng: np.random.Generator, first: int, n: int) -> pa.Table:
        as_of_year = self.as_of.year
        receiving = rng.random(n) < self.receiving_share
        age = np.where(receiving, rng.integers(60, 93, n), rng.integers(17, 60, n))
        birth_year = as_of_year - age - 1
        birth = from_ymd(birth_year, rng.integers(1, 13, n), rng.integers(1, 29, n))
        kind = (rng.random(n) >= HUKOU_TYPES[0][1]).astype(np.int64)
        area = rng.integers(0, len(self.starts), n)
        start = self.starts[area, kind]
        combo = area * len(HUKOU_TYPES) + kind
        held = np.column_stack([rng.random(n) < share for _, share in self.groups]) if self.groups else \
            np.zeros((n, 0), dtype=bool)

        # One record a year from the scheme start (and the year after the 16th birthday) to the year before
        # the 60th birthday or the as-of year, some years skipped; paid on a spring day (not before the start).
        years_from = np.maximum(years_of(start), birth_year + 17)
        years_to = np.minimum(as_of_year - 1, birth_year + 59)
        count = np.clip(years_to - years_from + 1, 0, None)
        person = np.repeat(np.arange(n), count)
        offsets = np.concatenate([[0], np.cumsum(count)])
        year = years_from[person] + np.arange(len(person)) - offsets[:-1][person]
        paid = rng.random(len(person)) >= SKIP_YEAR
        day = np.maximum(from_ymd(year, rng.integers(3, 7, len(person)), rng.integers(1, 29, len(person))),
                         start[person])
        tier_set = self.set_of[np.searchsorted(self.edges, day, side="right"), combo[person]]
        pick = rng.random(len(person))
        keep = paid & (tier_set >= 0)
        person, year, day, tier_set, pick = person[keep], year[keep], day[keep], tier_set[keep], pick[keep]
        tier = np.zeros(len(person), dtype=np.int64)
        for s, (cumulative, indices) in enumerate(self.sets):
            mine = tier_set == s
            if mine.any():
                tier[mine] = indices[np.minimum(np.searchsorted(cumulative, pick[mine], side="right"),
                                                len(indices) - 1)]

        contributions = pa.StructArray.from_arrays(
            [pa.array(year, pa.int64()), self.texts.take(pa.array(tier)),
             pa.repeat(pa.scalar("regular"), len(person)), _iso(day)], fields=list(CONTRIBUTION))
        holder, group = np.nonzero(held)
        groups = pa.StructArray.from_arrays(
            [pa.array([g for g, _ in self.groups] or [""], pa.string()).take(pa.array(group, pa.int64())),
             _iso(start[holder])], fields=list(GROUP))
        hukou_columns = [pa.array([t for t, _ in HUKOU_TYPES], pa.string()).take(pa.array(kind))]
        if self.area_key:
            hukou_columns.append(pa.array(self.areas, pa.string()).take(pa.array(area)))
        numbers = pc.cast(pa.array(np.arange(first, first + n)), pa.string())
        ids = pc.binary_join_element_wise(f"{self.policy.region}-", pc.utf8_lpad(numbers, 8, "0"), "")
        return pa.Table.from_arrays([
            ids, _iso(birth), pa.StructArray.from_arrays(hukou_columns, fields=list(self.schema.field("hukou").type)),
            pa.ListArray.from_arrays(pa.array(_offsets(held.sum(axis=1)), pa.int32()), groups, pa.list_(GROUP)),
            pa.ListArray.from_arrays(pa.array(_offsets(np.bincount(person, minlength=n)), pa.int32()), contributions,
                                     pa.list_(CONTRIBUTION)),
        ], schema=self.schema)


def _scheme_starts(policy: Policy, as_of: dt.date = dt.date.max) -> tuple[str | None, tuple[str, ...],
                                                                         tuple[tuple[dt.date, ...], ...]]:
    """(the hukou fact naming the area, the areas, the start per area and hukou type): a person is drawn from one
    of the rows of a `table scheme_start by hukou.<area>, …`, or there is one area, unnamed, with one start. Each
    start is the policy's own lookup's (engine.core.lookup.Lookup.scheme_start) for a person of that area and type."""
    versions = policy.all_versions("scheme_start")
    layer = policy.layer_of(versions[0]) if versions else None
    key = layer.keys[0].split(".", 1)[1] if layer and layer.keys and versions[0].rows else None
    areas = tuple(row.key for row in versions[0].rows) if key else ("",)
    starts = []
    for area in areas:
        by_type = []
        for kind, _ in HUKOU_TYPES:
            hukou = {"type": kind, key: area} if key else {"type": kind}
            missing: list[str] = []
            start = Lookup(policy, Person.probe(hukou, ()), "en", missing).scheme_start(as_of)[0] if versions else None
            by_type.append(start if start is not None and not missing else DEFAULT_START)
        starts.append(tuple(by_type))
    return key, areas, tuple(starts)


def _open_tiers(policy: Policy, person: dict, day: dt.date) -> list[Decimal]:
    """The tiers open to a person of these hukou facts and no group on `day`, by the policy's own pricing (the table
    for the facts, its rows open to a person without 代缴 or a group); free amounts: each band's lowest, a middle,
    the top."""
    missing: list[str] = []
    lookup = Lookup(policy, Person.probe(person.get("hukou", {}), ()), "en", missing)
    pricing = Pricing(lookup, Uses(policy), NO_TRACE, [])
    version = pricing.tier_table(day, None)
    if version is None or missing:
        return []
    lows = sorted(pricing.open_tiers(version, daijiao=False, held=frozenset()))
    if isinstance(version.figure, AmountRange) and lows:
        r = version.figure
        edges = lows + [r.high + r.step]
        middles = [low + ((high - low) / 2 // r.step) * r.step for low, high in zip(edges, edges[1:])]
        return sorted(set(lows + middles + [r.high]))
    return lows


def _weights(tiers: tuple[Decimal, ...], mean: float) -> np.ndarray:
    """Weights ∝ exp(−tier/λ), λ solved so the expected tier is near `mean` (clamped to the table)."""
    values = [float(t) for t in tiers]
    target = min(max(mean, values[0]), values[-1])

    def expected(lam: float) -> float:
        weights = [math.exp(-(v - values[0]) / lam) for v in values]
        return sum(w * v for w, v in zip(weights, values)) / sum(weights)

    lo, hi = 1e-3, 1e6
    for _ in range(50):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if expected(mid) < target else (lo, mid)
    return np.array([math.exp(-(v - values[0]) / hi) for v in values])


# ── dates as day numbers (engine.core.mechanics': days since 1970-01-01) ──────
def _iso(days: np.ndarray) -> pa.Array:
    """YYYY-MM-DD texts: each day of the span formatted once (a century at most), then taken by index."""
    if not len(days):
        return pa.array([], pa.string())
    first = int(days.min())
    span = pc.cast(pa.array(np.arange(first, int(days.max()) + 1, dtype=np.int32), pa.date32()), pa.string())
    return span.take(pa.array(days - first))


def _offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)


# ── writers ───────────────────────────────────────────────────────────────
class _ParquetWriter:
    def __init__(self, path: Path, schema: pa.Schema):
        import pyarrow.parquet as pq

        self.writer = pq.ParquetWriter(str(path), schema)

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _quoted(column: pa.Array) -> pa.Array:
    """JSON strings of a column of few distinct texts (areas, group ids, kinds): each escaped once."""
    encoded = pc.dictionary_encode(column)
    return pa.array([_json_text(v) for v in encoded.dictionary.to_pylist()], pa.string()).take(encoded.indices)


def _json_columns(table: pa.Table) -> dict[str, pa.Array]:
    """Each column's JSON text per person, as `json.dumps(person, ensure_ascii=False)` writes it."""
    join = pc.binary_join_element_wise
    column = {name: table.column(name).combine_chunks() for name in table.column_names}

    def listed(lists: pa.ListArray, item) -> pa.Array:
        texts = pa.ListArray.from_arrays(lists.offsets, item(lists.values))
        return join("[", pc.binary_join(texts, ", "), "]", "")

    ids = column["id"]
    plain = len(ids) == 0 or _json_text(ids[0].as_py())[1:-1] == ids[0].as_py()  # every id: region-digits
    hukou = column["hukou"]
    hukou_parts = []
    for i, field in enumerate(hukou.type):
        hukou_parts += [(", " if i else "") + _json_text(field.name) + ": ", _quoted(hukou.field(i))]
    return {
        "id": join('"', ids, '"', "") if plain else _quoted(ids),
        "birth_date": join('"', column["birth_date"], '"', ""),
        "hukou": join("{", *hukou_parts, "}", ""),
        "groups": listed(column["groups"], lambda g: join(
            '{"id": ', _quoted(g.field("id")), ', "from": "', g.field("from"), '"}', "")),
        "contributions": listed(column["contributions"], lambda c: join(
            '{"year": ', pc.cast(c.field("year"), pa.string()), ', "tier": "', c.field("tier"), '", "kind": ',
            _quoted(c.field("kind")), ', "date": "', c.field("date"), '"}', "")),
    }


class _JsonlWriter:
    """PERSON JSON a line, built by Arrow's string kernels (dates, tiers and years need no escaping)."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.file = path.open("wb")

    def write(self, table: pa.Table) -> None:
        columns = _json_columns(table)
        parts = []
        for i, name in enumerate(table.column_names):
            parts += [("{" if i == 0 else ", ") + _json_text(name) + ": ", columns[name]]
        lines = pc.binary_join_element_wise(*parts, "}\n", "")
        self.file.write(pc.binary_join(pa.ListArray.from_arrays([0, len(lines)], lines), "")[0].as_buffer())

    def close(self) -> None:
        self.file.close()


class _CsvWriter:
    """Flat columns as `jubao batch` reads them: id, birth_date, hukou.<fact>…, groups and contributions as JSON."""

    def __init__(self, path: Path, schema: pa.Schema):
        import pyarrow.csv as pcsv

        self.names = ["id", "birth_date"] + [f"hukou.{f.name}" for f in schema.field("hukou").type] + \
            ["groups", "contributions"]
        self.writer = pcsv.CSVWriter(str(path), pa.schema([(name, pa.string()) for name in self.names]))

    def write(self, table: pa.Table) -> None:
        columns = _json_columns(table)
        hukou = table.column("hukou").combine_chunks()
        flat = [table.column("id").combine_chunks(), table.column("birth_date").combine_chunks()] + \
            [hukou.field(i) for i in range(hukou.type.num_fields)] + [columns["groups"], columns["contributions"]]
        self.writer.write_table(pa.Table.from_arrays(flat, names=self.names))

    def close(self) -> None:
        self.writer.close()


_WRITERS = {".parquet": _ParquetWriter, ".csv": _CsvWriter, ".jsonl": _JsonlWriter}
