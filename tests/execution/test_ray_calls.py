"""Fewer board calls per datum set on Ray: what each saving must keep.

The driver sends the sets it places in batches (:mod:`loxo.execution.ray_handout`), a slot
posts its reports with the take of its next set (:mod:`loxo.execution.ray_next`), a worker
runs every set's outbox on one thread (:mod:`loxo.execution.ray_outbox`). Each must keep
the order of a slot's sets, lose no report, and hold nothing back for long. The slot tests
use a real board actor on a real two-node cluster (:mod:`tests.raycluster`).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray")

from loxo.execution import ray_handout, ray_next
from loxo.execution.ray_board import Board
from loxo.execution.ray_handout import HandOut
from loxo.execution.ray_next import NextSet
from loxo.execution.ray_outbox import COMMAND_POST_SECONDS, POST_SECONDS, Outbox
from loxo.execution.ray_sets import InFlight, Run, Slot
from loxo.execution.task import TaskSet, Transform
from loxo.storage.local import LocalStore
from tests.raycluster import RayCluster, connected

from .builders import Datums, sh


@pytest.fixture
def d(tmp_path: Path) -> Datums:
    return Datums(LocalStore(tmp_path / "store"), tmp_path)


def item(ts: TaskSet | None, key: str) -> tuple[Any, ...]:
    """A set as the driver hands it to a slot, reporting to mailbox "reports"."""
    return ("set", key, ts, {}, "reports", {}, [])


# --- the board -----------------------------------------------------------------------------


def test_put_many_keeps_each_slots_sets_in_hand_out_order_and_take_posts_first() -> None:
    async def scenario() -> list[list[Any]]:
        board = Board()
        await board.put("a", ("stop",))
        await board.put_many([("a", ("set", "k3"), 3), ("b", ("set", "k2"), 2)])
        await board.put_many([("a", ("set", "k1"), 1)])
        took = await board.take("b", 0, 0.0, 1, [("reports", [("k0", "set_done")])])
        return [await board.take("a", 0), took, await board.take("reports", 0)]

    assert asyncio.run(scenario()) == [
        [("set", "k1"), ("set", "k3"), ("stop",)],
        [("set", "k2")],
        [("k0", "set_done")],
    ]


# --- the driver's batches ------------------------------------------------------------------


class _Remote:
    def __init__(self, calls: list[Any]) -> None:
        self.calls = calls

    def remote(self, *args: Any) -> None:
        self.calls.append(args)


class _Board:
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.put_many = _Remote(self.calls)


class _Driver(HandOut):
    def __init__(self) -> None:
        import itertools

        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._board = _Board()
        self.autoscaling = False
        self._init_handout()


def test_placed_sets_go_to_the_board_in_batches_and_a_cancelled_one_stays_home(
    d: Datums, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ray_handout, "BATCH_SECONDS", 60.0)
    driver, run, slot = _Driver(), Run("run", {}, [], parallelism=3), Slot("slot", None, {})
    sets = [InFlight(run, d.set(sh("true"), [d.simple(f"d{i}")]), {}) for i in range(5)]
    for s in sets[:2]:
        slot.sets.append(s)
        driver._assign(s, slot)
    assert driver._board.calls == []  # fewer than parallelism, none waited long
    slot.sets.append(sets[2])
    driver._assign(sets[2], slot)
    ((batch,),) = driver._board.calls  # parallelism of them: one call, in hand-out order
    assert [(box, i[1], order) for box, i, order in batch] == [
        ("slot", s.key, int(s.key.rsplit("-", 1)[1])) for s in sets[:3]
    ]
    assert [b[2] for b in batch] == sorted(b[2] for b in batch)
    slot.sets.append(sets[3])
    driver._assign(sets[3], slot)
    assert driver._unsend(sets[3])  # cancelled before it was sent: off the list and books
    assert sets[3] not in slot.sets and sets[3].key not in run.sets
    assert not driver._unsend(sets[0])  # already on the board: the caller retracts it there
    driver._send()
    assert len(driver._board.calls) == 1  # nothing was left to send
    monkeypatch.setattr(ray_handout, "BATCH_SECONDS", 0.0)
    slot.sets.append(sets[4])
    driver._assign(sets[4], slot)  # the oldest waited long enough: it goes at once
    assert [i[1] for _, i, _ in driver._board.calls[1][0]] == [sets[4].key]


# --- a slot's reports riding with its takes --------------------------------------------------


@pytest.fixture(scope="module")
def ray_driver() -> Iterator[None]:
    """This process as a driver of a real two-node cluster: the one it is connected to
    already (``test_ray.py``'s, for the session), else one for this module."""
    import ray

    if ray.is_initialized():
        yield
        return
    with RayCluster(nodes=2, cpus=2) as cluster, connected(cluster):
        yield


@pytest.fixture
def board(ray_driver: None) -> Iterator[Any]:
    import ray

    actor = ray.remote(Board).options(num_cpus=0).remote()
    yield actor
    ray.kill(actor)


def _hand(board: Any, slot: str, it: tuple[Any, ...], order: int) -> None:
    import ray

    ray.get(board.put.remote(slot, it, order))


def _reports(board: Any, timeout: float = 10.0) -> list[Any]:
    import ray

    return list(ray.get(board.take.remote("reports", timeout, 0.2)))


def _wait_held(slot: NextSet, key: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = slot._held
        if held is not None and held[1] == key:
            return
        time.sleep(0.01)
    raise AssertionError(f"the slot never took {key} ahead")


def test_a_sets_end_rides_with_the_next_take_and_the_next_sets_first_report(
    board: Any, d: Datums, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    monkeypatch.setattr(ray_next, "GATE", 30.0)  # only the first report opens it here
    commands = d.set(sh("true"), [d.simple("x")])
    slot = NextSet(board, "slot", idle=60.0)
    _hand(board, "slot", item(commands, "k1"), 1)
    _hand(board, "slot", item(commands, "k2"), 2)
    assert slot.take()[1] == "k1"  # type: ignore[index]
    assert slot.carry(("reports", [("k1", "attempt")])) is True  # rides with the take of k2
    assert _reports(board) == [("k1", "attempt")]
    _wait_held(slot, "k2")
    assert slot.carry(("reports", [("k1", "results")])) is False  # that take went: post it
    # k1 ends: its end waits for k2's first report, and both go with the take of k3
    assert slot.take(("reports", [("k1", "set_done")]))[1] == "k2"  # type: ignore[index]
    _hand(board, "slot", item(commands, "k3"), 3)
    assert ray.get(board.take.remote("reports", 0.5)) == []  # held back, not lost
    assert slot.carry(("reports", [("k2", "attempt")])) is True
    assert _reports(board) == [("k1", "set_done"), ("k2", "attempt")]
    _wait_held(slot, "k3")
    # k2 ends while k3 is held, and the slot stops before k3 reports anything: what was
    # left to ride goes at once
    assert slot.take(("reports", [("k2", "set_done")]))[1] == "k3"  # type: ignore[index]
    slot.close()
    assert _reports(board) == [("k2", "set_done")]


def test_a_sets_end_waits_for_the_next_take_no_longer_than_the_gate(
    board: Any, d: Datums, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ray_next, "GATE", 0.3)
    commands = d.set(sh("true"), [d.simple("x")])
    slot = NextSet(board, "slot", idle=60.0)
    for i in (1, 2):
        _hand(board, "slot", item(commands, f"k{i}"), i)
    assert slot.take()[1] == "k1"  # type: ignore[index]
    _wait_held(slot, "k2")
    start = time.monotonic()
    assert slot.take(("reports", [("k1", "set_done")]))[1] == "k2"  # type: ignore[index]
    assert _reports(board) == [("k1", "set_done")]  # k2 reported nothing: the gate opened
    assert 0.25 <= time.monotonic() - start < 5.0
    # with no set in hand (the thread's take waits for one), a set's end goes at once
    monkeypatch.setattr(ray_next, "GATE", 30.0)
    waiter = threading.Thread(target=slot.take, args=(("reports", [("k2", "set_done")]),))
    waiter.start()
    assert _reports(board) == [("k2", "set_done")]
    _hand(board, "slot", ("stop",), 4)
    waiter.join(10)
    assert not waiter.is_alive()


def test_around_a_set_of_python_calls_reports_go_at_once(
    board: Any, d: Datums, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a Python call may end its worker before the slot's thread runs: the previous set's
    # end must be out before it starts
    monkeypatch.setattr(ray_next, "GATE", 30.0)
    python = d.set(Transform(python="tests.execution.pyfuncs:copy"), [d.simple("x")])
    commands = d.set(sh("true"), [d.simple("y")])
    slot = NextSet(board, "slot", idle=60.0)
    _hand(board, "slot", item(commands, "k1"), 1)
    _hand(board, "slot", item(python, "k2"), 2)
    assert slot.take()[1] == "k1"  # type: ignore[index]
    assert slot.carry(("reports", [("k1", "attempt")])) is True
    assert _reports(board) == [("k1", "attempt")]
    _wait_held(slot, "k2")
    assert slot.take(("reports", [("k1", "set_done")]))[1] == "k2"  # type: ignore[index]
    assert _reports(board, timeout=5.0) == [("k1", "set_done")]
    assert slot.carry(("reports", [("k2", "attempt")])) is False  # its caller posts it
    _hand(board, "slot", ("stop",), 3)
    assert slot.take() is None


# --- one outbox thread per worker ------------------------------------------------------------


def test_outboxes_share_one_thread_and_one_opened_beside_another_still_posts(
    tmp_path: Path,
) -> None:
    url = LocalStore(tmp_path / "store").url
    posted: list[tuple[str, Any, threading.Thread]] = []
    got = threading.Condition()

    def poster(name: str) -> Any:
        def post(events: list[tuple[Any, ...]]) -> None:
            with got:
                posted.extend((name, e, threading.current_thread()) for e in events)
                got.notify_all()

        return post

    def wait_for(name: str, event: tuple[Any, ...]) -> threading.Thread:
        with got:
            assert got.wait_for(lambda: any(p[:2] == (name, event) for p in posted), 10)
            return next(p[2] for p in posted if p[:2] == (name, event))

    first = Outbox(url, poster("first"))
    first.event(("attempt", "a"))
    courier = wait_for("first", ("attempt", "a"))
    beside = Outbox(url, poster("beside"))  # the shared thread is busy: a thread of its own
    beside.event(("attempt", "b"))
    assert wait_for("beside", ("attempt", "b")) is not courier
    beside.close([])
    first.close([])
    after = Outbox(url, poster("after"))  # the next set's outbox: the same thread again
    after.event(("attempt", "c"))
    assert wait_for("after", ("attempt", "c")) is courier
    after.close([])


def test_an_outbox_posts_no_more_often_than_its_pace(tmp_path: Path) -> None:
    # a set of commands posts its reports at most every COMMAND_POST_SECONDS (each post is
    # an actor call); all of them arrive, in order
    url = LocalStore(tmp_path / "store").url
    posts: list[tuple[float, list[Any]]] = []
    outbox = Outbox(url, lambda events: posts.append((time.monotonic(), events)), pace=0.05)
    start = time.monotonic()
    for i in range(40):  # one event every 5 ms for 0.2 s
        outbox.event(("attempt", f"d{i}"))
        time.sleep(0.005)
    end = time.monotonic()
    deadline = end + 5
    while sum(len(e) for _, e in posts) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    outbox.close([])
    assert [e for _, events in posts for e in events] == [("attempt", f"d{i}") for i in range(40)]
    times = [t for t, _ in posts]
    assert all(b - a >= 0.045 for a, b in itertools.pairwise(times)), times
    assert len(posts) <= (end - start) / 0.05 + 2
    assert COMMAND_POST_SECONDS > POST_SECONDS  # commands' reports are paced the slower
