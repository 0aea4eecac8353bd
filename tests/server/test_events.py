"""The event bus: a subscription exists from the start of its block, survives waits that
time out (the SSE stream's keep-alives), and ends with the block."""

from __future__ import annotations

import asyncio
import threading

import pytest

from loxo.server.events import BACKLOG, EventBus


def test_a_subscription_survives_timeouts_and_gets_events_from_other_threads() -> None:
    bus = EventBus()

    async def main() -> list[tuple[str, dict[str, int]]]:
        got = []
        with bus.subscription() as queue:
            assert bus.subscribers == 1
            bus.publish("commit", {"n": 0})  # before any wait: not lost
            got.append(await asyncio.wait_for(queue.get(), 5))
            for n in (1, 2):
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(queue.get(), 0.01)
                thread = threading.Thread(target=bus.publish, args=("job", {"n": n}))
                thread.start()
                got.append(await asyncio.wait_for(queue.get(), 5))
                thread.join()
        assert bus.subscribers == 0
        return got

    assert asyncio.run(main()) == [("commit", {"n": 0}), ("job", {"n": 1}), ("job", {"n": 2})]
    bus.publish("job", {"n": 3})  # no subscriber, a closed loop: nothing to do, no error


def test_a_slow_subscriber_loses_the_oldest_events() -> None:
    bus = EventBus()

    async def main() -> list[int]:
        with bus.subscription() as queue:
            for n in range(BACKLOG + 5):
                bus.publish("job", {"n": n})
            await asyncio.sleep(0.05)  # let the loop deliver them
            return [queue.get_nowait()[1]["n"] for _ in range(queue.qsize())]

    assert asyncio.run(main()) == list(range(5, BACKLOG + 5))
