"""Single-person evaluation latency, in process: median and p90 of many runs, with and without explanation.

Run: .venv/bin/python benchmarks/eval_latency.py [RUNS]
"""
import json
import statistics
import sys
import time
from pathlib import Path

from engine import Registry, evaluate, read_as_of, read_person

ROOT = Path(__file__).resolve().parent.parent
CASES = [
    ("ningxia", "2026-03-01", ROOT / "examples" / "ningxia-tier500-2011-2025.json"),
    ("anhui", "2019-07-15", ROOT / "examples" / "anhui-mingguang.json"),
]


def measure(policy, data, as_of, explain: bool, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        evaluate(policy, read_person(policy, data, as_of), as_of, explain=explain)
        times.append(time.perf_counter() - start)
    return times


def main(runs: int = 500) -> None:
    registry = Registry(ROOT / "policies")
    print(f"{'case':<40} {'explain':>8} {'median ms':>10} {'p90 ms':>8}")
    for region, as_of_text, path in CASES:
        policy = registry.policy(region)
        data = json.loads(path.read_text(encoding="utf-8"))
        as_of = read_as_of(as_of_text)
        for explain in (False, True):
            measure(policy, data, as_of, explain, 20)  # warm-up
            times = sorted(measure(policy, data, as_of, explain, runs))
            print(f"{region + ' ' + path.stem:<40} {str(explain):>8} {statistics.median(times) * 1000:>10.3f} "
                  f"{times[int(len(times) * 0.9)] * 1000:>8.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
