"""Bounded memos, for what is a pure function of a few keys (a policy version's, engine.core.prepared)."""
from __future__ import annotations


class Memo(dict):
    """A bounded memo (oldest out first); safe under threads: a lost race costs one recomputation.

    A dict, so that a lookup (`get`, on every hot path) is the dict's own, not a call through Python."""

    MOST = 4096

    def put(self, key, value) -> None:
        if len(self) >= self.MOST:
            try:
                del self[next(iter(self))]
            except (KeyError, StopIteration, RuntimeError):
                pass
        self[key] = value

