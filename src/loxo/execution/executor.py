"""The ``Executor`` interface: run datum task sets, stream back datum results.

An executor never learns about repos, pipelines or jobs beyond the values in a
:class:`~loxo.execution.task.TaskSet`. Implementations: ``inline`` (this process, one datum
at a time: tests and debugging), ``local`` (a pool of warm worker processes), later ``ray``.
Each passes the executor conformance suite (``tests/execution/contract.py``).

Rules every implementation keeps:

- results stream back as datums finish (``run`` is a generator), in any order;
- at most ``parallelism`` datum sets run at once;
- a set whose worker dies is retried elsewhere; a datum may therefore run twice, and its
  result is keyed by ``(job_id, datum_id)`` so the second report wins harmlessly;
- ``cancel()`` stops everything of a job promptly, killing whole process groups;
- ``restart_datum`` kills the running attempt of one datum; it counts as a failed attempt.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from typing import Self

from loxo.errors import PreconditionError

from .task import DatumResult, TaskSet


class ExecutorClosed(PreconditionError):
    """The executor was closed (before or while ``run`` was waiting for results)."""


class Executor(abc.ABC):
    name: str
    #: pipeline-spec fields beyond the core ones that this executor honours (e.g. a
    #: Kubernetes executor would list ``pod_patch``); pipelines using others are refused
    supported_fields: frozenset[str] = frozenset()

    @abc.abstractmethod
    def run(self, sets: Iterable[TaskSet], *, parallelism: int = 1) -> Iterator[DatumResult]:
        """Run every datum of every set; yield each datum's result once it is final."""

    @abc.abstractmethod
    def cancel(self, job_id: str) -> None:
        """Stop every running and queued datum of ``job_id`` (their results are not
        yielded)."""

    @abc.abstractmethod
    def restart_datum(self, job_id: str, datum_id: str) -> bool:
        """Kill the running attempt of one datum; False if it is not running."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop the workers."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
