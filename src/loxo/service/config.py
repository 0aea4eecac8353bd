"""A home's ``config.yaml``: the settings ``loxo config set`` writes and every command reads.

Keys: ``store`` (the object store URL, recorded when the home is first opened),
``executor`` (``local``, ``inline``, ``ray``), ``ray_address`` (``ray://host:10001`` or
``host:6379``), ``address`` (a ``loxo serve`` URL: commands then run on that server) and
``token`` (sent to that server). Environment variables (``LOXO_EXECUTOR``,
``LOXO_RAY_ADDRESS``, ``LOXO_ADDRESS``, ``LOXO_TOKEN``) and command-line options override
the file. Writes are atomic (a temporary file renamed over the old one).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
    except (OSError, yaml.YAMLError) as err:
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
    """``given`` (a command-line option), else the environment, else the home's config."""
    if given:
        return given
    env = os.environ.get(ENV[key])
    if env:
        return env
    value = read_config(home).get(key)
    return str(value) if value else None
