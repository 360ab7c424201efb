"""Bounded memos kept on a policy version, for what is a pure function of it and a few keys.

A `Policy` object is one version of a region's rules (a new version is a new object), so a memo in its `__dict__`
can never answer for another version; the memo dies with it.
"""
from __future__ import annotations


class Memo:
    """A bounded memo (oldest out first); safe under threads: a lost race costs one recomputation."""

    MOST = 4096

    def __init__(self):
        self.items: dict = {}

    def get(self, key):
        return self.items.get(key)

    def put(self, key, value) -> None:
        items = self.items
        if len(items) >= self.MOST:
            try:
                del items[next(iter(items))]
            except (KeyError, StopIteration, RuntimeError):
                pass
        items[key] = value


def memo_on(policy, name: str) -> Memo:
    """The bounded memo `name` kept on the policy version."""
    memo = policy.__dict__.get(name)
    if memo is None:
        memo = policy.__dict__[name] = Memo()
    return memo
