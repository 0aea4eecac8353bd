"""Tests for loxo.pps.plan: examples, and a property test against a set-algebra model."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loxo.execution.task import DatumState
from loxo.pps.plan import JobPlan, plan_job

STATES = ["SUCCESS", "SKIPPED", "FAILED", "RECOVERED"]

ids = st.sampled_from([f"d{n}" for n in range(12)])
hashes = st.sampled_from(["h1", "h2"])
currents = st.lists(st.tuples(ids, hashes), unique_by=lambda p: p[0])
bases = st.dictionaries(ids, st.tuples(hashes, st.sampled_from(STATES)))


@given(currents, bases, st.booleans())
def test_plan_matches_set_algebra(
    current: list[tuple[str, str]], base: dict[str, tuple[str, str]], every_job: bool
) -> None:
    plan = plan_job(iter(current), base, every_job=every_job)
    now = {d for d, _ in current}
    hash_of = dict(current)
    kept = {
        d
        for d in now & base.keys()
        if base[d][0] == hash_of[d] and base[d][1] in ("SUCCESS", "SKIPPED") and not every_job
    }
    assert set(plan.skip) == kept
    assert set(plan.run) == now - kept
    assert set(plan.replaced) == (now - kept) & base.keys()
    assert set(plan.removed) == base.keys() - now
    # orders: current order for run / skip / replaced, base order for removed; no repeats
    order = [d for d, _ in current]
    assert plan.run == [d for d in order if d in set(plan.run)]
    assert plan.skip == [d for d in order if d in kept]
    assert plan.replaced == [d for d in order if d in set(plan.replaced)]
    assert plan.removed == [d for d in base if d not in now]


def test_examples() -> None:
    base = {
        "same": ("h", "SUCCESS"),
        "skipped": ("h", "SKIPPED"),
        "changed": ("h", "SUCCESS"),
        "failed": ("h", "FAILED"),
        "recovered": ("h", "RECOVERED"),
        "gone": ("h", "SUCCESS"),
    }
    current = [("same", "h"), ("skipped", "h"), ("changed", "h2"), ("failed", "h")]
    current += [("recovered", "h"), ("new", "h")]
    assert plan_job(current, base) == JobPlan(
        run=["changed", "failed", "recovered", "new"],
        skip=["same", "skipped"],
        replaced=["changed", "failed", "recovered"],
        removed=["gone"],
    )
    every = plan_job(current, base, every_job=True)
    assert every.skip == [] and every.replaced == [
        "same",
        "skipped",
        "changed",
        "failed",
        "recovered",
    ]


def test_states_may_be_enum_members() -> None:
    plan = plan_job([("d", "h")], {"d": ("h", DatumState.SUCCESS)})
    assert plan.skip == ["d"]


def test_empty_job_removes_every_base_datum() -> None:
    assert plan_job([], {"a": ("h", "SUCCESS")}) == JobPlan([], [], [], ["a"])
    assert plan_job([("a", "h")], {}) == JobPlan(["a"], [], [], [])


def test_repeated_datum_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="d1"):
        plan_job([("d1", "h"), ("d2", "h"), ("d1", "h")], {})
