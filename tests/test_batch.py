"""`jubao batch` and `jubao population`: streamed files, error rows in place, same figures as one-by-one."""
import csv
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine import evaluate, read_as_of, read_person
from engine.populations import batch
from engine.populations.population import generate

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2020-12-31"


def jubao(*args):
    return subprocess.run([sys.executable, "-m", "engine.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def people(registry):
    return list(generate(registry.policy("anhui"), 300, seed=11, as_of=read_as_of(AS_OF)))


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", [1, 2])  # with 2, the errors cross process boundaries: they must pickle
@pytest.mark.parametrize("method", ["columns", "interpreter"])
def test_bad_rows_become_error_rows_in_place(tmp_path, workers, method):
    good = json.dumps({"id": "a", "birth_date": "1950-01-01"})
    source = write_jsonl(tmp_path / "in.jsonl", [good, '{"birth_date": ', json.dumps({"id": "c", "birth_date":
                         "1950-02-30"}), good.replace('"a"', '"d"'), "not json"])
    run = jubao("batch", "--region", "anhui", "--as-of", AS_OF, source, tmp_path / "out.jsonl", "--workers", workers,
                "--method", method)
    assert run.returncode == 1, run.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["person_id"] for r in rows] == ["a", None, "c", "d", None]
    assert rows[0]["status"] == "receiving" and rows[0]["error"] == ""
    assert json.loads(rows[1]["error"])["status"] == 400
    problem = json.loads(rows[2]["error"])
    assert problem["status"] == 422 and problem["errors"][0]["pointer"] == "/person/birth_date"
    assert json.loads(rows[4]["error"])["status"] == 400
    assert "rows: 5, errors: 3" in run.stdout


def test_parquet_round_trip_matches_the_interpreter(tmp_path, registry, people):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(people), source)
    summary = batch.run_batch(registry, "anhui", AS_OF, source, tmp_path / "out.parquet", workers=2)
    out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert summary.rows == len(people) == len(out) and summary.errors == 0
    policy = registry.policy("anhui")
    as_of = read_as_of(AS_OF)
    for person, row in zip(people, out):
        d = evaluate(policy, read_person(policy, person, as_of), as_of)
        assert row["person_id"] == person["id"]
        # contract.md: "in Parquet output money columns are decimal128(12, 2)" — exact decimals, not strings
        assert row["monthly_pension_total"] == d.monthly_pension.total.quantize(Decimal("0.01"))
        assert row["account_balance"] == d.account.balance.quantize(Decimal("0.01"))
        for c in d.monthly_pension.components:
            assert row[c.id] == c.amount.total.quantize(Decimal("0.01"))
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert schema.field("monthly_pension_total").type == pa.decimal128(12, 2)
    assert schema.field("status").type == pa.dictionary(pa.int8(), pa.string())
    assert schema.field("row").type == pa.int64() and schema.field("person_id").type == pa.string()
    stored = pq.ParquetFile(tmp_path / "out.parquet").schema  # money kept as Parquet DECIMAL(12, 2) over INT64
    money = [stored.column(i) for i in range(len(stored)) if stored.column(i).name == "monthly_pension_total"][0]
    assert money.physical_type == "INT64" and (money.precision, money.scale) == (12, 2)
    total = sum(Decimal(r["basic_pension"]) for r in out)
    assert summary.totals["basic_pension"]["total"] == total
    assert summary.totals["basic_pension"]["central"] + summary.totals["basic_pension"].get("province", 0) == total


def test_many_processes_give_the_same_rows_as_one(tmp_path, registry, people):
    source = write_jsonl(tmp_path / "in.jsonl", [json.dumps(p, ensure_ascii=False) for p in people * 4])
    batch.run_batch(registry, "anhui", AS_OF, source, tmp_path / "one.csv", workers=1)
    batch.run_batch(registry, "anhui", AS_OF, source, tmp_path / "two.csv", workers=2)
    assert (tmp_path / "one.csv").read_text(encoding="utf-8") == (tmp_path / "two.csv").read_text(encoding="utf-8")


def test_flat_csv_input(tmp_path, registry):
    source = tmp_path / "in.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "birth_date", "hukou.type", "groups"])
        w.writerow(["mg-1", "1955-04-01", "rural", json.dumps([{"id": "poverty_registered", "from": "2019-06-10"}])])
    summary = batch.run_batch(registry, "anhui", "2019-07-15", source, tmp_path / "out.jsonl", workers=1)
    row = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert summary.errors == 0 and row["monthly_pension_total"] == "110.00"  # domain.md §6, 明光


@pytest.mark.parametrize("region", ["national", "anhui", "ningxia", "yuxi"])
def test_generated_populations_are_valid_and_seeded(registry, region):
    policy = registry.policy(region)
    as_of = read_as_of(AS_OF)
    first = list(generate(policy, 150, seed=3, as_of=as_of))
    assert first == list(generate(policy, 150, seed=3, as_of=as_of))
    for person in first:
        evaluate(policy, read_person(policy, person, as_of), as_of)  # raises InvalidInput if invalid


def test_generated_contributions_approach_the_target_mean(registry, people):
    paid = [Decimal(c["tier"]) for p in people for c in p["contributions"] if c["year"] >= 2019]
    assert Decimal(300) <= sum(paid) / len(paid) <= Decimal(380)


def test_dask_local_cluster_gives_the_same_rows(tmp_path, registry, people):
    # The distributed engine in its local mode: same chunks, same kernel, same output, same order.
    source = write_jsonl(tmp_path / "in.jsonl", [json.dumps(p, ensure_ascii=False) for p in people])
    local = batch.run_batch(registry, "anhui", AS_OF, source, tmp_path / "local.jsonl", workers=1)
    dask = batch.run_batch(registry, "anhui", AS_OF, source, tmp_path / "dask.jsonl", workers=2, engine="dask")
    assert (tmp_path / "local.jsonl").read_text(encoding="utf-8") == \
        (tmp_path / "dask.jsonl").read_text(encoding="utf-8")
    assert local == dask


def test_money_columns_go_to_fen_and_back_exactly():
    """engine.populations.files.decimal_fen (impact reads pensions in fen) is the inverse of fen_decimal, sliced or with
    nulls."""
    import pyarrow as pa

    from engine.populations.files import decimal_fen, fen_decimal

    fen = [0, 1, 12345, -250, 10 ** 12 - 1, 99]
    array = fen_decimal(fen)
    assert [str(v) for v in array.to_pylist()] == ["0.00", "0.01", "123.45", "-2.50", "9999999999.99", "0.99"]
    assert decimal_fen(array).tolist() == fen
    assert decimal_fen(array.slice(2, 3)).tolist() == [12345, -250, 10 ** 12 - 1]
    with_null = pa.array([Decimal("1.10"), None, Decimal("2.00")], pa.decimal128(12, 2))
    assert decimal_fen(pa.chunked_array([with_null])).tolist() == [110, 0, 200]


@pytest.mark.parametrize("rows", [1, 100, batch.COLUMN_CHUNK - 1, batch.COLUMN_CHUNK, batch.COLUMN_CHUNK + 1,
                                  3 * batch.COLUMN_CHUNK // 2, 2 * batch.COLUMN_CHUNK, 100_000, 1_000_000])
def test_a_row_group_is_cut_in_slices_of_about_the_column_chunk(rows):
    """Every row once, in order, in slices of near-equal size no larger than 1.5 COLUMN_CHUNK (no remnant slice)."""
    slices = batch.slice_starts(rows)
    covered = [i for start, size in slices for i in range(start, min(start + size, rows))]
    assert covered == list(range(rows))
    sizes = [min(size, rows - start) for start, size in slices]
    assert max(sizes) <= 1.5 * batch.COLUMN_CHUNK and max(sizes) - min(sizes) <= 1
    assert len(slices) == max(1, round(rows / batch.COLUMN_CHUNK))


def write_jsonl_rows(path: Path, persons: list[dict]) -> Path:
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in persons), encoding="utf-8")
    return path


def test_the_summary_counts_the_persons_the_columns_handed_over_and_why(tmp_path):
    """issue 28: `batch`'s summary counts the persons the column back end handed to the one-person back end, and
    why; the rows themselves are the same either way."""
    common = {"birth_date": "1950-01-01", "hukou": {"type": "rural", "county": "明光"}}
    persons = [{"id": "a", **common}, {"id": "b", **common, "death_date": "2020-05-01"},
               {"id": "c", **common, "death_date": "2019-05-01"},
               {"id": "d", **common, "pension_start_date": "2010-01-01"}]
    source = write_jsonl_rows(tmp_path / "in.jsonl", persons)
    run = jubao("batch", "--region", "anhui", "--as-of", AS_OF, source, tmp_path / "out.jsonl", "--workers", 1)
    assert run.returncode == 0, run.stderr
    assert "由单人引擎计算 3 人：有死亡日期 2，申报了待遇领取起始日 1" in run.stdout
    english = jubao("batch", "--region", "anhui", "--as-of", AS_OF, source, tmp_path / "en.jsonl", "--workers", 1,
                    "--lang", "en")
    assert "answered by the one-person back end: 3: a death date 2, a given pension start 1" in english.stdout
    common_only = write_jsonl_rows(tmp_path / "common.jsonl", [{"id": "a", **common}])
    quiet = jubao("batch", "--region", "anhui", "--as-of", AS_OF, common_only, tmp_path / "q.jsonl", "--workers", 1)
    assert "单人引擎" not in quiet.stdout  # nobody handed: no line


def test_a_batch_the_columns_cannot_take_is_handed_whole_with_the_reason(tmp_path):
    """A field outside the common shape (the columns never guess at it): every person of the batch is answered by
    the one-person back end (which refuses the field), and the summary says so."""
    persons = [{"id": "a", "birth_date": "1950-01-01", "hukou": {"type": "rural", "county": "明光"},
                "nickname": "老王"}]
    source = write_jsonl_rows(tmp_path / "in.jsonl", persons)
    run = jubao("batch", "--region", "anhui", "--as-of", AS_OF, source, tmp_path / "out.jsonl", "--workers", 1)
    assert "由单人引擎计算 1 人：整批：有通常形状以外的列 1" in run.stdout
    row = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert '"/person/nickname"' in row["error"]


def test_every_reason_has_its_words():
    from engine.columns.handed import HANDED, WHOLE_REASONS
    from engine.language.catalogue import TEXTS

    for reason in HANDED[1:-1]:
        assert f"batch.handed.{reason}" in TEXTS
    for reason in WHOLE_REASONS:
        assert f"batch.whole.{reason}" in TEXTS
