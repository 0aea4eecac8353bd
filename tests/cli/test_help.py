"""Every command and option documents itself; the help and version commands run."""

from __future__ import annotations

from collections.abc import Iterator

import click

from loxo.cli.main import cli

from .conftest import Loxo


def _walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _walk(sub, f"{path} {name}")


def test_every_command_and_option_has_help() -> None:
    seen = []
    for path, cmd in _walk(cli, "loxo"):
        seen.append(path)
        assert (cmd.help or "").strip(), f"{path} has no help text"
        for param in cmd.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"{path} {param.opts} has no help text"
    expected = {
        "loxo create repo", "loxo update repo", "loxo inspect repo", "loxo list repo",
        "loxo delete repo", "loxo create branch", "loxo inspect branch", "loxo list branch",
        "loxo delete branch", "loxo start commit", "loxo finish commit", "loxo inspect commit",
        "loxo list commit", "loxo wait commit", "loxo squash commit", "loxo delete commit",
        "loxo put file", "loxo get file", "loxo list file", "loxo glob file",
        "loxo inspect file", "loxo diff file", "loxo copy file", "loxo delete file",
        "loxo gc", "loxo fsck", "loxo version",
        "loxo create pipeline", "loxo update pipeline", "loxo edit pipeline",
        "loxo inspect pipeline", "loxo list pipeline", "loxo delete pipeline",
        "loxo start pipeline", "loxo stop pipeline", "loxo rerun pipeline",
        "loxo validate pipeline", "loxo draw pipeline", "loxo list job", "loxo inspect job",
        "loxo wait job", "loxo stop job", "loxo list datum", "loxo inspect datum",
        "loxo restart datum", "loxo logs", "loxo run cron",
    }  # fmt: skip
    assert expected <= set(seen)


def test_help_and_version_do_not_open_the_store(loxo: Loxo) -> None:
    r = loxo("--help")
    assert "Usage: loxo" in r.out and "create" in r.out
    assert "-o, --output [table|json|yaml]" in loxo("list", "repo", "--help").out
    assert loxo("version").out.startswith("loxo ")
    assert not loxo.home.exists()


def test_usage_errors_keep_clicks_exit_code(loxo: Loxo) -> None:
    r = loxo.run("frobnicate", "repo")
    assert r.code == 2 and "No such command" in r.stderr
    r = loxo.run("list", "repo", "-o", "xml")
    assert r.code == 2 and "xml" in r.stderr
