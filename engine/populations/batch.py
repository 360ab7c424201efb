"""Evaluate a population file: streamed in chunks, spread over processes, one output row per person.

Formats by extension: `.jsonl` (one PERSON a line), `.csv` (a `person` column holding PERSON JSON, or
flat columns `id,birth_date,…`), `.parquet` (one row a person, columns and nesting as the PERSON JSON).
A bad row becomes an error row with its PROBLEM; nothing is dropped.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Iterator

import attrs

from engine.core.money import fmt
from engine.core.one_person import evaluate
from engine.core.person import read_as_of, read_person
from engine.core.problem import problem_of
from engine.core.render import component_json
from engine.language.catalogue import answered, say
from engine.language.errors import InvalidInput, UnknownRegion
from engine.language.model import LEVEL_LABELS, LEVELS
from engine.language.registry import Registry
from engine.language.text import Text
from engine.populations.files import (
    fen_decimal,
    open_writer,
    output_schema,
    output_schema_of,
    plain_person,
    read_rows,
    status_values,
    typed,
)

CHUNK = 500  # persons per job on the interpreter
COLUMN_CHUNK = 32_768  # persons per job on columns: large enough for arrays, small enough for flat memory


@attrs.frozen
class Summary:
    rows: int
    errors: int
    totals: dict  # component id → {"total": Decimal, level: Decimal …}
    # persons the column back end handed to the one-person back end, by reason (engine.columns.handed)
    handed: dict = attrs.field(factory=dict)

    def lines(self, lang: str = "zh", labels: dict[str, str] | None = None) -> list[str]:
        """Rows and errors, the persons handed to the one-person back end, then each component's monthly total over
        the file by funding level (`labels`: the components' names)."""
        out = [say("summary.rows", rows=self.rows, errors=self.errors).in_lang(lang)]
        if self.handed:
            out.append(handed_line(self.handed, lang))
        out.append(say("summary.totals").in_lang(lang))
        sep, wrap = ("，", "（{}）") if lang == "zh" else (", ", " ({})")
        for component, parts in self.totals.items():
            levels = sep.join(say("summary.level", level=Text(LEVEL_LABELS[lvl], lvl), amount=parts[lvl]).in_lang(lang)
                              for lvl in LEVELS if parts.get(lvl))
            out.append(say("summary.component", name=(labels or {}).get(component, component), amount=parts["total"])
                       .in_lang(lang) + (wrap.format(levels) if levels else ""))
        return out


def handed_line(handed: dict[str, int], lang: str = "en") -> str:
    """How many persons the one-person back end answered in place of the columns, and why (most first)."""
    reasons = sorted(handed.items(), key=lambda item: (-item[1], item[0]))
    words = [f"{say_reason(reason, lang)} {count}" for reason, count in reasons]
    lead = say("batch.handed", count=sum(handed.values())).in_lang(lang)
    return f"{lead}{'：' if lang == 'zh' else ': '}{('，' if lang == 'zh' else ', ').join(words)}"


def say_reason(reason: str, lang: str) -> str:
    kind, _, whole = reason.partition(".")
    key = f"batch.whole.{whole}" if kind == "whole_batch" and whole else f"batch.handed.{kind}"
    return say(key).in_lang(lang)


def merge_handed(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {reason: a.get(reason, 0) + b.get(reason, 0) for reason in {**a, **b}}


def columns(component_ids: list[str]) -> list[str]:
    return ["row", "person_id", "status", "monthly_pension_total", *component_ids, "account_balance", "error"]


# ── evaluating a chunk (in a worker process) ──────────────────────────────
@attrs.frozen
class Chunk:
    """A slice of the input: a Parquet slice (`table`), rows already read (`items`: (number, PERSON)), or a
    Parquet row group that the worker reads itself (`path`, `row_group`), sparing the parent the reading."""

    first: int
    table: object | None = None
    items: list | None = None
    path: str | None = None
    row_group: int | None = None

    def __len__(self) -> int:
        return self.table.num_rows if self.table is not None else len(self.items)


_worker_registry: Registry | None = None


def _init(registry: Registry | str) -> None:
    """A worker's start: the parent's registry itself when the worker is a fork of it (its policies are parsed and
    compiled already), else one built from the policy folder."""
    global _worker_registry
    _worker_registry = registry if isinstance(registry, Registry) else Registry(Path(registry))


_shipped: dict[str, Registry] = {}


def evaluate_shipped_chunk(sources: dict, digest: str, region: str, as_of_text: str, chunk: Chunk,
                           method: str = "columns", lang: str = "zh") -> tuple:
    """Run on a cluster worker: the policy texts travel with the job; each worker builds them once."""
    if digest not in _shipped:
        _shipped[digest] = Registry.from_sources(sources)
    return evaluate_chunk(region, as_of_text, chunk, _shipped[digest], method, lang)


def evaluate_chunk(region: str, as_of_text: str, chunk: Chunk, registry: Registry | None = None,
                   method: str = "columns", lang: str = "zh"):
    """(output table, totals by component and level, persons handed by the columns to the interpreter by reason)
    for one chunk; error rows carry the problem in `lang`.

    The table has the output's typed columns (`output_schema`: money as decimal128(12, 2), the status a dictionary).
    `columns` evaluates the chunk as arrays and hands the rows it does not take to the interpreter;
    `interpreter` evaluates person by person. Both give the same rows (tests/test_columnar.py).
    """
    import pyarrow as pa

    from engine.columns import columnar

    registry = registry or _worker_registry
    if chunk.path is not None:
        return _row_group(region, as_of_text, chunk, registry, method, lang)
    policy = registry.policy(region)
    as_of = read_as_of(as_of_text)
    names = columns(list(policy.components))
    handed: dict[str, int] = {}
    if method == "columns":
        table = chunk.table if chunk.table is not None else as_table(chunk.items)
        if table is not None:
            result = columnar.evaluate_batch(policy, as_of, table)
            if result.whole_batch is None:
                return (*_merged(policy, as_of, chunk, table, result, names, lang), result.counts())
            handed = result.counts()  # the columns took none of it: every row is the interpreter's
    items = chunk.items if chunk.items is not None else _items(chunk, range(len(chunk)))
    rows, totals = interpret(policy, as_of, items, lang)
    return typed(pa.Table.from_pylist(rows, schema=output_schema_of(names))), totals, handed


def _row_group(region: str, as_of_text: str, chunk: Chunk, registry: Registry, method: str, lang: str = "zh"):
    """Read one row group in the worker and evaluate it in slices of about COLUMN_CHUNK (`slice_starts`)."""
    import pyarrow as pa

    parts, totals, handed = [], {}, {}
    for part in column_slices(chunk):
        out, part_totals, part_handed = evaluate_chunk(region, as_of_text, part, registry, method, lang)
        parts.append(out)
        totals = merge_totals(totals, part_totals)
        handed = merge_handed(handed, part_handed)
    return pa.concat_tables(parts), totals, handed


def slice_starts(rows: int) -> list[tuple[int, int]]:
    """(start, size) of the column slices of a row group: as many as COLUMN_CHUNK goes into it, rounded, of equal
    size to a row (at most 1.5 COLUMN_CHUNK). A group of 100 000 is three slices of 33 333 or 4, not three full ones
    and a remnant of 1 696 that costs a whole evaluation's fixed work for a sixtieth of the rows."""
    parts = max(1, round(rows / COLUMN_CHUNK))
    base, extra = divmod(rows, parts)
    sizes = [base + 1] * extra + [base] * (parts - extra) if rows else []
    starts = [0]
    for size in sizes[:-1]:
        starts.append(starts[-1] + size)
    return list(zip(starts, sizes))


def read_row_group(path: str, row_group: int):
    """One row group of a Parquet input, its text columns (but the person's id) read as dictionaries: the file
    holds them so (a few thousand distinct dates, tiers, kinds), and the columns take each distinct text once,
    where a plain reading would make one string per row (the reading took twice as long)."""
    import pyarrow.parquet as pq

    schema = pq.ParquetFile(path).schema
    texts = [schema.column(i).path for i in range(len(schema)) if schema.column(i).physical_type == "BYTE_ARRAY"
             and str(schema.column(i).logical_type) == "String" and schema.column(i).path != "id"]
    return pq.ParquetFile(path, read_dictionary=texts).read_row_group(row_group)


def interpret(policy, as_of: dt.date, items: list[tuple[int, object]], lang: str = "zh") -> tuple[list[dict], dict]:
    """Rows and totals by the interpreter, person by person; a bad person becomes an error row (its problem
    object in `lang`: Chinese unless English is asked for)."""
    rows, totals = [], {}
    for number, person in items:
        try:
            if isinstance(person, InvalidInput):
                raise person
            decision = evaluate(policy, read_person(policy, person, as_of), as_of)
        except InvalidInput as error:
            pid = person.get("id") if isinstance(person, dict) else None
            rows.append({"row": number, "person_id": pid if isinstance(pid, str) else None, "status": None,
                         "monthly_pension_total": None, "account_balance": None,
                         "error": json.dumps(problem_dict(error, lang), ensure_ascii=False)})
            continue
        row = {"row": number, "person_id": decision.person_id, "status": decision.status,
               "monthly_pension_total": fmt(decision.monthly_pension.total),
               "account_balance": fmt(decision.account.balance), "error": ""}
        for component in decision.monthly_pension.components:
            row[component.id] = fmt(component.amount.total)
            parts = totals.setdefault(component.id, {"total": Decimal(0)})
            parts["total"] += component.amount.total
            for level, amount in component_json(component).get("by_level", {}).items():
                parts[level] = parts.get(level, Decimal(0)) + Decimal(amount)
        rows.append(row)
    return rows, totals


def as_table(items: list):
    """The rows of a JSON Lines or CSV chunk as columns, when they have one consistent shape."""
    import pyarrow as pa

    if not items or not all(isinstance(person, dict) for _, person in items):
        return None
    persons = [person for _, person in items]
    keys = list(dict.fromkeys(key for person in persons for key in person))
    try:
        # Column by column: Table.from_pylist would take its column names from the first row only.
        return pa.table({key: pa.array([person.get(key) for person in persons]) for key in keys})
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _items(chunk: Chunk, indices) -> list[tuple[int, object]]:
    if chunk.items is not None:
        return [chunk.items[i] for i in indices]
    rows = chunk.table.take(list(indices)).to_pylist()
    return [(chunk.first + i, plain_person(r)) for i, r in zip(indices, rows)]


def _merged(policy, as_of, chunk: Chunk, table, result, names: list[str], lang: str = "zh"):
    """The column results as typed output columns, with the rows the columns left to the interpreter filled in by
    it. Money goes from integer fen to decimal128 without text on the way (`fen_decimal`)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    ids = table.column("id").combine_chunks().cast(pa.string()) if "id" in table.column_names \
        else pa.nulls(n, pa.string())
    arrays = {"row": pa.array(np.arange(chunk.first, chunk.first + n, dtype="int64")), "person_id": ids,
              "status": pa.array(np.asarray(result.columns["status"], dtype="int8")),
              "error": pa.repeat(pa.scalar("", pa.string()), n)}
    for name in names:
        if name not in arrays:
            arrays[name] = fen_decimal(result.columns[name])
    totals = result.totals
    fallback = np.flatnonzero(result.fallback)
    if fallback.size:
        items = chunk.items if chunk.items is not None else None
        picked = [items[i] for i in fallback] if items is not None else _items(chunk, fallback)
        rows, extra = interpret(policy, as_of, [(chunk.first + int(i), person) for i, (_, person)
                                                in zip(fallback, picked)], lang)
        answered = typed(pa.Table.from_pylist(rows, schema=output_schema_of(names)))
        mask = pa.array(result.fallback)
        for name in names:
            if name == "row":
                continue
            column = answered.column(name).combine_chunks()
            if name == "status":
                column = column.indices
            arrays[name] = pc.replace_with_mask(arrays[name], mask, column)
        totals = merge_totals(totals, extra)
    arrays["status"] = pa.DictionaryArray.from_arrays(arrays["status"], status_values())
    return pa.Table.from_arrays([arrays[n] for n in names], schema=output_schema(names)), totals


def problem_dict(error: InvalidInput, lang: str = "zh") -> dict:
    """A row's problem as batch's `error` column and the impact report show it (the API's problem+json)."""
    return answered(problem_of(error).as_dict(lang), lang)


def merge_totals(into: dict, more: dict) -> dict:
    out = {k: dict(v) for k, v in into.items()}
    for component, parts in more.items():
        merged = out.setdefault(component, {"total": Decimal(0)})
        for key, value in parts.items():
            merged[key] = merged.get(key, Decimal(0)) + value
    return out




# ── the run ───────────────────────────────────────────────────────────────
def run_batch(registry: Registry, region: str, as_of_text: str, source: Path, target: Path,
        workers: int | None = None, progress=None, engine: str = "local", scheduler: str | None = None,
        method: str = "columns", lang: str = "zh") -> Summary:
    """Stream `source` through evaluation into `target`; at most a few chunks are in memory at once.

    Error rows carry the problem object in `lang` (Chinese unless "en")."""
    if region not in registry.sources:
        raise UnknownRegion(region, registry.regions)
    policy = registry.policy(region)  # PolicyError with every diagnostic when it does not check clean
    import pyarrow.compute as pc

    read_as_of(as_of_text)
    component_ids = list(policy.components)
    size = COLUMN_CHUNK if method == "columns" else CHUNK
    writer = open_writer(target, columns(component_ids))
    workers = workers or os.cpu_count() or 1
    rows = errors = 0
    totals: dict = {}
    handed: dict = {}
    try:
        chunks = _chunks_on_dask(registry, region, as_of_text, source, workers, scheduler, size, method, lang) \
            if engine == "dask" else _chunks_evaluated(registry, region, as_of_text, source, workers, size, method,
                                                       lang)
        for table, chunk_totals, chunk_handed in chunks:
            writer.write(table)
            rows += table.num_rows
            errors += pc.sum(pc.not_equal(table.column("error"), "")).as_py() or 0
            totals = merge_totals(totals, chunk_totals)
            handed = merge_handed(handed, chunk_handed)
            if progress is not None:
                progress(table.num_rows)
    finally:
        writer.close()
    return Summary(rows, errors, totals, handed)


def _chunks(source: Path, size: int):
    if source.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(source).metadata
        groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        if size == COLUMN_CHUNK and len(groups) > 1 and max(groups) <= 8 * COLUMN_CHUNK:
            # Row groups of a moderate size go to the workers as they are: each reads its own.
            first = 1
            for i, rows in enumerate(groups):
                yield Chunk(first, path=str(source), row_group=i)
                first += rows
            return
        first = 1
        for batch in pq.ParquetFile(source).iter_batches(batch_size=size):
            yield Chunk(first, pa.Table.from_batches([batch]))
            first += batch.num_rows
        return
    items = []
    for item in read_rows(source):
        items.append(item)
        if len(items) == size:
            yield Chunk(items[0][0], items=items)
            items = []
    if items:
        yield Chunk(items[0][0], items=items)


def _chunks_evaluated(registry: Registry, region: str, as_of_text: str, source: Path, workers: int, size: int,
                      method: str, lang: str = "zh"):
    if workers <= 1:
        for chunk in _chunks(source, size):
            yield evaluate_chunk(region, as_of_text, chunk, registry, method, lang)
        return
    # A bounded window of chunks in flight keeps memory flat and output in input order.
    import multiprocessing

    # a forked worker inherits the registry as it is; a spawned one builds its own from the folder
    shared = registry if multiprocessing.get_start_method() == "fork" else str(registry.policy_dir)
    if method == "columns" and shared is registry:
        from engine.columns import columnar, days  # noqa: F401  (loaded once here, inherited by every forked worker)

        days.ymd(days.day_number(dt.date(2000, 1, 1)))  # the calendar table, likewise
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(shared,)) as pool:
        window: deque = deque()
        for chunk in _chunks(source, size):
            window.append(pool.submit(_evaluate_packed, region, as_of_text, chunk, None, method, lang))
            if len(window) >= workers * 2:
                yield _unpacked(*window.popleft().result())
        while window:
            yield _unpacked(*window.popleft().result())


def _evaluate_packed(*args) -> tuple:
    """evaluate_chunk in a worker, its money columns as int64 fen for the trip to the parent: half the bytes of
    decimal128 to pickle, send and unpickle (the trip was a tenth of the run); `_unpacked` restores them exactly."""
    import numpy as np
    import pyarrow as pa

    table, totals, handed = evaluate_chunk(*args)
    columns = []
    for field, column in zip(table.schema, table.columns):
        column = column.combine_chunks()
        if pa.types.is_decimal(field.type):
            words = np.frombuffer(column.buffers()[1], dtype="int64")[2 * column.offset:2 * (column.offset + len(column))]
            nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False)) if column.null_count else None
            column = pa.array(words[0::2], pa.int64(), mask=nulls)  # the low word is the fen (|fen| < 10**12)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names), totals, handed


def _unpacked(table, totals, handed) -> tuple:
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = output_schema(table.column_names)
    columns = []
    for field, column in zip(schema, table.columns):
        if pa.types.is_decimal(field.type):
            column = column.combine_chunks()
            money = fen_decimal(column.fill_null(0).to_numpy(zero_copy_only=False))
            column = pc.if_else(column.is_valid(), money, pa.scalar(None, field.type)) if column.null_count else money
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema), totals, handed


def _chunks_on_dask(registry: Registry, region: str, as_of_text: str, source: Path, workers: int,
                    scheduler: str | None, size: int, method: str, lang: str = "zh"):
    """The same chunks on a Dask cluster (`scheduler` address) or a local one; output stays in input order."""
    from dask.distributed import Client, LocalCluster

    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                  dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        sources = client.scatter(registry.texts(), broadcast=True)
        digest = registry.policy(region).digest
        window: deque = deque()
        for chunk in _chunks(source, size):
            # rows travel with the job as the policy texts do: a worker opens no file of this machine (issue 32)
            for part in column_slices(chunk) if chunk.path is not None else (chunk,):
                window.append(client.submit(evaluate_shipped_chunk, sources, digest, region, as_of_text,
                                            client.scatter(part), method, lang, pure=False))
                if len(window) >= workers * 2:
                    yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ── the same chunks for another reader (impact: one chunk evaluated under two policy versions) ─────────
def column_chunks(source: Path, size: int | None = None) -> Iterator[Chunk]:
    """The chunks `run` hands its workers on the column path, in input order; `size` rows each when given (at most
    COLUMN_CHUNK: a Parquet file is then read here in slices of that size, not row group by row group)."""
    return _chunks(source, min(size or COLUMN_CHUNK, COLUMN_CHUNK))


def column_slices(chunk: Chunk) -> list[Chunk]:
    """A chunk as the slices `evaluate_chunk` evaluates on columns, each with its table made once: a Parquet row
    group is read and cut in slices (`slice_starts`, as `_row_group`); JSON Lines or CSV rows keep their rows, so
    that the interpreter's fallback takes them as read (as in `evaluate_chunk`), beside their table (None when
    the rows have no common shape, and the interpreter answers them all)."""
    if chunk.path is not None:
        table = read_row_group(chunk.path, chunk.row_group)
        return [Chunk(chunk.first + start, table.slice(start, size)) for start, size in slice_starts(table.num_rows)]
    if chunk.table is not None:
        return [chunk]
    return [Chunk(chunk.first, as_table(chunk.items), chunk.items)]


def chunk_persons(chunk: Chunk, indices) -> list[tuple[int, object]]:
    """(row number, PERSON) of the chunk's rows at `indices` (0-based within the chunk), as the interpreter
    reads them."""
    return _items(chunk, indices)
