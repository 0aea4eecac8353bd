"""Waiting without driving: poll the service until something holds or the caller goes away.

In server mode jobs are run by the server's scheduler, never by a request handler, so a
request that waits (``InspectCommit`` with ``wait``, ``InspectJob`` with ``wait``,
``SubscribeCommit``, ``GetLogs`` with ``follow``) only reads, with a backoff up to
:data:`MAX_DELAY`, and stops as soon as its RPC is cancelled or past its deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeAlias, TypeVar

import grpc

from loxo.errors import TransientError

Ctx: TypeAlias = grpc.ServicerContext

T = TypeVar("T")
FIRST_DELAY = 0.02
MAX_DELAY = 0.25


class CallerGone(TransientError):
    def __init__(self) -> None:
        super().__init__("the call was cancelled or passed its deadline while waiting")


def pause(context: Ctx, delay: float) -> float:
    """Sleep ``delay`` (raise :class:`CallerGone` if the RPC ended); the next delay."""
    if not context.is_active():
        raise CallerGone()
    time.sleep(delay)
    return min(delay * 2, MAX_DELAY)


def wait_until(context: Ctx, read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """``read()`` again and again until ``done`` holds for its result; that result."""
    delay = FIRST_DELAY
    while True:
        value = read()
        if done(value):
            return value
        delay = pause(context, delay)
