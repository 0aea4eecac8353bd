"""loxo errors as gRPC status codes: one table, by error category, never by message text.

The status details carry the loxo message unchanged, so a ``pachyderm_sdk`` user sees the
same sentence a loxo CLI user would. The codes follow what pachd answers for the same
situations (a missing repo is ``NOT_FOUND``, an existing one ``ALREADY_EXISTS``, writing to a
finished commit ``FAILED_PRECONDITION``).
"""

from __future__ import annotations

import grpc

from loxo import errors


class Unsupported(errors.LoxoError):
    """A request (or one of its options) that loxo's Pachyderm door does not implement."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"loxo does not implement {what}")


STATUS: tuple[tuple[type[errors.LoxoError], grpc.StatusCode], ...] = (
    (errors.NotFoundError, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (errors.InvalidArgumentError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.ConflictError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.PreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.TransientError, grpc.StatusCode.UNAVAILABLE),
    (errors.IntegrityError, grpc.StatusCode.DATA_LOSS),
    (Unsupported, grpc.StatusCode.UNIMPLEMENTED),
    (errors.LoxoError, grpc.StatusCode.INTERNAL),
)


def status_of(err: errors.LoxoError) -> grpc.StatusCode:
    """The gRPC status code for a loxo error (the first matching row of :data:`STATUS`)."""
    return next(code for cls, code in STATUS if isinstance(err, cls))
