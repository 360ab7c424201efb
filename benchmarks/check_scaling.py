"""Checking scales near-linearly: 10× the policy text should take ≤ 15× the time (two hostile shapes).

Shapes: one value with N dated versions; N `let` lines. Each is checked against the live Anhui region,
as `POST /v1/check` does. Prints seconds for N and 10·N and the ratio.

Run: .venv/bin/python benchmarks/check_scaling.py [N]
"""
import datetime as dt
import sys
import time
from pathlib import Path

from engine import Registry, check_texts

ROOT = Path(__file__).resolve().parent.parent


def versions(n: int) -> str:
    day = dt.date(1950, 1, 1)
    lines = ["region anhui", 'value many "多版本": 元/月']
    for i in range(n):
        lines.append(f"  from {day + dt.timedelta(days=i)}  {i % 100}.00  cite 安徽高质量发展")
    return "\n".join(lines) + "\n"


def lets(n: int) -> str:
    lines = ["region anhui"]
    for i in range(n):
        lines += [f"let x{i} = {i}", "  cite 安徽高质量发展"]
    return "\n".join(lines) + "\n"


def seconds(registry: Registry, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        check_texts({"scale.policy": text}, base=registry)
        best = min(best, time.perf_counter() - start)
    return best


def main(n: int = 1600) -> None:
    registry = Registry(ROOT / "policies")
    print(f"{'shape':<10} {'N':>7} {'s':>8} {'10N':>7} {'s':>8} {'ratio':>6}  (goal ≤ 15)")
    for name, make in (("versions", versions), ("lets", lets)):
        small, large = seconds(registry, make(n)), seconds(registry, make(10 * n))
        print(f"{name:<10} {n:>7} {small:>8.3f} {10 * n:>7} {large:>8.3f} {large / small:>6.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1600)
