"""What every route module shares: the service of the request, JSON responses of records,
and a blocking reader over a streaming request body."""

from __future__ import annotations

import io
import typing
from collections.abc import AsyncIterator
from typing import Annotated, Any, BinaryIO

import anyio.from_thread
from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from loxo.errors import TransientError
from loxo.pfs.model import Record
from loxo.service import Service


def get_service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


Svc = Annotated[Service, Depends(get_service)]


def jsonable(obj: Any) -> Any:
    """Records as their ``to_dict()``; lists and tuples of them as lists."""
    if isinstance(obj, Record):
        return obj.to_dict()
    if isinstance(obj, list | tuple):
        return [jsonable(o) for o in obj]
    return obj


def ok(obj: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(obj), status_code=status_code)


class BodyReader(io.RawIOBase):
    """The body of a request, read as it arrives, from a worker thread (the route runs the
    service call with ``anyio.to_thread.run_sync``); the event loop keeps receiving."""

    def __init__(self, request: Request) -> None:
        self._chunks: AsyncIterator[bytes] = request.stream().__aiter__()
        self._buf, self._pos = b"", 0  # the chunk being read, and how far
        self._done = False
        self.received = 0

    async def _next(self) -> bytes:
        return await self._chunks.__anext__()

    def as_file(self) -> BinaryIO:
        return typing.cast(BinaryIO, self)

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        """Fill ``b`` (short only at the end of the body: readers may take a short read
        for the end)."""
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view):
            if self._pos >= len(self._buf):
                if self._done:
                    break
                try:
                    self._buf, self._pos = anyio.from_thread.run(self._next), 0
                    self.received += len(self._buf)
                except StopAsyncIteration:
                    self._done = True
                    continue
                except ClientDisconnect as err:
                    raise TransientError(
                        f"the client went away after sending {self.received} bytes of the "
                        "request body; nothing of it was written: send it again"
                    ) from err
            take = min(len(view) - n, len(self._buf) - self._pos)
            view[n : n + take] = self._buf[self._pos : self._pos + take]
            self._pos += take
            n += take
        return n
