"""Population throughput and memory: jubao's column path against its interpreter and against peers.

One run, one generated Ningxia population (2011 rules: tiers, subsidies, 2-yuan bonus, account/139),
Parquet in and Parquet out, end to end (process start, reading, evaluating, writing). Peers, when
installed (`bash benchmarks/peers/setup.sh`): an OpenFisca model and a plain-Python Decimal loop of the
same rules (benchmarks/peers/). Peak memory is the summed RSS of the whole process tree, sampled; CPU seconds
are user + system of the whole tree (what a loaded machine's wall clock hides).

The ceiling row is the limit of the machine for this job: a process that reads the same input (every column)
and writes the same output (jubao's columns, types, row groups and Parquet writer, the values of jubao's own output
loaded beforehand and not counted) with no evaluation in between.

Run: .venv/bin/python benchmarks/batch_peers.py [--sizes 1000,100000,1000000] [--memory-rows 10000000]
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine import compiled

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
PEER_PYTHON = PEERS / ".venv" / "bin" / "python"
JUBAO = [sys.executable, "-m", "engine.cli"]
AS_OF = "2018-12-31"
BASE = 100_000  # persons generated; larger populations repeat them under new ids


def population(folder: Path, size: int) -> Path:
    path = folder / f"ningxia-{size}.parquet"
    if path.exists():
        return path
    seed = folder / f"ningxia-seed-{min(size, BASE)}.parquet"
    if not seed.exists():
        subprocess.run([*JUBAO, "population", "--region", "ningxia", "--size", str(min(size, BASE)), "--seed", "1",
                        "--as-of", AS_OF, "-o", str(seed)], check=True, cwd=ROOT, capture_output=True)
    base = pq.read_table(seed)
    with pq.ParquetWriter(str(path), base.schema) as writer:
        written, copy = 0, 0
        while written < size:
            part = base.slice(0, min(base.num_rows, size - written))
            ids = pc.binary_join_element_wise(part.column("id"), pa.scalar(f"-{copy}"), "")
            writer.write_table(part.set_column(part.schema.get_field_index("id"), "id", ids))
            written += part.num_rows
            copy += 1
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command: list[str]) -> tuple[float, float, str, float]:
    """(seconds, peak summed RSS of the process tree in MiB, stdout, CPU seconds of the tree)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = [0]

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    total = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                    peak[0] = max(peak[0], total)
                except psutil.Error:
                    pass
                time.sleep(0.05)
        except psutil.Error:
            pass

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    thread.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{command} failed with {proc.returncode}")
    return seconds, peak[0] / 2**20, out, _children_cpu() - cpu


def jubao_batch(source: Path, target: Path, method: str) -> tuple[float, float, float]:
    seconds, peak, _, cpu = measured([*JUBAO, "batch", "--region", "ningxia", "--as-of", AS_OF, str(source),
                                      str(target), "--method", method])
    return seconds, peak, cpu


def peer(script: str, source: Path, target: Path) -> tuple[float, float, float] | None:
    if not PEER_PYTHON.exists() or not (PEERS / script).exists():
        return None
    seconds, peak, _, cpu = measured([str(PEER_PYTHON), str(PEERS / script), str(source), "--as-of", AS_OF,
                                      "--out", str(target)])
    return seconds, peak, cpu


def ceiling(source: Path, values: Path, target: Path) -> tuple[float, float, float]:
    """Read + write with no evaluation (see the module's text); the loading of the values is taken off."""
    seconds, peak, out, cpu = measured([sys.executable, str(Path(__file__).resolve()), "--ceiling", str(source),
                                        str(values), str(target)])
    loading = json.loads(out)
    return seconds - loading["seconds"], peak, cpu - loading["cpu"]


def read_and_write(source: Path, values: Path, target: Path) -> None:
    """The ceiling's process: the output values are loaded first (reported, to be taken off), then the input is
    read (every column, row group by row group as jubao's workers do) and the output written by the same slices."""
    start, cpu = time.perf_counter(), time.process_time()
    output = pq.read_table(values)
    output = pa.Table.from_arrays([c.combine_chunks() for c in output.columns], schema=output.schema)
    loading = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    from engine.populations import files

    reader = pq.ParquetFile(source)
    writer = files.open_writer(target, output.column_names)  # jubao's own Parquet writer and its options
    try:
        first = 0
        for i in range(reader.metadata.num_row_groups):
            rows = reader.read_row_group(i).num_rows
            writer.write(output.slice(first, rows))
            first += rows
    finally:
        writer.close()
    print(json.dumps(loading))


def single_person() -> dict:
    """Median single-person latency in process (jubao), with and without the explanation."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "eval_latency.py"), "300"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    table = out.split("\n\n")[0]  # the engine line, the table's head and its cases; the peer's follow a blank line
    return {line.split()[1] + " explain=" + line.split()[2]: float(line.split()[3])
            for line in table.splitlines()[2:] if line.strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--interpreter-max", type=int, default=100_000, help="largest size run on the interpreter")
    parser.add_argument("--memory-rows", type=int, default=0, help="also run the column path on this many rows")
    parser.add_argument("--no-loop", action="store_true", help="leave out the Decimal loop peer (minutes at 1M)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each engine this many times, in turns (a shared machine's load changes); medians")
    parser.add_argument("--ceiling", nargs=3, metavar=("SOURCE", "VALUES", "TARGET"),
                        help="(internal) the ceiling's process: read SOURCE, write VALUES' table to TARGET")
    args = parser.parse_args()
    if args.ceiling:
        read_and_write(*(Path(a) for a in args.ceiling))
        return
    print(f"engine: {compiled.summary()}")  # compiled (setup.py), or which modules run as .py and why
    # jubao as installed: pip compiles an installed package's bytecode (as it did OpenFisca's), but a checkout run
    # with PYTHONDONTWRITEBYTECODE=1 (this machine's default) compiled ~20 modules from source at every process
    # start, ≈ 60 ms of each run
    for package in ("engine", "web"):
        compileall.compile_dir(ROOT / package, quiet=1)
    folder = Path(os.environ.get("JUBAO_BENCH_DIR", tempfile.gettempdir())) / "jubao-bench"
    folder.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"cores: {os.cpu_count()}   population: Ningxia, as of {AS_OF}, Parquet → Parquet, end to end")
    print(f"{'persons':>10} {'engine':<36} {'seconds':>9} {'persons/s':>11} {'CPU s':>7} {'peak MiB':>9}"
          f" {'vs OpenFisca':>13} {'vs loop':>8}")
    for size in sizes:
        source = population(folder, size)
        for stale in folder.glob("out-*.parquet"):
            stale.unlink()
        runs: dict = {}
        for _ in range(args.repeat):
            runs.setdefault("jubao columns", []).append(jubao_batch(source, folder / "out-columns.parquet", "columns"))
            runs.setdefault("ceiling (read+write, no evaluation)", []).append(
                ceiling(source, folder / "out-columns.parquet", folder / "out-ceiling.parquet"))
            if size <= args.interpreter_max:
                runs.setdefault("jubao interpreter", []).append(
                    jubao_batch(source, folder / "out-interpreter.parquet", "interpreter"))
            for name, script in (("OpenFisca (peers/)", "openfisca_ningxia.py"), ("Decimal loop (peers/)",
                                                                                    "reference_loop.py")):
                if args.no_loop and script == "reference_loop.py":
                    continue
                result = peer(script, source, folder / f"out-{script}.parquet")
                if result is not None:
                    runs.setdefault(name, []).append(result)
        rows = {name: tuple(statistics.median(r[i] for r in results) for i in range(3))
                for name, results in runs.items()}
        openfisca = rows.get("OpenFisca (peers/)")
        loop = rows.get("Decimal loop (peers/)")
        for name, (seconds, peak, cpu) in rows.items():
            rate = size / seconds
            # paired: each round's OpenFisca time over the same round's, then the median of the rounds (the
            # machine's speed moves between rounds; a slow moment then slows both of a pair)
            vs_of = f"{statistics.median(p[0] / r[0] for p, r in zip(runs['OpenFisca (peers/)'], runs[name])):.2f}×" \
                if openfisca else "—"
            vs_loop = f"{rate / (size / loop[0]):.1f}×" if loop else "—"
            print(f"{size:>10,} {name:<36} {seconds:>9.2f} {rate:>11,.0f} {cpu:>7.2f} {peak:>9.0f} {vs_of:>13}"
                  f" {vs_loop:>8}")
        if args.repeat > 1:
            for name, results in runs.items():
                print(f"{'':>10} {name}: seconds of each run {', '.join(f'{r[0]:.2f}' for r in results)}")
            print(f"{'':>10} (vs OpenFisca: the median of the rounds' ratios, each round's engines run one after the "
                  f"other)")
        if "jubao interpreter" in rows:
            same = pq.read_table(folder / "out-columns.parquet").equals(pq.read_table(folder /
                                                                                      "out-interpreter.parquet"))
            print(f"{'':>10} columns and interpreter outputs identical: {same}")
        ours = pq.read_table(folder / "out-columns.parquet").select(["person_id", "monthly_pension_total",
                                                                      "account_balance"])
        for script in ("openfisca_ningxia.py", "reference_loop.py"):
            theirs = folder / f"out-{script}.parquet"
            if theirs.exists():
                other = pq.read_table(theirs).select(["person_id", "monthly_pension_total", "account_balance"])
                other = other.cast(ours.schema)  # the peers write money as text: compared as decimals
                same = [pc.fill_null(pc.equal(ours.column(c), other.column(c)), False) for c in ours.column_names]
                differ = len(ours) - pc.sum(pc.and_(pc.and_(same[0], same[1]), same[2])).as_py()
                print(f"{'':>10} {script}: {differ} of {size:,} persons differ from jubao (total and balance)")
    if args.memory_rows:
        source = population(folder, args.memory_rows)
        seconds, peak, cpu = jubao_batch(source, folder / "out-memory.parquet", "columns")
        print(f"memory: {args.memory_rows:,} persons in {seconds:.1f} s ({args.memory_rows / seconds:,.0f}/s, "
              f"{cpu:.1f} CPU s), peak summed RSS {peak:,.0f} MiB")
    print("single person, jubao in process (median ms):", json.dumps(single_person()))
    if PEER_PYTHON.exists():
        out = subprocess.run([str(PEER_PYTHON), str(PEERS / "openfisca_ningxia.py"), str(population(folder, 1000)),
                              "--single", "200"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        print("single person, OpenFisca:", out.strip())


if __name__ == "__main__":
    main()
