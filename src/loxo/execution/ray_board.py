"""The Ray executor's message board: small messages between the driver and its workers.

A Ray task returns its value only when it ends; a datum set's results must reach the
driver datum by datum, and the driver must reach a running set (to restart one datum's
command). Both go through one :class:`Board`, an async Ray actor that the executor
starts on the driver's node (no CPU reserved): a set of **mailboxes** keyed by strings.

- ``put(key, item)`` appends to a mailbox, ``put_all(key, items)`` several (callers fire
  and forget; Ray runs the calls of one caller in order, so a worker's reports arrive in
  the order it made them);
- ``take(key, timeout, linger, limit)`` returns and empties the mailbox (or returns its
  first ``limit`` items), waiting up to ``timeout`` seconds for something to arrive (a
  long poll: no busy waiting on either side), then ``linger`` seconds more for what may
  follow (so that a reader woken by a burst of reports is woken once);
- ``put_and_take(key, items, take_key, timeout, limit)`` is ``put_all`` then ``take``
  in one call (a slot reports a finished set and asks for its next one in one round
  trip);
- ``retract(key, tag)`` removes the first item whose second element is ``tag`` if it is
  still there (True), so a datum set handed to a busy slot can go to an idle one;
- ``drop(key)`` forgets a mailbox (its owner is done with it).

The driver reads one mailbox per ``run()`` (its workers' reports); each slot reads its
own (the sets handed to it, one at a time) and each worker process its own (control
messages). Only small values travel here: attempt notices and
:class:`~loxo.execution.task.DatumResult` s, never file contents. Nothing is lost if the
board goes away: a set's task also returns all its results, and the executor relies on
that return value for completeness.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ray

# plumbing, not work: keep the calls out of Ray's task records (dashboard, state API)
_quiet = ray.method(enable_task_events=False)


class Board:
    """Mailboxes with long-poll reads (the body of a Ray actor; see the module doc)."""

    def __init__(self) -> None:
        self._boxes: dict[str, list[Any]] = {}
        self._waiters: dict[str, asyncio.Event] = {}

    @_quiet
    async def put(self, key: str, item: Any) -> None:
        self._boxes.setdefault(key, []).append(item)
        waiter = self._waiters.get(key)
        if waiter is not None:
            waiter.set()

    @_quiet
    async def put_all(self, key: str, items: list[Any]) -> None:
        self._put_all(key, items)

    def _put_all(self, key: str, items: list[Any]) -> None:
        self._boxes.setdefault(key, []).extend(items)
        waiter = self._waiters.get(key)
        if waiter is not None:
            waiter.set()

    @_quiet
    async def take(
        self, key: str, timeout: float, linger: float = 0.0, limit: int = 0
    ) -> list[Any]:
        return await self._take(key, timeout, linger, limit)

    async def _take(self, key: str, timeout: float, linger: float, limit: int) -> list[Any]:
        if not self._boxes.get(key) and timeout > 0:
            waiter = self._waiters.setdefault(key, asyncio.Event())
            try:
                await asyncio.wait_for(waiter.wait(), timeout)
            except TimeoutError:
                pass
            finally:
                if self._waiters.get(key) is waiter:
                    del self._waiters[key]
        if linger > 0 and self._boxes.get(key):
            await asyncio.sleep(linger)  # let more arrive: one answer for a burst
        box = self._boxes.get(key, [])
        if limit and len(box) > limit:
            taken, self._boxes[key] = box[:limit], box[limit:]
            return taken
        return self._boxes.pop(key, [])

    @_quiet
    async def put_and_take(
        self, key: str, items: list[Any], take_key: str, timeout: float, limit: int = 0
    ) -> list[Any]:
        self._put_all(key, items)
        return await self._take(take_key, timeout, 0.0, limit)

    @_quiet
    async def retract(self, key: str, tag: Any) -> bool:
        box = self._boxes.get(key, [])
        for i, item in enumerate(box):
            if len(item) > 1 and item[1] == tag:
                del box[i]
                return True
        return False

    @_quiet
    async def drop(self, key: str) -> None:
        self._boxes.pop(key, None)
        waiter = self._waiters.pop(key, None)
        if waiter is not None:
            waiter.set()
