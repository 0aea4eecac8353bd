"""The one place exceptions become exit codes: ``loxo.cli.main.run``, driven in-process with
the command replaced by one that raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loxo.cli import main as cli_main
from loxo.errors import InvalidPath, LoxoError, RepoNotFound


def _raising(exc: BaseException) -> Callable[..., Any]:
    def fake_main(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fake_main


@pytest.mark.parametrize(
    ("exc", "code", "message"),
    [
        (RepoNotFound("pics"), 2, "error: repo 'pics' not found"),
        (InvalidPath("/a/../b", "'..' parts are not allowed"), 4, "error: invalid path '/a/../b'"),
        (LoxoError("two\nlines"), 1, "error: two lines"),
        (
            ValueError("boom"),
            70,
            "internal error: ValueError: boom (set LOXO_DEBUG=1 for the traceback)",
        ),
    ],
)
def test_errors_become_one_line_and_an_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    message: str,
) -> None:
    monkeypatch.delenv("LOXO_DEBUG", raising=False)
    monkeypatch.setattr(cli_main.cli, "main", _raising(exc))
    assert cli_main.run(["list", "repo"]) == code
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert "Traceback" not in err


def test_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOXO_DEBUG", "1")
    monkeypatch.setattr(cli_main.cli, "main", _raising(ValueError("boom")))
    assert cli_main.run([]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("(set LOXO_DEBUG=1 for the traceback)")


def test_interrupt_and_broken_pipe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_main.cli, "main", _raising(KeyboardInterrupt()))
    assert cli_main.run([]) == 130
    quiet: list[bool] = []
    monkeypatch.setattr(cli_main, "_quiet_stdout", lambda: quiet.append(True))
    monkeypatch.setattr(cli_main.cli, "main", _raising(BrokenPipeError()))
    assert cli_main.run([]) == 1
    assert quiet == [True]
    assert "error" not in capsys.readouterr().err


def test_main_exits_with_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main.cli, "main", _raising(RepoNotFound("x")))
    with pytest.raises(SystemExit) as info:
        cli_main.main([])
    assert info.value.code == 2
