"""Records back from JSON: the inverse of ``Record.to_dict()``, and loxo errors back from
the HTTP API's error bodies, so that a remote client returns and raises exactly what the
embedded one does."""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from loxo import errors

R = TypeVar("R")


def decode(cls: type[R], data: Any) -> R:
    """``cls`` (a record dataclass) built from its ``to_dict()`` form."""
    return typing.cast(R, _value(cls, data))


def decode_list(cls: type[R], data: list[Any]) -> list[R]:
    return [decode(cls, d) for d in data]


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _value(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    supertype = getattr(tp, "__supertype__", None)  # a NewType such as CommitID
    if supertype is not None:
        return _value(supertype, data)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        return _value(options[0], data) if len(options) == 1 else data
    if origin in (list, tuple):
        (item,) = get_args(tp)[:1] or (Any,)
        return [_value(item, d) for d in data]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(
            **{
                f.name: _value(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.name in data
            }
        )
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    if tp is float and isinstance(data, int):
        return float(data)
    return data


_CATEGORIES: dict[str, type[errors.LoxoError]] = {
    cls.__name__: cls
    for cls in (
        errors.NotFoundError,
        errors.AlreadyExistsError,
        errors.InvalidArgumentError,
        errors.ConflictError,
        errors.PreconditionError,
        errors.IntegrityError,
        errors.StorageError,
        errors.TransientError,
        errors.LoxoError,
    )
}


class Unauthenticated(errors.PreconditionError):
    """The server wants a token this client did not send (or sent wrong)."""


def error_from(body: dict[str, Any]) -> errors.LoxoError:
    """The exception an error body describes: the same class when loxo has it, else the
    class of its category; its message is the server's."""
    err = body.get("error", {})
    name, category = str(err.get("type", "")), str(err.get("category", ""))
    message = str(err.get("message", "the server failed without saying why"))
    cls = _known_errors().get(name) or _CATEGORIES.get(category) or errors.LoxoError
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    return exc


def _known_errors() -> dict[str, type[errors.LoxoError]]:
    """Every LoxoError class loaded (the service loads them all), by name."""
    found: dict[str, type[errors.LoxoError]] = {}
    todo = [errors.LoxoError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.__name__, cls)
        todo.extend(cls.__subclasses__())
    return found
