"""The worker runtime's parts: path rewriting, log capture, output rules, the registry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import loxo.execution
from loxo.errors import InvalidArgumentError
from loxo.execution import open_executor, sandbox
from loxo.execution.inline import InlineExecutor
from loxo.execution.local import LocalExecutor
from loxo.execution.logs import TRUNCATED, LogCollector
from loxo.execution.output import OutputError, collect
from loxo.execution.runtime import run_datum
from loxo.execution.sandbox import Layout
from loxo.execution.task import DatumState, Transform
from loxo.storage.local import LocalStore

from .builders import Datums, lines, sh

# --- sandbox layout ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rewritten"),
    [
        ("/pfs/in/a", "/S/pfs/in/a"),
        ("/pfs", "/S/pfs"),
        ("ls /pfs; cat /pfs/in/a > /pfs/out/a", "ls /S/pfs; cat /S/pfs/in/a > /S/pfs/out/a"),
        ("--input=/pfs/in", "--input=/S/pfs/in"),
        ("'/pfs/out/x y'", "'/S/pfs/out/x y'"),
        ("/pfsx/a", "/pfsx/a"),
        ("/data/pfs/in", "/data/pfs/in"),
        ("pfs/in", "pfs/in"),
        ("/pfs.bak", "/pfs.bak"),
        ("no paths", "no paths"),
    ],
)
def test_fallback_rewrites_pfs_path_tokens(text: str, rewritten: str) -> None:
    assert Layout("/S/pfs", sandboxed=False).rewrite(text) == rewritten
    assert Layout("/S/pfs", sandboxed=True).rewrite(text) == text


def test_sandbox_maps_symlink_targets_to_the_host() -> None:
    layout = Layout("/S/pfs", sandboxed=True)
    assert layout.to_host("/pfs/out/x") == "/S/pfs/out/x"
    assert layout.to_host("/etc/passwd") == "/etc/passwd"
    assert layout.view_pfs == "/pfs"


def test_sandbox_working_directory_is_the_hosts_unless_hidden() -> None:
    assert sandbox.visible_cwd("/proc/1") == "/"
    assert sandbox.visible_cwd("/tmp/x") == "/tmp/x"  # the host's /tmp is visible
    assert sandbox.visible_cwd("/work/main") == "/work/main"


def test_required_sandbox_that_does_not_work_fails_the_datum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "probe", lambda: (False, "bwrap is not on PATH"))
    monkeypatch.setenv("LOXO_SANDBOX", "1")
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    r = run_datum(d.set(sh("true"), [d.simple("d1")]), d.simple("d1"))
    assert r.state == DatumState.FAILED
    assert r.error.startswith("LOXO_SANDBOX=1 requires a working bubblewrap sandbox")
    assert "bwrap is not on PATH" in r.error


# --- logs --------------------------------------------------------------------------------


def test_log_collector_splits_lines_across_feeds() -> None:
    logs = LogCollector()
    logs.feed("stdout", b"a\nb")
    logs.feed("stderr", b"x\r\n")
    logs.feed("stdout", b"c\nd")
    logs.close_stream("stdout")
    assert [(x.stream, x.line) for x in logs.lines] == [
        ("stdout", "a"),
        ("stderr", "x"),
        ("stdout", "bc"),
        ("stdout", "d"),
    ]


def test_log_collector_caps_bytes() -> None:
    logs = LogCollector(limit=10)
    for _ in range(5):
        logs.line("stdout", "abcd")
    assert [x.line for x in logs.lines] == ["abcd", "abcd", TRUNCATED]


def test_chatty_datum_logs_are_truncated(tmp_path: Path) -> None:
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = sh("yes 0123456789012345678901234567890123456789 | head -c 6000000")
    r = run_datum(d.set(t, [d.simple("d1")]), d.simple("d1"))
    assert r.state == DatumState.SUCCESS
    assert lines(r)[-1] == TRUNCATED
    assert sum(len(x) for x in lines(r)) <= 4 * 1024 * 1024 + len(TRUNCATED)


# --- output rules ------------------------------------------------------------------------


@pytest.fixture
def out(tmp_path: Path) -> Path:
    (tmp_path / "pfs" / "out").mkdir(parents=True)
    (tmp_path / "pfs" / "in").mkdir()
    (tmp_path / "pfs" / "in" / "a").write_text("input")
    return tmp_path / "pfs" / "out"


def test_output_files_are_collected_sorted(out: Path) -> None:
    (out / "b").write_text("b")
    (out / "a" / "c").mkdir(parents=True)
    (out / "a" / "c" / "d").write_text("d")
    (out / "empty").mkdir()
    (out / "link").symlink_to("b")
    found = collect(Layout(str(out.parent), False))
    assert [f.path for f in found] == ["/a/c/d", "/b", "/link"]
    assert {f.path: (f.source, f.size) for f in found}["/link"] == (str(out / "b"), 1)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda o: (o / "x").symlink_to("/etc/hostname"), "symlink /pfs/out/x points outside"),
        (
            lambda o: (o / "x").symlink_to("../in/a"),
            "symlink /pfs/out/x points outside",
        ),  # no inputs
        (lambda o: (o / "x").symlink_to("missing"), "symlink /pfs/out/x is dangling"),
        (lambda o: (o / "x").symlink_to("."), "must point to a regular file"),
        (lambda o: os.mkfifo(o / "x"), "/pfs/out/x is not a regular file"),
        (lambda o: (o / "a*b").write_text(""), "invalid name"),
    ],
)
def test_output_rules(out: Path, make: object, message: str) -> None:
    make(out)  # type: ignore[operator]
    with pytest.raises(OutputError, match=message.replace("*", r"\*")):
        collect(Layout(str(out.parent), False))


def test_sandboxed_absolute_symlinks_resolve_inside_the_datum(out: Path) -> None:
    (out / "real").write_text("x")
    (out / "abs").symlink_to("/pfs/out/real")
    found = {f.path: f.source for f in collect(Layout(str(out.parent), True))}
    assert found["/abs"] == str(out / "real")


# --- users -------------------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_user_who_cannot_reach_the_scratch_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("LOXO_SCRATCH", str(private))
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = sh("true", user="nobody")
    r = run_datum(d.set(t, [d.simple("d1")], datum_tries=1), d.simple("d1"))
    assert r.state == DatumState.FAILED
    assert "cannot reach the datum's scratch directory" in r.error


def test_unknown_user(tmp_path: Path) -> None:
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = sh("true", user="no-such-user-loxo")
    r = run_datum(d.set(t, [d.simple("d1")], datum_tries=1), d.simple("d1"))
    assert r.state == DatumState.FAILED
    assert "transform.user 'no-such-user-loxo' does not exist" in r.error


def test_transform_without_cmd_or_python(tmp_path: Path) -> None:
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    r = run_datum(d.set(Transform(), [d.simple("d1")], datum_tries=1), d.simple("d1"))
    assert (r.state, r.error) == (DatumState.FAILED, "transform has neither cmd nor python")


def test_scratch_space_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOXO_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("LOXO_SANDBOX", "0")
    d = Datums(LocalStore(tmp_path / "store"), tmp_path)
    t = sh("mkdir -p /pfs/out/ro/x && echo 1 > /pfs/out/ro/x/f && chmod -R a-w /pfs/out/ro")
    r = run_datum(d.set(t, [d.simple("d1")]), d.simple("d1"))
    assert r.state == DatumState.SUCCESS, r.error
    assert list((tmp_path / "scratch").iterdir()) == []


# --- registry and API --------------------------------------------------------------------


def test_open_executor() -> None:
    with open_executor("inline") as ex:
        assert isinstance(ex, InlineExecutor)
    with open_executor("local", workers=2) as ex:
        assert isinstance(ex, LocalExecutor) and ex.max_workers == 2


def test_open_executor_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown executor 'nope'"):
        open_executor("nope")
    with pytest.raises(InvalidArgumentError, match="invalid options for executor 'inline'"):
        open_executor("inline", workers=3)


def test_ray_without_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "loxo.execution.ray_executor", None)
    with pytest.raises(InvalidArgumentError, match=r"pip install 'loxo\[ray\]'"):
        open_executor("ray")


def test_public_api() -> None:
    assert sorted(loxo.execution.__all__) == [
        "DatumInput",
        "DatumResult",
        "DatumState",
        "DatumTask",
        "Executor",
        "ExecutorClosed",
        "InputFile",
        "LogLine",
        "TaskSet",
        "Transform",
        "open_executor",
        "register_executor",
    ]
