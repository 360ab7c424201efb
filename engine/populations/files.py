"""Population files: persons read from JSON Lines, CSV and Parquet, row by row; the output written in the same three formats, with money as decimal128(12, 2) in Parquet (exactly, from integer fen) and as strings in JSON Lines and CSV."""
from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from engine.core import mechanics
from engine.language.catalogue import say
from engine.language.errors import FieldError, InvalidInput, InvalidPerson

TEXT = {"person_id", "error"}  # the output's text columns (every other but the row, the status: money)
PARQUET_BATCH = 500  # rows per Arrow batch when a Parquet file is read row by row



# ── reading ───────────────────────────────────────────────────────────────
def read_rows(path: Path) -> Iterator[tuple[int, object]]:
    """(1-based row number, PERSON or an InvalidPerson for a row that could not be read)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from jsonl_rows(path)
    elif suffix == ".csv":
        yield from csv_rows(path)
    elif suffix == ".parquet":
        yield from parquet_rows(path)
    else:
        raise InvalidInput(say("batch.input-format", suffix=suffix))


def jsonl_rows(path: Path):
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                yield number, InvalidPerson(say("batch.empty-line", line=number),
                                            [FieldError("/person", say("batch.expected-person"))], malformed=True)
                continue
            try:
                yield number, json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                yield number, InvalidPerson(say("batch.line-not-json", line=number, reason=exc.msg),
                                            [FieldError("/person", say("http.malformed-json"))], malformed=True)


def csv_rows(path: Path):
    with path.open(encoding="utf-8-sig", newline="") as f:
        for number, record in enumerate(csv.DictReader(f), start=1):
            if "person" in record:
                try:
                    yield number, json.loads(record["person"], parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    yield number, InvalidPerson(say("batch.column-not-json", row=number, reason=exc.msg),
                                                [FieldError("/person", say("http.malformed-json"))], malformed=True)
                continue
            person: dict = {}
            for key, value in record.items():
                if value in ("", None):
                    continue
                if key.startswith("hukou."):
                    person.setdefault("hukou", {})[key.split(".", 1)[1]] = value
                elif key in ("groups", "contributions", "opening_balance"):
                    person[key] = json.loads(value, parse_float=Decimal)
                else:
                    person[key] = value
            yield number, person


def parquet_rows(path: Path):
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH):
        for record in batch.to_pylist():
            number += 1
            yield number, plain_person(record)


def plain_person(value):
    """Typed Parquet values (dates, decimals) as the JSON strings the PERSON reader takes."""
    if isinstance(value, dict):
        return {k: plain_person(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [plain_person(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def fen_decimal(fen) -> object:
    """Integer fen as an Arrow decimal128(12, 2) array, exactly: a decimal's 16 bytes are its unscaled integer (here
    the fen, two's complement, little-endian), so the array is built from the fen's own bits, no text, no float."""
    import numpy as np
    import pyarrow as pa

    fen = np.asarray(fen, dtype="int64")
    if fen.size and int(np.abs(fen).max()) >= 10**12:
        raise ValueError("an amount of 10 000 000 000 yuan or more does not fit decimal128(12, 2)")
    words = np.empty((len(fen), 2), dtype="int64")
    words[:, 0] = fen
    words[:, 1] = fen >> 63  # the sign, extended into the high word
    return pa.Array.from_buffers(money_type(), len(fen), [None, pa.py_buffer(words)])


def decimal_fen(column) -> object:
    """The inverse of `fen_decimal`: a decimal128(…, 2) column (nulls as 0) as integer fen, from its own bits."""
    from decimal import Decimal as D

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_decimal(array.type) or array.type.scale != 2:
        raise TypeError(f"money column of type {array.type}: decimal128(12, 2) expected")
    array = pc.fill_null(array, pa.scalar(D("0.00"), array.type))
    words = np.frombuffer(array.buffers()[1], dtype="int64").reshape(-1, 2)
    return words[array.offset:array.offset + len(array), 0].copy()


def output_schema_of(names: list[str]):
    """The interpreter's rows: money and status as text."""
    import pyarrow as pa

    return pa.schema([pa.field(n, pa.int64() if n == "row" else pa.string()) for n in names])


def money_type():
    import pyarrow as pa

    return pa.decimal128(12, 2)


def status_values():
    """One dictionary for every chunk and file: the statuses in their code order."""
    import pyarrow as pa

    return pa.array(mechanics.STATUSES, pa.string())


def output_schema(names: list[str]):
    """Typed columns (contract.md: "in Parquet output money columns are decimal128(12, 2)"): analysts' tools
    (pandas, DuckDB, Polars, Spark) read them as numbers, which strings are not; the status as a dictionary."""
    import pyarrow as pa

    def type_of(name: str):
        if name == "row":
            return pa.int64()
        if name == "status":
            return pa.dictionary(pa.int8(), pa.string())
        return pa.string() if name in TEXT else money_type()  # every other column is money

    return pa.schema([pa.field(n, type_of(n)) for n in names])


def typed(table):
    """Rows with money and status as text (the interpreter's) as the output's typed columns. Exact: "123.45" →
    decimal 123.45, no float on the way; an error row's empty money stays null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = output_schema(table.column_names)
    columns = []
    for field in schema:
        column = table.column(field.name).combine_chunks()
        if field.name == "status":
            values = status_values()
            codes = pc.index_in(column, value_set=values)
            if pc.any(pc.and_(pc.is_null(codes), pc.is_valid(column))).as_py():
                raise ValueError(f"a status outside {mechanics.STATUSES} in the batch output")  # a programming error
            column = pa.DictionaryArray.from_arrays(codes.cast(pa.int8()), values)
        else:
            column = column.cast(field.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def as_text(table):
    """The typed output as the text rows of JSON Lines and CSV: money "123.45", the status its name."""
    import pyarrow as pa

    return pa.Table.from_arrays([c if f.name in TEXT or f.name == "row" else c.cast(pa.string())
                                 for f, c in zip(table.schema, table.columns)], names=table.column_names)


class JsonlWriter:
    def __init__(self, path: Path, names: list[str]):
        self.file = path.open("w", encoding="utf-8")
        self.names = names

    def write(self, table) -> None:
        for row in as_text(table).to_pylist():
            self.file.write(json.dumps({n: row.get(n) for n in self.names}, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.file.close()


class CsvWriter:
    def __init__(self, path: Path, names: list[str]):
        self.file = path.open("w", encoding="utf-8", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=names, extrasaction="ignore")
        self.writer.writeheader()

    def write(self, table) -> None:
        self.writer.writerows(as_text(table).to_pylist())

    def close(self) -> None:
        self.file.close()


class ParquetWriter:
    """The chunks' typed columns as they come (`output_schema`). Parquet's dictionary encoding only for the columns
    with few distinct values in the first chunk (a status, a flat-rate component, empty errors): on the others
    (row numbers, ids, balances) it is work thrown away, and the writer took twice as long."""

    SAMPLE = 10_000

    def __init__(self, path: Path, names: list[str]):
        self.path = path
        self.schema = output_schema(names)
        self.writer = None

    def open(self, first) -> None:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        sample = first.slice(0, self.SAMPLE)
        few = [f.name for f in self.schema if f.name == "status"
               or pc.count_distinct(sample.column(f.name)).as_py() * 8 <= max(sample.num_rows, 8)]
        # Money as Parquet's DECIMAL(12, 2) over INT64 (the spec's storage for precision 10–18, which every reader
        # takes) rather than 6-byte fixed-length arrays: the same decimal128(12, 2) read back, a third less writing.
        self.writer = pq.ParquetWriter(str(self.path), self.schema, use_dictionary=few, store_decimal_as_integer=True)

    def write(self, table) -> None:
        if self.writer is None:
            self.open(table)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is None:
            self.open(self.schema.empty_table())
        self.writer.close()


def open_writer(path: Path, names: list[str]):
    writers = {".jsonl": JsonlWriter, ".csv": CsvWriter, ".parquet": ParquetWriter}
    writer = writers.get(path.suffix.lower())
    if writer is None:
        raise InvalidInput(say("batch.output-format", suffix=path.suffix))
    return writer(path, names)


def count_rows(path: Path) -> int | None:
    """Rows in the input, for the progress bar's ETA (cheap for Parquet and line files)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    with path.open("rb") as f:
        n = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return n - 1 if suffix == ".csv" else n
