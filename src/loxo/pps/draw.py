"""The pipeline DAG as text: pure functions over plain values, for front doors to print.

:func:`draw` lays the DAG out in layers by depth. A repo no pipeline writes has depth 0;
a pipeline (and its output repo) is one deeper than its deepest input. The first line
lists the depth-0 repos; then each pipeline has one line, ``inputs -> [pipeline] ->
output`` (inputs in spec order), indented two spaces per depth, layer by layer, sorted by
name within a layer::

    labels, raw
      raw -> [clean] -> clean
        clean, labels -> [train] -> train

:func:`describe_input` renders a spec's input tree on one line, as ``list pipeline`` shows
it: ``raw:/*``, ``raw@dev:/*``, ``cross(a:/*, b:/*)``, ``union(...)``,
``join(a:/(*).txt on $1, b:/(*).csv on $1)``, ``group(...)`` and ``cron(tick @every 1m)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Stage", "depths", "describe_input", "draw"]

ARROW = " -> "


@dataclass(frozen=True)
class Stage:
    """A pipeline as a node: the repos it reads (``repo`` or ``repo@branch``) and the repo
    it writes (default: the pipeline's name)."""

    pipeline: str
    inputs: tuple[str, ...] = ()
    output: str = ""

    @property
    def output_repo(self) -> str:
        return repo_of(self.output or self.pipeline)


def repo_of(label: str) -> str:
    """``raw@dev`` -> ``raw``: the node a label names."""
    return label.partition("@")[0]


def depths(stages: Iterable[Stage]) -> dict[str, int]:
    """Depth of every repo: 0 if no pipeline writes it, else one more than the deepest input
    of the pipeline that does (a pipeline's depth is its output repo's). A cycle, which the
    store never holds, is cut rather than followed forever."""
    stages = list(stages)
    writer = {s.output_repo: s for s in stages}
    found: dict[str, int] = {}

    def depth(repo: str, path: frozenset[str]) -> int:
        if repo in found:
            return found[repo]
        stage = writer.get(repo)
        if stage is None:
            found[repo] = 0
            return 0
        if repo in path:
            return 1
        inner = path | {repo}
        found[repo] = 1 + max((depth(repo_of(i), inner) for i in stage.inputs), default=0)
        return found[repo]

    for stage in stages:
        depth(stage.output_repo, frozenset())
        for label in stage.inputs:
            depth(repo_of(label), frozenset())
    return found


def draw(stages: Sequence[Stage]) -> str:
    """The DAG of ``stages`` as text, as the module docstring shows; "" for no stages."""
    if not stages:
        return ""
    level = depths(stages)
    outputs = {s.output_repo for s in stages}
    sources = sorted({repo_of(i) for s in stages for i in s.inputs} - outputs)
    lines = [", ".join(sources)] if sources else []
    for stage in sorted(stages, key=lambda s: (level[s.output_repo], s.pipeline)):
        inputs = ", ".join(dict.fromkeys(stage.inputs)) or "(no input)"
        indent = "  " * level[stage.output_repo]
        node = f"[{stage.pipeline}]"
        lines.append(indent + ARROW.join((inputs, node, stage.output or stage.pipeline)))
    return "\n".join(lines)


def describe_input(spec_input: Mapping[str, Any] | None) -> str:
    """One line for an input tree in its spec (``to_dict``) form; ``-`` for none."""
    if not spec_input:
        return "-"
    if "pfs" in spec_input:
        pfs = spec_input["pfs"]
        branch = pfs.get("branch") or "master"
        repo = pfs.get("repo", "?") + ("" if branch == "master" else f"@{branch}")
        key = pfs.get("join_on") or pfs.get("group_by")
        return f"{repo}:{pfs.get('glob', '/')}" + (f" on {key}" if key else "")
    if "cron" in spec_input:
        cron = spec_input["cron"]
        return f"cron({cron.get('name', '?')} {cron.get('spec', '?')})"
    for kind, children in spec_input.items():
        parts = [describe_input(child) for child in children or ()]
        return f"{kind}(" + ", ".join(parts) + ")"
    return "-"
