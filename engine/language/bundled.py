"""Where the grammar and the bundled policies are: beside the package when installed from a wheel
(`engine/grammar/`, `engine/policies/`, mapped there by pyproject.toml), else at the top of a checkout."""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # the `engine` package


def bundled(name: str) -> Path:
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name
