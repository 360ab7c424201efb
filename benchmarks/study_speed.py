"""The two study commands against the batch of what they read, timed end to end in one run.

Rows of the performance issue: `jubao population --size N` (goal: no slower than `jubao batch` of what it
makes) and `jubao impact` on those N persons with one changed figure, Ningxia's basic pension 90 → 100 from
2020 (goal: ≤ 2.5× that batch). Each command is run REPEAT times (default 3), medians of wall time and of the
process tree's CPU time are printed with the ratios.

Run: .venv/bin/python benchmarks/study_speed.py [--size 100000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import compiled

ROOT = Path(__file__).resolve().parent.parent
JUBAO = [sys.executable, "-m", "engine.cli"]
AS_OF = "2020-12-31"


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    print(f"engine: {compiled.summary()}")  # compiled (setup.py), or which modules run as .py and why
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jubao-study-"))
    try:
        people, out = folder / "people.parquet", folder / "out.parquet"
        proposal = folder / "proposal"
        shutil.copytree(ROOT / "policies", proposal)
        path = proposal / "ningxia" / "pension.policy"
        text = path.read_text(encoding="utf-8")
        if "from 2020-01-01  90.00" not in text:
            sys.exit("the benchmark's changed figure (Ningxia basic pension 90.00 from 2020-01-01) is not there")
        path.write_text(text.replace("from 2020-01-01  90.00", "from 2020-01-01  100.00"), encoding="utf-8")
        rows = {"population": [], "batch": [], "impact": []}
        for _ in range(args.repeat):  # interleaved, so that a busy moment touches every command alike
            rows["population"].append(timed(JUBAO + ["population", "--region", "ningxia", "--size", str(args.size),
                                                     "--as-of", AS_OF, "-o", str(people)]))
            rows["batch"].append(timed(JUBAO + ["batch", str(people), str(out), "--region", "ningxia",
                                                "--as-of", AS_OF]))
            rows["impact"].append(timed(JUBAO + ["impact", str(people), "--region", "ningxia", "--as-of", AS_OF,
                                                 "--base", str(ROOT / "policies"), "--proposal", str(proposal),
                                                 "--report", str(folder / "report")]))
        batch_wall, batch_cpu = medians(rows["batch"])
        print(f"{args.size:,} Ningxia persons, as of {AS_OF}, median of {args.repeat} ({os.cpu_count()} cores)")
        print(f"{'command':<12} {'wall s':>8} {'CPU s':>8} {'÷ batch (wall)':>15} {'goal':>8}")
        for name, goal in (("batch", None), ("population", 1.0), ("impact", 2.5)):
            wall, cpu = medians(rows[name])
            ratio = wall / batch_wall
            verdict = "" if goal is None else f"≤ {goal}× {'met' if ratio <= goal else 'not met'}"
            print(f"{name:<12} {wall:>8.2f} {cpu:>8.2f} {ratio:>15.2f} {verdict:>8}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
