"""The user's cache folder for what jubao keeps between processes (the built parser, parsed policy files)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_folder() -> Path | None:
    """$XDG_CACHE_HOME/jubao or ~/.cache/jubao, made private to the user (what is kept there is pickled, and a
    pickle runs code when loaded); None where it cannot be made or is not the user's own."""
    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jubao"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (hasattr(os, "getuid") and folder.stat().st_uid != os.getuid()) or not os.access(folder, os.W_OK):
            return None  # someone else's folder: never load a pickle from it
    except (OSError, RuntimeError):  # no home, a read-only home, a file in the way
        return None
    return folder
