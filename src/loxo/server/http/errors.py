"""loxo errors as HTTP responses: one table, by error category, never by message text.

The body names the error's class and category so that the remote client raises the same
exception class the embedded one would::

    {"error": {"type": "RepoNotFound", "category": "NotFoundError", "message": "..."}}

Requests the API cannot even read get the same shape: a body that is not JSON (or not
UTF-8, or nested too deep), wrong or missing fields and parameters (FastAPI's validation
errors), a body over the size limit (:mod:`.limits`), an unknown route or a wrong method.
Whatever else escapes a route is a 500 in that shape too (the server logs the traceback).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from loxo import errors

MAX_SHOWN = 3  # validation problems spelled out in one message
INVALID = "InvalidArgumentError"


class BodyTooLarge(errors.InvalidArgumentError):
    """A request body over the limit of requests whose body is read whole (JSON)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the request body is over {limit >> 20} MiB, the limit of JSON requests; "
            "file contents go to the streaming routes (PUT /api/v1/files/content, uploads)"
        )


STATUS: tuple[tuple[type[errors.LoxoError], int], ...] = (
    (BodyTooLarge, 413),
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
CATEGORIES: tuple[type[errors.LoxoError], ...] = (
    errors.NotFoundError,
    errors.AlreadyExistsError,
    errors.ConflictError,
    errors.InvalidArgumentError,
    errors.PreconditionError,
    errors.TransientError,
    errors.IntegrityError,
    errors.StorageError,
    errors.LoxoError,
)


def status_of(err: errors.LoxoError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def category_of(err: errors.LoxoError) -> str:
    return next(cls.__name__ for cls in CATEGORIES if isinstance(err, cls))


def error_body(type_: str, category: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"type": type_, "category": category, "message": message}}


def error_response(err: errors.LoxoError) -> JSONResponse:
    return JSONResponse(
        error_body(type(err).__name__, category_of(err), str(err)), status_code=status_of(err)
    )


async def loxo_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.LoxoError)
    return error_response(exc)


def _short(text: object, limit: int = 80) -> str:
    """``text`` on one line, cut at ``limit`` characters."""
    shown = " ".join(str(text).split())
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _problem(error: dict[str, Any]) -> str:
    """One validation problem, without its input (which may be huge, or bytes)."""
    where = ".".join(_short(part, 40) for part in error.get("loc", ()))
    if error.get("type") == "json_invalid":
        why = (error.get("ctx") or {}).get("error", "")
        return f"the request body is not valid JSON ({_short(why)}, at character {where[5:]})"
    return f"{where}: {_short(error.get('msg', 'invalid'), 200)}"


def describe(problems: Sequence[Any]) -> str:
    """``invalid request: body.name: Input should be a valid string; ...``."""
    shown = "; ".join(_problem(p) for p in problems[:MAX_SHOWN])
    more = len(problems) - MAX_SHOWN
    shown += f" (and {more} more)" if more > 0 else ""
    return f"invalid request: {shown}; /openapi.json describes every route and its fields"


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        error_body("InvalidRequest", INVALID, describe(exc.errors())), status_code=400
    )


def _leaf(cause: BaseException | None) -> BaseException | None:
    """The first exception of a (nested) exception group: a middleware's task group wraps
    what the body's reader raised."""
    while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
        cause = cause.exceptions[0]
    return cause


def _unreadable(cause: BaseException | None) -> str:
    """Why FastAPI could not parse a body (it says only "There was an error parsing the
    body" and chains the cause)."""
    if isinstance(cause, RecursionError):
        return "the request body nests too deep to parse; send a flatter JSON document"
    if isinstance(cause, UnicodeDecodeError):
        return f"the request body is not valid UTF-8 ({_short(cause)}); send UTF-8 JSON"
    if cause is None:
        return "the request body could not be parsed; send a JSON document"
    return f"the request body could not be parsed ({type(cause).__name__}: {_short(cause)})"


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors: no such route (404), wrong method (405), unreadable body."""
    assert isinstance(exc, HTTPException)
    cause = _leaf(exc.__cause__)
    if isinstance(cause, errors.LoxoError):  # raised while FastAPI read the body
        return error_response(cause)
    method, path = request.method, _short(request.url.path, 200)
    status, headers = exc.status_code, exc.headers
    if status == 404:
        body = error_body(
            "RouteNotFound", "NotFoundError", f"no route {method} {path}; see /openapi.json"
        )
    elif status == 405:
        allowed = (headers or {}).get("Allow", "")
        body = error_body(
            "MethodNotAllowed", INVALID, f"{method} is not allowed on {path}; use {allowed}"
        )
    elif status == 400:
        body = error_body("InvalidRequest", INVALID, _unreadable(cause))
    else:
        category = INVALID if 400 <= status < 500 else "LoxoError"
        body = error_body("HTTPError", category, f"{method} {path}: {_short(exc.detail, 200)}")
    return JSONResponse(body, status_code=status, headers=headers)


async def internal_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A bug: a 500 in the error shape (Starlette still raises the exception on, so the
    server logs its traceback)."""
    message = f"internal error: {type(exc).__name__}: {_short(exc, 300)}; see the server's log"
    return JSONResponse(error_body("InternalError", "LoxoError", message), status_code=500)
