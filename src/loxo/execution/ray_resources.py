"""Datum-set resources as Ray task options, and whether any Ray node can ever run them.

A pipeline's ``resource_requests`` / ``resource_limits`` reach the executor merged in
:attr:`TaskSet.resources <loxo.execution.task.TaskSet.resources>` (limits win) and map onto
Ray's resources:

========  ============================  ==================
loxo      Ray task option               Ray node resource
========  ============================  ==================
cpu       ``num_cpus`` (cores)          ``CPU``
memory    ``memory`` (bytes)            ``memory``
gpu       ``num_gpus`` (a count)        ``GPU``
disk      (none: not scheduled on)      -
========  ============================  ==================

Without a ``cpu`` value a set takes one CPU (Ray's default for tasks), so a node runs at
most as many sets at once as it has CPUs; ``cpu: 0`` runs sets without reserving any.

Ray leaves a task that no node can satisfy pending forever (waiting for an autoscaler to
add a node that can). :func:`unsatisfiable` compares a set's demand with each live node's
*total* resources, so that the executor fails such datums at once with a reason instead;
with an autoscaling cluster the executor skips the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

GiB = 1 << 30
_OPTIONS = {"cpu": "num_cpus", "memory": "memory", "gpu": "num_gpus"}
_NODE_KEYS = {"cpu": "CPU", "memory": "memory", "gpu": "GPU"}


def task_options(resources: Iterable[tuple[str, float]]) -> dict[str, Any]:
    """Ray ``.options()`` for a set asking for ``resources`` (cpu, memory, gpu, disk)."""
    options: dict[str, Any] = {}
    for name, amount in resources:
        option = _OPTIONS.get(name)
        if option == "memory":
            options[option] = int(amount)
        elif option is not None:
            options[option] = float(amount)
    return options


def demand(options: Mapping[str, Any]) -> dict[str, float]:
    """What a task with these options needs from one node, in loxo's names."""
    need = {
        "cpu": float(options.get("num_cpus", 1)),
        "memory": float(options.get("memory", 0)),
        "gpu": float(options.get("num_gpus", 0)),
    }
    return {name: amount for name, amount in need.items() if amount > 0}


def unsatisfiable(need: Mapping[str, float], nodes: Sequence[Mapping[str, Any]]) -> str | None:
    """Why no node among ``nodes`` (``ray.nodes()`` entries) can ever run a task needing
    ``need``; None if one can."""
    totals = [_totals(n) for n in nodes if n.get("Alive", True)]
    if any(all(t.get(r, 0.0) >= a for r, a in need.items()) for t in totals):
        return None
    asked = ", ".join(f"{r}={_show(r, a)}" for r, a in need.items())
    hint = "lower resource_requests/resource_limits or add a Ray node that has them"
    if not totals:
        return f"the Ray cluster has no live node to run datums asking for {asked}"
    short = [r for r, a in need.items() if all(t.get(r, 0.0) < a for t in totals)]
    if short:
        wanted = ", ".join(f"{r}={_show(r, need[r])}" for r in short)
        best = ", ".join(f"{r}={_show(r, max(t.get(r, 0.0) for t in totals))}" for r in short)
        return (
            f"no node of the Ray cluster can ever run these datums: they ask for {wanted}; "
            f"the largest of its {len(totals)} live node(s) has {best}; {hint}"
        )
    offers = "; ".join(", ".join(f"{r}={_show(r, t.get(r, 0.0))}" for r in need) for t in totals)
    return (
        f"no single node of the Ray cluster has {asked} together (its live nodes have: "
        f"{offers}); {hint}"
    )


def _totals(node: Mapping[str, Any]) -> dict[str, float]:
    resources = node.get("Resources", {})
    return {name: float(resources.get(key, 0.0)) for name, key in _NODE_KEYS.items()}


def _show(resource: str, amount: float) -> str:
    if resource == "memory":
        return f"{amount / GiB:.3g}GiB"
    return f"{amount:g}"
