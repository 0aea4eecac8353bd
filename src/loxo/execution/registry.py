"""Open an executor by name: ``inline``, ``local``, ``ray``.

Each name maps to a ``"module:Class"`` path imported only when first used (as fsspec's
registry does), so an executor's dependencies (``ray``) are needed only by those who pick
it; a missing extra gives an error saying which ``pip install`` provides it.
:func:`register_executor` adds names.
"""

from __future__ import annotations

import importlib
from typing import Any

from loxo.errors import InvalidArgumentError

from .executor import Executor

_EXECUTORS: dict[str, str] = {
    "inline": "loxo.execution.inline:InlineExecutor",
    "local": "loxo.execution.local:LocalExecutor",
    "ray": "loxo.execution.ray_executor:RayExecutor",
}
_EXTRAS: dict[str, str] = {"ray": "ray"}  # executor name -> the pip extra it needs


def register_executor(name: str, dotted: str) -> None:
    """Make ``open_executor(name)`` build the class at ``dotted`` (``"pkg.mod:Class"``)."""
    if not name.isidentifier():
        raise InvalidArgumentError(f"executor name {name!r} must be an identifier")
    if dotted.count(":") != 1:
        raise InvalidArgumentError(
            f"executor class {dotted!r} must look like 'package.module:Class'"
        )
    _EXECUTORS[name] = dotted


def known_executors() -> list[str]:
    return sorted(_EXECUTORS)


def executor_class(name: str) -> type[Executor]:
    """The class registered as ``name`` (imported now)."""
    dotted = _EXECUTORS.get(name)
    if dotted is None:
        raise InvalidArgumentError(
            f"unknown executor {name!r}: choose one of {', '.join(known_executors())}"
        )
    module, _, cls_name = dotted.partition(":")
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError) as e:
        if name in _EXTRAS:
            raise InvalidArgumentError(
                f"executor {name!r} needs `pip install 'loxo[{_EXTRAS[name]}]'` ({e})"
            ) from e
        raise InvalidArgumentError(f"cannot load executor {name!r} from {dotted!r}: {e}") from e
    assert isinstance(cls, type) and issubclass(cls, Executor)
    return cls


def open_executor(name: str, **options: Any) -> Executor:
    """A new executor ``name`` built with ``options`` (e.g. ``workers=4`` for ``local``)."""
    cls = executor_class(name)
    try:
        executor: Executor = cls(**options)
    except TypeError as e:
        raise InvalidArgumentError(f"invalid options for executor {name!r}: {e}") from e
    return executor
