"""loxo errors as HTTP responses: one table, by error category, never by message text.

The body names the error's class and category so that the remote client raises the same
exception class the embedded one would::

    {"error": {"type": "RepoNotFound", "category": "NotFoundError", "message": "..."}}
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from loxo import errors

STATUS: tuple[tuple[type[errors.LoxoError], int], ...] = (
    (errors.NotFoundError, 404),
    (errors.AlreadyExistsError, 409),
    (errors.ConflictError, 409),
    (errors.InvalidArgumentError, 400),
    (errors.PreconditionError, 412),
    (errors.TransientError, 503),
    (errors.IntegrityError, 500),
    (errors.StorageError, 500),
    (errors.LoxoError, 500),
)


def status_of(err: errors.LoxoError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def category_of(err: errors.LoxoError) -> str:
    return next(cls.__name__ for cls, _ in STATUS if isinstance(err, cls))


def error_body(type_: str, category: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": type_, "category": category, "message": message}}


async def loxo_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.LoxoError)
    return JSONResponse(
        error_body(type(exc).__name__, category_of(exc), str(exc)), status_code=status_of(exc)
    )
