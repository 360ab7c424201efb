"""Calls that block in C, run off the event loop.

Under the default server's gevent workers every request of a process shares one OS thread: a call that blocks
inside C (SQLite waiting for the write lock held by the other worker process, an fsync) would stall all of them,
and the latency of the slowest request grew to seconds. Such a call runs on one of gevent's OS threads instead,
and only its own request waits. Without gevent (tests, gthread workers, the CLI) it is a plain call.
"""
from __future__ import annotations

import sys


def off_loop(call, *args, **kwargs):
    # gevent's monkey module is imported by whoever patches (`jubao serve`): not imported, nothing is patched. An
    # import statement here would cost every write the import machinery's lookups.
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("socket"):
        return call(*args, **kwargs)
    return sys.modules["gevent"].get_hub().threadpool.apply(call, args, kwargs)  # imported with its monkey
