"""Single-person evaluation latency, in process: median and p90 of many runs, with and without explanation.

After jubao's own rows, the Ningxia case against its peer from the same run: the GoRules ZEN model of the
Ningxia 2011 rules (benchmarks/peers/zen_ningxia.py, run in the peers' venv) on the same person and as-of date,
traced and untraced. Printed: jubao with explanation ÷ ZEN traced (goal ≤ 1×), and jubao without explanation
against the 0.15 ms target (goal ≤ 1×). Without the peers' venv that part is skipped (make it with
`bash benchmarks/peers/setup.sh`).

Each case is measured in ROUNDS interleaved batches of RUNS evaluations; the figure is the median of the batches'
medians (the machine's noisy moments touch one batch, not the figure), printed with the fastest and slowest batch.

Run: .venv/bin/python benchmarks/eval_latency.py [RUNS]
"""
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from engine import Registry, compiled, evaluate, read_as_of, read_person

ROOT = Path(__file__).resolve().parent.parent
CASES = [
    ("ningxia", "2026-03-01", ROOT / "examples" / "ningxia-tier500-2011-2025.json"),
    ("anhui", "2019-07-15", ROOT / "examples" / "anhui-mingguang.json"),
]
PEERS_PYTHON = ROOT / "benchmarks" / "peers" / ".venv" / "bin" / "python"
ZEN_PEER = ROOT / "benchmarks" / "peers" / "zen_ningxia.py"
ROUNDS = 5  # batches of RUNS evaluations per case, interleaved
UNEXPLAINED_TARGET_MS = 0.15  # one person, Ningxia 2011–2025, without the explanation


def measure(policy, data, as_of, explain: bool, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        evaluate(policy, read_person(policy, data, as_of), as_of, explain=explain)
        times.append(time.perf_counter() - start)
    return times


def zen_peer(path: Path, as_of_text: str, runs: int) -> dict | None:
    """The ZEN peer's figures for this person, from its own venv; None (with a note printed) if it cannot run."""
    if not PEERS_PYTHON.exists():
        print("ZEN peer skipped: no benchmarks/peers/.venv — make it with: bash benchmarks/peers/setup.sh")
        return None
    done = subprocess.run([str(PEERS_PYTHON), str(ZEN_PEER), str(path), "--as-of", as_of_text, "--runs", str(runs)],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"ZEN peer failed ({last}) — is zen-engine in the peers' venv? bash benchmarks/peers/setup.sh")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(runs: int = 500) -> None:
    registry = Registry(ROOT / "policies")
    print(f"engine: {compiled.summary()}")  # setup.py's Cython build, or the .py files (JUBAO_PURE_PYTHON=1)
    # This VM slows down by up to 2x for a few hundred milliseconds at a time (its neighbours): one batch of `runs`
    # can fall inside such a moment. ROUNDS batches per case, interleaved; the figure is the median of the batches'
    # medians, printed with the slowest and fastest batch.
    cases = []
    for region, as_of_text, path in CASES:
        policy = registry.policy(region)
        data = json.loads(path.read_text(encoding="utf-8"))
        as_of = read_as_of(as_of_text)
        for explain in (False, True):
            measure(policy, data, as_of, explain, 20)  # warm-up
            cases.append((region, path, explain, policy, data, as_of))
    batches = {(region, explain): [] for region, _, explain, *_ in cases}
    pooled = {key: [] for key in batches}
    for _ in range(ROUNDS):
        for region, path, explain, policy, data, as_of in cases:
            times = measure(policy, data, as_of, explain, runs)
            batches[region, explain].append(statistics.median(times) * 1000)
            pooled[region, explain] += times
    medians = {key: statistics.median(values) for key, values in batches.items()}
    print(f"{'case':<40} {'explain':>8} {'median ms':>10} {'batches ms':>14} {'p90 ms':>8}")
    for region, path, explain, *_ in cases:
        key, times = (region, explain), sorted(pooled[region, explain])
        print(f"{region + ' ' + path.stem:<40} {str(explain):>8} {medians[key]:>10.3f} "
              f"{min(batches[key]):>6.3f}–{max(batches[key]):<6.3f} {times[int(len(times) * 0.9)] * 1000:>8.3f}")

    region, as_of_text, path = CASES[0]  # Ningxia, the case the ZEN peer models
    peer = zen_peer(path, as_of_text, runs)
    if peer is None:
        return
    policy = registry.policy(region)
    as_of = read_as_of(as_of_text)
    decision = evaluate(policy, read_person(policy, json.loads(path.read_text(encoding="utf-8")), as_of), as_of)
    ours = {c.id: c.amount.total for c in decision.monthly_pension.components}
    explained, bare = medians[region, True], medians[region, False]
    print(f"\n{region} {path.stem} as of {as_of_text}, peer: GoRules ZEN {peer['zen_engine']} "
          f"(benchmarks/peers/zen_ningxia.py, {peer['runs']} runs)")
    print(f"  {'ZEN traced':<32} {peer['traced_ms']:>10.3f} ms   untraced {peer['untraced_ms']:.3f} ms")
    print(f"  {'jubao explained ÷ ZEN traced':<32} {explained / peer['traced_ms']:>10.2f}×   "
          f"({explained:.3f} / {peer['traced_ms']:.3f} ms; goal ≤ 1×)")
    print(f"  {'jubao unexplained ÷ target':<32} {bare / UNEXPLAINED_TARGET_MS:>10.2f}×   "
          f"({bare:.3f} / {UNEXPLAINED_TARGET_MS} ms; goal ≤ 1×)")
    print(f"  {'jubao unexplained ÷ ZEN untraced':<32} {bare / peer['untraced_ms']:>10.2f}×   "
          f"({bare:.3f} / {peer['untraced_ms']:.3f} ms)")
    c = peer["components"]
    print(f"  monthly pension: jubao {decision.monthly_pension.total} (basic {ours['basic_pension']}, "
          f"account {ours['account_pension']}), ZEN {peer['pension']} (basic {c['basicPension']}, "
          f"account {c['accountPension']})")
    if peer["pension"] != str(decision.monthly_pension.total):
        same = "the same" if peer["pension_later_years"] == str(decision.monthly_pension.total) else "NOT the same"
        print("  they differ because the ZEN peer is a simpler model: Ningxia's 2011 rules only (basic pension at "
              "its 2018 level, the 2011 tier table's subsidies every year), where jubao's policy has the later "
              f"raises and the 2019 tier table; the ZEN graph with jubao's later values gives "
              f"{peer['pension_later_years']}, {same} as jubao")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
