"""``serve``, ``console`` and ``config``: running a server, and choosing where commands run."""

from __future__ import annotations

import os
import webbrowser
from pathlib import Path

import click

from loxo.service import default_home
from loxo.service.config import KEYS, check_key, check_value, read_config, write_config

from .context import Session, pass_session

PORT = click.IntRange(0, 65535)


def _home(session: Session) -> Path:
    return Path(session.home or default_home()).expanduser()


@click.command("serve")
@click.option(
    "--address",
    "host",
    default="127.0.0.1",
    show_default=True,
    help="The interface to listen on; 0.0.0.0 (or ::) opens the server to the network.",
)
@click.option(
    "--port", default=8080, type=PORT, show_default=True, help="HTTP port (0: any free port)."
)
@click.option(
    "--grpc-port",
    default=1650,
    type=click.IntRange(-1, 65535),
    show_default=True,
    help="gRPC port of the Pachyderm SDK API (0: any free port, -1: none).",
)
@click.option(
    "--auth-token-file",
    type=click.Path(dir_okay=False),
    help="Refuse every request that does not carry the token in this file.",
)
@pass_session
def serve(
    session: Session, host: str, port: int, grpc_port: int, auth_token_file: str | None
) -> None:
    """Run the loxo server on this home until interrupted.

    Serves the HTTP API (and the web console at /) and, with the `loxo[pachyderm]` extra,
    the gRPC API of the official Pachyderm Python SDK; its scheduler runs pipeline jobs as
    soon as their inputs change, whoever changed them. Prints one line with the addresses
    once ready."""
    from loxo.server.serve import ServeOptions
    from loxo.server.serve import serve as run_server

    run_server(
        ServeOptions(
            home=session.home,
            store_url=session.store,
            host=host,
            port=port,
            grpc_port=None if grpc_port < 0 else grpc_port,
            token_file=auth_token_file,
        )
    )


@click.command("console")
@click.option(
    "--port", default=4000, type=PORT, show_default=True, help="HTTP port (0: any free port)."
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@pass_session
def console(session: Session, port: int, no_browser: bool) -> None:
    """Open the web console on this home (embedded store) on 127.0.0.1.

    Runs a local server (HTTP only, no gRPC) that also runs the home's pipeline jobs, until
    interrupted."""
    from loxo.server.serve import ServeOptions
    from loxo.server.serve import serve as run_server

    def announce(line: str) -> None:
        click.echo(line)
        url = line.split()[2]
        if not no_browser and not os.environ.get("CI"):
            webbrowser.open(url)

    run_server(
        ServeOptions(
            home=session.home,
            store_url=session.store,
            port=port,
            grpc_port=None,
            name="loxo console",
        ),
        announce=announce,
    )


@click.group("config")
def config() -> None:
    """Read and write the home's settings (config.yaml).

    \b
    Keys:
    """


config.help = (config.help or "") + "\n".join(f"  {k:<12} {v}" for k, v in KEYS.items())


@config.command("set")
@click.argument("key")
@click.argument("value")
@pass_session
def config_set(session: Session, key: str, value: str) -> None:
    """Set KEY to VALUE, e.g. `loxo config set address http://loxo.example:8080`."""
    write_config(_home(session), {check_key(key): check_value(key, value)})


@config.command("get")
@click.argument("key")
@pass_session
def config_get(session: Session, key: str) -> None:
    """Print the value of KEY (nothing when unset)."""
    value = read_config(_home(session)).get(check_key(key))
    if value is not None:
        click.echo(value)


@config.command("unset")
@click.argument("key")
@pass_session
def config_unset(session: Session, key: str) -> None:
    """Remove KEY (`loxo config unset address` goes back to the embedded store)."""
    write_config(_home(session), {check_key(key): None})


@config.command("list")
@pass_session
def config_list(session: Session) -> None:
    """Print every setting of the home."""
    for key, value in sorted(read_config(_home(session)).items()):
        shown = "********" if key == "token" else value
        click.echo(f"{key}: {shown}")


COMMANDS: tuple[click.Command, ...] = (serve, console, config)
