"""What one ``loxo`` invocation shares between its commands: the store, opened lazily, and
the option decorators common to many commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import click

from loxo.client import Client

from .output import FORMATS, Output

P = ParamSpec("P")
R = TypeVar("R")


class Session:
    """The home a command runs against; the client is opened on first use only, so that
    ``--help`` and ``version`` never touch the store."""

    def __init__(self, home: str | None) -> None:
        self.home = home
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.home)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.close()


def pass_client(f: Callable[Concatenate[Client, P], R]) -> Callable[P, R]:
    """Call ``f`` with the invocation's client as its first argument."""

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = click.get_current_context().find_object(Session)
        if session is None:
            raise RuntimeError("a loxo command ran outside the `loxo` group")
        return f(session.client, *args, **kwargs)

    return wrapper


def output_options(f: Callable[..., R]) -> Callable[..., R]:
    """Add ``-o/--output`` and ``--full-timestamps``; ``f`` receives them as ``out: Output``."""

    @functools.wraps(f)
    def wrapper(*args: Any, output: str, full_timestamps: bool, **kwargs: Any) -> R:
        return f(*args, out=Output(output, full_timestamps), **kwargs)

    wrapper = click.option(
        "--full-timestamps",
        is_flag=True,
        help="Print times as ISO 8601 timestamps instead of '3 minutes ago'.",
    )(wrapper)
    return click.option(
        "-o",
        "--output",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format: an aligned table, or the records as JSON or YAML.",
    )(wrapper)


def message_option(help_text: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """``-m/--message/--description`` with its help text."""
    return click.option("-m", "--message", "--description", "description", help=help_text)
