"""Bounded memos kept on a policy version, for what is a pure function of it and a few keys.

A `Policy` object is one version of a region's rules (a new version is a new object), so a memo in its `__dict__`
can never answer for another version; the memo dies with it.
"""
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


def memo_on(policy, name: str) -> Memo:
    """The bounded memo `name` kept on the policy version."""
    memo = policy.__dict__.get(name)
    if memo is None:
        memo = policy.__dict__[name] = Memo()
    return memo
