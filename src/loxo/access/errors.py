"""loxo errors as the built-in exceptions fsspec users catch.

fsspec code (pandas, pyarrow, duckdb, fsspec's own ``exists``, ``walk``, ``expand_path``)
expects ``FileNotFoundError`` for a missing path, ``FileExistsError``, ``PermissionError``,
``ValueError``... This is the one translation table at the filesystem's boundary; the
message stays loxo's (it names the value and what to do) and the loxo error is the cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from loxo.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidArgumentError,
    LoxoError,
    NotFoundError,
    PreconditionError,
    TransientError,
)

BUILTIN: tuple[tuple[type[LoxoError], type[Exception]], ...] = (
    (NotFoundError, FileNotFoundError),  # a missing project, repo, branch, commit or path
    (AlreadyExistsError, FileExistsError),
    (ConflictError, FileExistsError),  # a path that would be both a file and a directory
    (PreconditionError, PermissionError),  # e.g. writing to a finished commit
    (InvalidArgumentError, ValueError),  # a malformed ref, path or glob
    (TransientError, ConnectionError),  # an unreachable server
)
"""loxo category -> built-in exception; anything else (storage, integrity) is an OSError."""


def as_builtin(err: LoxoError) -> Exception:
    for category, builtin in BUILTIN:
        if isinstance(err, category):
            return builtin(str(err))
    return OSError(str(err))


@contextmanager
def builtin_errors() -> Iterator[None]:
    """Raise loxo errors from the block as their built-in exception (``from`` the loxo one)."""
    try:
        yield
    except LoxoError as err:
        raise as_builtin(err) from err
