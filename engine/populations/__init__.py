"""Populations: files of persons evaluated in bulk, synthetic populations, and the impact of a policy change.

Owns: `batch` (a file in, a file out, over processes or Dask), `population` (synthetic persons shaped by a region's
own tables), `impact` (a population under two policy folders).

May import: `engine.columns`, `engine.core`, `engine.language`.
"""

import importlib

# Named here, imported on first use: they import NumPy, pyarrow and matplotlib.
_WHERE = {
    "count_rows": "engine.populations.files", "read_rows": "engine.populations.files",
    "run_batch": "engine.populations.batch",
    "compare": "engine.populations.impact", "write_report": "engine.populations.impact",
    "generate": "engine.populations.population", "write": "engine.populations.population",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_WHERE)
