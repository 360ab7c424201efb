"""Check that two (or more) peer outputs agree to the fen: same persons, same total and balance strings.

Run: benchmarks/peers/.venv/bin/python benchmarks/peers/compare_outputs.py A.parquet B.parquet [C.parquet ...]
Prints one JSON line; exits 1 if any file differs from the first.
"""
from __future__ import annotations

import json
import sys
from decimal import Decimal

import pyarrow.parquet as pq

COLUMNS = ["person_id", "monthly_pension_total", "account_balance"]


def _rows(path: str) -> dict:
    """person_id → its money as text "123.45", whether a file holds strings (the peers) or decimals (jubao)."""
    rows = pq.read_table(path, columns=COLUMNS).to_pylist()
    return {r["person_id"]: {k: v if k == "person_id" or v is None else f"{Decimal(str(v)):.2f}"
                             for k, v in r.items()} for r in rows}


def main() -> None:
    paths = sys.argv[1:]
    if len(paths) < 2:
        raise SystemExit(__doc__)
    first = _rows(paths[0])
    report, ok = {"persons": len(first), "against": paths[0], "files": {}}, True
    for path in paths[1:]:
        other = _rows(path)
        missing, extra = first.keys() - other.keys(), other.keys() - first.keys()
        differ = [pid for pid in first.keys() & other.keys() if first[pid] != other[pid]]
        nonzero = sum(1 for r in other.values() if r["monthly_pension_total"] != "0.00")
        report["files"][path] = {"differ": len(differ), "missing": len(missing), "extra": len(extra),
                                 "receiving": nonzero, "examples": [(first[p], other[p]) for p in sorted(differ)[:3]]}
        ok = ok and not (differ or missing or extra)
    report["agree"] = ok
    print(json.dumps(report, ensure_ascii=False))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
