"""What one ``loxo`` invocation shares between its commands: the store, opened lazily, the
job driving around commands (:mod:`.driving`), and the option decorators common to many
commands."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import click
from click.core import ParameterSource

from loxo.client import Client

from . import driving, outcome
from .output import FORMATS, Output

P = ParamSpec("P")
R = TypeVar("R")


class Session:
    """The home a command runs against; the client is opened on first use only, so that
    ``--help`` and ``version`` never touch the store.

    Unless ``wait`` is off (``--no-wait``), opening the client first runs the jobs left
    pending, and :meth:`settle` runs the jobs a command started."""

    def __init__(
        self,
        home: str | None,
        *,
        store: str | None = None,
        wait: bool = True,
        address: str | None = None,
        executor: str | None = None,
        ray_address: str | None = None,
    ) -> None:
        self.home = home
        self.store = store
        self.wait = wait
        self.address, self.executor = _typed("address", address), _typed("executor", executor)
        self.ray_address = _typed("ray_address", ray_address)
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        """The client, after running any pending jobs (unless ``wait`` is off)."""
        if self._client is None:
            self.open_client()
            self.settle()
        assert self._client is not None
        return self._client

    def open_client(self) -> Client:
        """The client, as is: pending jobs stay pending."""
        if self._client is None:
            self._client = Client(
                self.home,
                store_url=self.store,
                address=self.address,
                executor=self.executor,
                ray_address=self.ray_address,
            )
        return self._client

    def settle(self) -> None:
        """Run every pending job here until the DAG is quiet (unless ``wait`` is off)."""
        client = self.open_client()
        if self.wait and client.pending_jobs() > 0:
            driving.drive(client)

    def watch_jobs(self) -> set[tuple[str, str, str]]:
        """The jobs ended so far (:func:`.outcome.ended_jobs`), then the pending ones run
        (unless ``wait`` is off): what a command waiting for jobs compares with at its end."""
        before = outcome.ended_jobs(self.open_client())
        self.settle()
        return before

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            client.close()


def _typed(option: str, value: str | None) -> str | None:
    """An option's value if typed on the command line; None if click read it from its
    environment variable: the client then reads the variable itself, and names it in its
    errors."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.get_parameter_source(option) is ParameterSource.ENVIRONMENT:
        return None
    return value


def current_session() -> Session:
    session = click.get_current_context().find_object(Session)
    if session is None:
        raise RuntimeError("a loxo command ran outside the `loxo` group")
    return session


def pass_client(f: Callable[Concatenate[Client, P], R]) -> Callable[P, R]:
    """Call ``f`` with the invocation's client as its first argument (pending jobs run
    first, unless ``--no-wait``)."""

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return f(current_session().client, *args, **kwargs)

    return wrapper


def pass_client_as_is(f: Callable[Concatenate[Client, P], R]) -> Callable[P, R]:
    """Like :func:`pass_client`, without running pending jobs first: for commands that act
    on pending jobs (stop them, delete their pipeline)."""

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return f(current_session().open_client(), *args, **kwargs)

    return wrapper


def pass_session(f: Callable[Concatenate[Session, P], R]) -> Callable[P, R]:
    """Call ``f`` with the invocation's :class:`Session`, for commands that decide
    themselves whether pending jobs run first."""

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return f(current_session(), *args, **kwargs)

    return wrapper


def drives(f: Callable[P, R]) -> Callable[P, R]:
    """After ``f``, run the jobs it started (its writes finished input commits) until the
    DAG is quiet, unless ``--no-wait``; fail if one of the jobs run did not succeed
    (:mod:`.outcome`)."""

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = current_session()
        before = session.watch_jobs() if session.wait else None
        result = f(*args, **kwargs)
        session.settle()
        if before is not None:
            outcome.require_success_since(session.open_client(), before)
        return result

    return wrapper


def always_drives(f: Callable[P, R]) -> Callable[P, R]:
    """Run pending jobs before ``f`` even under ``--no-wait``: ``f`` waits for them; fail
    if one of the jobs run did not succeed (:mod:`.outcome`). Goes above :func:`pass_client`."""

    @functools.wraps(f)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = current_session()
        session.wait = True
        before = session.watch_jobs()
        result = f(*args, **kwargs)
        outcome.require_success_since(session.open_client(), before)
        return result

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
