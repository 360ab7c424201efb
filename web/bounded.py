"""Work with a deadline: policy checks and test runs of text a caller sent run in a child process that is
killed when the deadline passes, so no request can hold a server thread for long (503 with Retry-After).

A fork of the worker: the child has the policies already parsed, starts in milliseconds, and leaves the
parent's database connections alone (it opens its own pool).
"""
from __future__ import annotations

import multiprocessing
import os
import traceback

from flask import current_app

from engine.language import say
from web.bodies import HttpProblem

RETRY_AFTER = "30"


def within(seconds: float, work, *args):
    """work(*args) in a child process; its (picklable) result, or 503 when it takes longer than `seconds`."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    engines = [e.engine for e in (current_app.extensions.get("jubao.store"),
                                  current_app.extensions.get("jubao.decisions")) if e is not None]
    child = context.Process(target=_child, args=(send, engines, work, args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise HttpProblem(503, say("http.work-too-long", seconds=f"{seconds:g}"),
                              extra={"retry_after": int(RETRY_AFTER)})
        try:
            ok, value = receive.recv()
        except EOFError:
            raise HttpProblem(503, say("http.work-died"),
                              extra={"retry_after": int(RETRY_AFTER)}) from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    if not ok:
        raise value
    return value


def _child(send, engines, work, args) -> None:
    for engine in engines:
        engine.dispose(close=False)  # the parent's pooled connections stay the parent's
    try:
        result = (True, work(*args))
    except HttpProblem as problem:
        result = (False, problem)
    except BaseException:  # reported in the parent as a 500 with the child's traceback in the log
        result = (False, RuntimeError(traceback.format_exc(limit=20)))
    try:
        send.send(result)
    finally:
        send.close()
        os._exit(0)  # no atexit handlers, no flushing of the parent's buffers twice
