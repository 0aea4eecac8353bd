"""A home's ``config.yaml``: the settings ``loxo config set`` writes and every command reads.

Keys: ``store`` (the object store URL, recorded when the home is first opened),
``executor`` (``local``, ``inline``, ``ray``), ``ray_address`` (``ray://host:10001`` or
``host:6379``), ``address`` (a ``loxo serve`` URL: commands then run on that server) and
``token`` (sent to that server). Environment variables (``LOXO_EXECUTOR``,
``LOXO_RAY_ADDRESS``, ``LOXO_ADDRESS``, ``LOXO_TOKEN``) and command-line options override
the file. Writes are atomic (a temporary file renamed over the old one).

Values are checked where they are set (``loxo config set``) and where they are read, so a
bad value already in the file, the environment or an option is an error naming the value,
where it came from and how to fix it -- not a failure deep inside the first request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from loxo.errors import InvalidArgumentError, StorageError

KEYS: dict[str, str] = {
    "address": "the loxo server to use (http://host:port); unset: the embedded store",
    "token": "the token sent to that server (its --auth-token-file content)",
    "executor": "where datums run: local, inline or ray",
    "ray_address": "the Ray cluster of the ray executor (ray://host:10001 or host:6379)",
    "store": "the object store of this home (set when the home is created)",
}
ENV: dict[str, str] = {
    "address": "LOXO_ADDRESS",
    "token": "LOXO_TOKEN",
    "executor": "LOXO_EXECUTOR",
    "ray_address": "LOXO_RAY_ADDRESS",
    "store": "LOXO_STORE",
}


def config_path(home: Path) -> Path:
    return home / "config.yaml"


def read_config(home: Path) -> dict[str, Any]:
    path = config_path(home)
    try:
        config = yaml.safe_load(path.read_text()) if path.exists() else {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as err:
        raise InvalidArgumentError(f"cannot read the loxo config {path}: {err}") from err
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise InvalidArgumentError(f"the loxo config {path} must be a mapping (key: value)")
    return config


def write_config(home: Path, updates: dict[str, Any]) -> dict[str, Any]:
    """Set (or, with None, remove) keys; the new config."""
    config = read_config(home)
    for key, value in updates.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    path = config_path(home)
    tmp = path.with_name(f".config.yaml.{os.getpid()}")
    try:
        home.mkdir(parents=True, exist_ok=True)
        tmp.write_text(yaml.safe_dump(config, sort_keys=True))
        tmp.replace(path)
    except OSError as err:
        raise StorageError(f"cannot write the loxo config {path}: {err.strerror}") from err
    return config


def check_key(key: str) -> str:
    if key not in KEYS:
        raise InvalidArgumentError(
            f"unknown config key {key!r}: choose one of {', '.join(sorted(KEYS))}"
        )
    return key


def setting(home: Path, key: str, given: str | None = None) -> str | None:
    """``given`` (a command-line option), else the environment, else the home's config;
    checked (:func:`check_value`), an error naming where a bad value came from."""
    if given:
        return check_value(key, given)
    env = os.environ.get(ENV[key])
    if env:
        return check_value(key, env, f"${ENV[key]}")
    value = read_config(home).get(key)
    return check_value(key, str(value), str(config_path(home))) if value else None


def check_value(key: str, value: str, where: str = "") -> str:
    """``value`` if it is a valid setting of ``key``; ``where`` names the file or variable
    it came from, for the message."""
    if key == "address":
        return check_address(value, where)
    if "\0" in value or "\n" in value:
        source = f" in {where}" if where else ""
        raise InvalidArgumentError(
            f"invalid {key} {value!r}{source}: it holds a NUL or a line break; "
            f"{_fix(key, where, 'a one-line value')}"
        )
    return value


def check_address(address: str, where: str = "") -> str:
    """``address`` if it is a loxo server URL: ``http(s)://HOST[:PORT][/PREFIX]``."""
    why = _address_problem(address)
    if why is None:
        return address
    source = f" in {where}" if where else ""
    raise InvalidArgumentError(
        f"invalid server address {address!r}{source}: {why}; "
        f"{_fix('address', where, 'http://HOST:PORT, e.g. http://127.0.0.1:8080')}"
    )


def _fix(key: str, where: str, what: str) -> str:
    if where.startswith("$"):
        return f"set {where} to {what}, or unset it"
    if where:
        return f"fix it with `loxo config set {key} ...` ({what}) or `loxo config unset {key}`"
    return f"give {what}"


def _address_problem(address: str) -> str | None:
    if any(c.isspace() or not c.isprintable() for c in address):
        return "it holds a space or a control character"
    try:
        parts = urlsplit(address)
        parts.port  # noqa: B018 -- parses the port: a ValueError when out of range or not a number
    except ValueError as err:
        return str(err)[:1].lower() + str(err)[1:]
    if parts.scheme not in ("http", "https"):
        return "it must start with http:// or https://"
    if not parts.hostname:
        return "it names no host"
    if parts.username is not None:
        return "credentials do not go in the URL: set the token (`loxo config set token`)"
    if parts.query or parts.fragment:
        return "only a path may follow HOST:PORT, no ?query or #fragment"
    return None
