"""Group commit: the rows of many concurrent requests written in one transaction.

No answer without its row: `submit` returns only once the transaction holding its row has committed (or raises
what the write raised). There is no writer thread (a thread started before gunicorn forks its workers would not
exist in them): the first request to find nobody writing becomes the leader and writes every row queued by then;
requests that arrive meanwhile queue theirs, and when the leader is done it hands the lead to the first of them,
who writes all that queued in one go. Under load one transaction carries many rows; alone, a request writes its
own row at once, as before.

Written with `threading`: under the default server's gevent workers that module is gevent's (monkey-patched),
the waits are cooperative and the blocking write itself goes through `web.blocking.off_loop`.
"""
from __future__ import annotations

import threading
from typing import Callable


class _Waiter:
    __slots__ = ("row", "event", "done", "error")

    def __init__(self, row):
        self.row, self.event, self.done, self.error = row, threading.Event(), False, None


class GroupCommit:
    def __init__(self, write_many: Callable[[list], None], most: int = 256):
        self._write_many, self._most = write_many, most
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._writing = False
        self.transactions = 0  # for tests and benchmarks: how many commits carried the rows

    def submit(self, row) -> None:
        waiter = _Waiter(row)
        with self._lock:
            self._queue.append(waiter)
            lead = not self._writing
            self._writing = True
        while True:
            if lead:
                self._write_batch()
            waiter.event.wait()
            if waiter.done:
                break
            waiter.event.clear()  # handed the lead: its own row is still queued
            lead = True
        if waiter.error is not None:
            raise waiter.error

    def _write_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:self._most], self._queue[self._most:]
        error = None
        try:
            self._write_many([w.row for w in batch])
            self.transactions += 1
        except BaseException as exc:  # every request of the batch is told; none is answered as written
            error = exc
        for w in batch:
            w.error, w.done = error, True
            w.event.set()
        with self._lock:
            if self._queue:
                self._queue[0].event.set()  # the next leader (not done: it writes its batch)
            else:
                self._writing = False
