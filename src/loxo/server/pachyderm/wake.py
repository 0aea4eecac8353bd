"""Waking the server's scheduler after a write: a server interceptor.

Jobs start when a branch head moves, which wakes the scheduler by itself; but a write like
``CreatePipeline``, ``StartPipeline`` or ``RerunPipeline`` creates a job without moving a
head. After any RPC whose method name says it writes, ``on_write()`` runs (it only sets an
event), so the job starts now rather than at the scheduler's next tick.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import grpc

WRITE_VERBS = (
    *("Create", "Start", "Finish", "Modify", "Rerun", "Run", "Update", "Delete", "Stop"),
    *("Squash", "Drop", "Restart", "Put", "Copy"),
)


def writes(method: str) -> bool:
    """``/pps_v2.API/CreatePipeline`` writes; ``/pfs_v2.API/InspectRepo`` does not."""
    return method.rsplit("/", 1)[-1].startswith(WRITE_VERBS)


class WakeInterceptor(grpc.ServerInterceptor):
    def __init__(self, on_write: Callable[[], None]) -> None:
        self._on_write = on_write

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None or not writes(handler_call_details.method):
            return handler
        return _then(handler, self._on_write)


def _then(handler: grpc.RpcMethodHandler, after: Callable[[], None]) -> grpc.RpcMethodHandler:
    """``handler`` that calls ``after()`` once its behaviour has returned (or finished
    streaming)."""

    def unary(behaviour: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(behaviour)
        def run(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                return behaviour(request, context)
            finally:
                after()

        return run

    def streaming(behaviour: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        @functools.wraps(behaviour)
        def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from behaviour(request, context)
            finally:
                after()

        return run

    kw = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary), **kw)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(streaming(handler.unary_stream), **kw)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(unary(handler.stream_unary), **kw)
    assert handler.stream_stream is not None
    return grpc.stream_stream_rpc_method_handler(streaming(handler.stream_stream), **kw)
