"""The Ray executor's message board: small messages between the driver and its workers.

A Ray task returns its value only when it ends; a datum set's results must reach the
driver datum by datum, and the driver must reach a running set (to restart one datum's
command). Both go through one :class:`Board`, an async Ray actor that the executor
starts on the driver's node (no CPU reserved): a set of **mailboxes** keyed by strings.

- ``put(key, item, order)`` adds to a mailbox, ``put_all(key, items)`` several,
  ``put_many([(key, item, order), ...])`` to several mailboxes at once (callers fire and
  forget; each call costs the actor about 1 ms of CPU on a 2-core machine, so callers
  that have several things to put make one call). Ray does not promise to run an async
  actor's calls in the order one caller made them (it was seen here to swap two puts of
  the driver), so items put with an ``order`` are kept sorted by it, ahead of the others,
  which keep their arrival order: the sets handed to a slot run in the order the driver
  handed them;
- ``take(key, timeout, linger, limit, post)`` returns and empties the mailbox (or returns
  its first ``limit`` items), waiting up to ``timeout`` seconds for something to arrive (a
  long poll: no busy waiting on either side), then ``linger`` seconds more for what may
  follow (so that a reader woken by a burst of reports is woken once); ``post``, a list of
  ``(key, items)``, is put first (``put_all``), so a reader that also reports makes one
  call;
- ``retract(key, tag)`` removes the first item whose second element is ``tag`` if it is
  still there (True), so that a cancelled datum set need not reach its slot;
- ``drop(key)`` forgets a mailbox (its owner is done with it).

The driver reads one mailbox per ``run()`` (its workers' reports); each slot reads its
own (the sets handed to it, one at a time) and each worker process its own (control
messages). Only small values travel here: attempt notices and
:class:`~loxo.execution.task.DatumResult` s, never file contents. If the board goes away,
the slots reading it end, and the executor runs the datums whose results it has not had
again.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
from collections.abc import Sequence
from typing import Any

import ray

# plumbing, not work: keep the calls out of Ray's task records (dashboard, state API)
_quiet = ray.method(enable_task_events=False)


class Board:
    """Mailboxes with long-poll reads (the body of a Ray actor; see the module doc)."""

    def __init__(self) -> None:
        # each box: (sort key, item), sorted; ordered items (0, order), others (1, arrival)
        self._boxes: dict[str, list[tuple[tuple[int, int], Any]]] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._arrivals = itertools.count()

    @_quiet
    async def put(self, key: str, item: Any, order: int | None = None) -> None:
        self._put(key, item, order)
        self._wake(key)

    @_quiet
    async def put_many(self, items: list[tuple[str, Any, int | None]]) -> None:
        for key, item, order in items:
            self._put(key, item, order)
        for key in {key for key, _, _ in items}:
            self._wake(key)

    @_quiet
    async def put_all(self, key: str, items: list[Any]) -> None:
        self._put_all(key, items)

    def _put(self, key: str, item: Any, order: int | None) -> None:
        rank = (1, next(self._arrivals)) if order is None else (0, order)
        bisect.insort(self._boxes.setdefault(key, []), (rank, item), key=lambda e: e[0])

    def _put_all(self, key: str, items: list[Any]) -> None:
        self._boxes.setdefault(key, []).extend(((1, next(self._arrivals)), i) for i in items)
        self._wake(key)

    def _wake(self, key: str) -> None:
        waiter = self._waiters.get(key)
        if waiter is not None:
            waiter.set()

    @_quiet
    async def take(
        self,
        key: str,
        timeout: float,
        linger: float = 0.0,
        limit: int = 0,
        post: Sequence[tuple[str, list[Any]]] = (),
    ) -> list[Any]:
        for mailbox, items in post:
            self._put_all(mailbox, items)
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
        else:
            taken = self._boxes.pop(key, [])
        return [item for _, item in taken]

    @_quiet
    async def retract(self, key: str, tag: Any) -> bool:
        box = self._boxes.get(key, [])
        for i, (_, item) in enumerate(box):
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
