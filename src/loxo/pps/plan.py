"""Job planning: which datums of a job run, which are skipped, whose old outputs go away.

A job is compared with its **base job** (the latest earlier successful job of the pipeline,
SEMANTICS §2.2) by datum ID (content-independent) and datum hash (content and salt):

- a current datum is **skipped** iff the base job has it with an equal hash, in state
  ``SUCCESS`` or ``SKIPPED``, and the pipeline does not reprocess every job;
- every other current datum **runs**; if the base job had it (hash changed, or it FAILED or was
  RECOVERED there, or ``every_job``), it is also **replaced**: its old output is removed;
- a base datum absent from the current job is **removed**: its old output goes away.

Invariants: ``run`` and ``skip`` partition the current datums (each in input order) -- in
a plan from a commit diff (:func:`plan_delta`), ``run``, ``skip`` and the ``carried`` ones;
``replaced`` is a subset of ``run``; ``removed`` is disjoint from both (in base order). A
datum ID may appear only once in the current job. Pure: no database, no I/O; one dict lookup
per datum.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

__all__ = ["SKIPPABLE_STATES", "JobPlan", "plan_delta", "plan_job"]

SKIPPABLE_STATES = frozenset({"SUCCESS", "SKIPPED"})
"""Base datum states whose output a current datum of equal hash may keep."""


@dataclass(frozen=True, slots=True)
class JobPlan:
    """Datum IDs by fate (see the module docstring)."""

    run: list[str]
    skip: list[str]
    replaced: list[str]
    removed: list[str]
    carried: int = 0
    """Datums skipped without being listed: unchanged since the base job, which had them in a
    skippable state (a plan from a commit diff, :mod:`~loxo.pps.delta`, counts them only)."""

    @property
    def skipped(self) -> int:
        """How many current datums are skipped (listed and carried)."""
        return len(self.skip) + self.carried

    @property
    def total(self) -> int:
        """How many datums the job has."""
        return len(self.run) + self.skipped


def plan_job(
    current: Iterable[tuple[str, str]],
    base: Mapping[str, tuple[str, str]],
    *,
    every_job: bool = False,
) -> JobPlan:
    """Plan a job from its ``(datum ID, hash)`` pairs and the base job's ``ID -> (hash, state)``.

    Raises ValueError if ``current`` repeats a datum ID.
    """
    run: list[str] = []
    skip: list[str] = []
    replaced: list[str] = []
    seen: set[str] = set()
    get, add, skippable = base.get, seen.add, SKIPPABLE_STATES
    for datum_id, datum_hash in current:
        add(datum_id)
        old = get(datum_id)
        if old is None:
            run.append(datum_id)
        elif old[0] == datum_hash and old[1] in skippable and not every_job:
            skip.append(datum_id)
        else:
            run.append(datum_id)
            replaced.append(datum_id)
    if len(seen) != len(run) + len(skip):
        raise ValueError(f"the current job repeats datum IDs: {_repeated(run + skip)}")
    removed = [d for d in base if d not in seen] if len(base) > len(skip) + len(replaced) else []
    return JobPlan(run=run, skip=skip, replaced=replaced, removed=removed)


def plan_delta(
    changed: Iterable[tuple[str, str]], touched: Mapping[str, tuple[str, str]], base_total: int
) -> JobPlan:
    """Plan a job from only its datums that may differ from the base job.

    ``changed``: ``(datum ID, hash)`` of the current datums that may differ; ``touched``: the
    base job's ``ID -> (hash, state)`` for those IDs and for the IDs of datums that are gone;
    ``base_total``: how many datums the base job had. Precondition (what a commit diff
    guarantees, :mod:`~loxo.pps.delta`): every other base datum is current with an equal hash
    and a skippable state; those are ``carried``. Equals :func:`plan_job` over all datums,
    except that the carried datums are counted, not listed in ``skip``.
    """
    plan = plan_job(changed, touched)
    carried = base_total - len(touched)
    if carried < 0:
        raise ValueError(f"the base job has {base_total} datums, fewer than {len(touched)} touched")
    return replace(plan, carried=carried)


def _repeated(ids: list[str]) -> list[str]:
    return sorted(d for d, n in Counter(ids).items() if n > 1)
