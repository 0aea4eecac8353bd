"""Tests for loxo.pps.draw: the DAG layout and the one-line input description."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from loxo.pps.draw import Stage, depths, describe_input, draw


def test_two_stage_dag() -> None:
    stages = [Stage("count", ("upper",)), Stage("upper", ("raw",))]
    assert draw(stages) == "\n".join(
        [
            "raw",
            "  raw -> [upper] -> upper",
            "    upper -> [count] -> count",
        ]
    )


def test_layers_sources_branches_and_shared_inputs() -> None:
    stages = [
        Stage("train", ("clean", "labels")),
        Stage("clean", ("raw@dev",), output="clean@out"),
        Stage("stats", ("raw", "raw")),
        Stage("report", ("train", "stats")),
        Stage("spout"),
    ]
    assert draw(stages).splitlines() == [
        "labels, raw",
        "  raw@dev -> [clean] -> clean@out",
        "  (no input) -> [spout] -> spout",
        "  raw -> [stats] -> stats",
        "    clean, labels -> [train] -> train",
        "      train, stats -> [report] -> report",
    ]
    assert depths(stages) == {
        "raw": 0, "labels": 0, "spout": 1, "clean": 1, "stats": 1, "train": 2, "report": 3,
    }  # fmt: skip
    assert draw([]) == ""


def test_a_cycle_is_cut_not_followed() -> None:
    text = draw([Stage("a", ("b",)), Stage("b", ("a",))])
    assert "[a]" in text and "[b]" in text


names = st.sampled_from([f"n{i}" for i in range(8)])


@st.composite
def dags(draw_: st.DrawFn) -> list[Stage]:
    """Acyclic stages: a pipeline reads only repos named before it (or source repos)."""
    count = draw_(st.integers(0, 6))
    stages: list[Stage] = []
    for i in range(count):
        earlier = [s.pipeline for s in stages] + ["src_a", "src_b"]
        inputs = draw_(st.lists(st.sampled_from(earlier), min_size=0, max_size=3))
        stages.append(Stage(f"p{i}", tuple(inputs)))
    return draw_(st.permutations(stages))


@given(dags())
def test_every_pipeline_once_and_deeper_than_its_inputs(stages: list[Stage]) -> None:
    text = draw(stages)
    level = depths(stages)
    lines = text.splitlines()
    for stage in stages:
        mine = [line for line in lines if f"[{stage.pipeline}]" in line]
        assert len(mine) == 1
        indent = len(mine[0]) - len(mine[0].lstrip(" "))
        assert indent == 2 * level[stage.pipeline]
        assert all(level[i] < level[stage.pipeline] for i in stage.inputs)
    # layer order: depth never decreases down the page
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if "[" in line]
    assert indents == sorted(indents)


def test_describe_input() -> None:
    pfs = {"pfs": {"repo": "a", "glob": "/*", "branch": "master"}}
    dev = {"pfs": {"repo": "b", "glob": "/(*).csv", "branch": "dev", "join_on": "$1"}}
    assert describe_input(pfs) == "a:/*"
    assert describe_input({"cross": [pfs, {"union": [pfs, dev]}]}) == (
        "cross(a:/*, union(a:/*, b@dev:/(*).csv on $1))"
    )
    assert describe_input({"cron": {"name": "tick", "spec": "@every 1m"}}) == (
        "cron(tick @every 1m)"
    )
    assert describe_input(None) == "-"
