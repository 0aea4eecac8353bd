"""gRPC method handlers from plain functions, and the catalogue of pachd's RPCs.

A handler here is ``fn(request, context)`` over pachyderm_sdk's own betterproto messages: it
returns a message (unary response) or yields messages (streaming response); a client-streaming
handler receives an iterator of messages. :func:`service_handlers` wraps each one with the
message (de)serialisation (``Msg().parse(data)`` / ``bytes(msg)``) and the one translation of
errors into status codes (:mod:`.errors`), and answers every other RPC that pachyderm_sdk
knows with ``UNIMPLEMENTED`` naming the method.

The catalogue (service -> method -> kind) is read from pachyderm_sdk's generated stubs, by
handing them a channel that only records what they ask for, so the RPC kinds always match
the client's.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any, Literal, NoReturn, TypeAlias

import betterproto
import grpc

from loxo.errors import LoxoError

from .errors import Unsupported, status_of

log = logging.getLogger("loxo.server.pachyderm")

Ctx: TypeAlias = grpc.ServicerContext  # untyped: Any for mypy
Kind = Literal["unary_unary", "unary_stream", "stream_unary", "stream_stream"]
Handler = Callable[[Any, grpc.ServicerContext], Any]
# "pfs_v2.API/CreateRepo" -> (request message class, handler)
Table = dict[str, tuple[type[betterproto.Message], Handler]]
KINDS: tuple[Kind, ...] = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


class _RecordingChannel:
    """Stands in for a grpc.Channel: notes every method a stub registers, and its kind."""

    def __init__(self) -> None:
        self.methods: dict[str, Kind] = {}

    def __getattr__(self, kind: str) -> Callable[..., Callable[..., None]]:
        if kind not in KINDS:
            raise AttributeError(kind)

        def register(path: str, *args: object, **kwargs: object) -> Callable[..., None]:
            self.methods[path] = kind
            return lambda *a, **k: None

        return register


@functools.cache
def catalogue() -> dict[str, dict[str, Kind]]:
    """``{"pfs_v2.API": {"CreateRepo": "unary_unary", ...}, ...}`` for every service
    pachyderm_sdk has a stub for."""
    import pachyderm_sdk.api as api

    channel = _RecordingChannel()
    for info in pkgutil.iter_modules(api.__path__):
        try:
            module = importlib.import_module(f"{api.__name__}.{info.name}")
        except ImportError:  # pragma: no cover - an optional dependency of the SDK
            continue
        for name, obj in vars(module).items():
            is_stub = isinstance(obj, type) and obj.__module__ == module.__name__
            if is_stub and name.endswith("Stub"):
                obj(channel)
    services: dict[str, dict[str, Kind]] = {}
    for path, kind in channel.methods.items():
        service, _, method = path.lstrip("/").partition("/")
        services.setdefault(service, {})[method] = kind
    return services


def _fail(context: grpc.ServicerContext, method: str, err: Exception) -> NoReturn:
    if isinstance(err, LoxoError):
        context.abort(status_of(err), str(err))
    log.error("unexpected error in %s", method, exc_info=err)
    context.abort(grpc.StatusCode.INTERNAL, f"{method}: unexpected {type(err).__name__}: {err}")
    raise AssertionError("unreachable")  # pragma: no cover - abort raises


def _guard(method: str, kind: Kind, fn: Handler) -> Handler:
    """``fn`` with every exception turned into a status (a generator for stream responses)."""
    if kind.endswith("_stream"):

        def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            try:
                yield from fn(request, context)
            except Exception as err:
                _fail(context, method, err)

        return stream

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return fn(request, context)
        except Exception as err:
            _fail(context, method, err)

    return unary


def method_handler(
    method: str, kind: Kind, fn: Handler, request_type: type[betterproto.Message] | None
) -> grpc.RpcMethodHandler:
    """A handler of ``kind`` for ``fn`` (raw ``bytes`` requests when ``request_type`` is None)."""
    parse = None if request_type is None else (lambda data: request_type().parse(data))
    build = getattr(grpc, f"{kind}_rpc_method_handler")
    return build(_guard(method, kind, fn), request_deserializer=parse, response_serializer=bytes)


def _unimplemented(method: str, why: str) -> Handler:
    def refuse(request: Any, context: grpc.ServicerContext) -> Any:
        raise Unsupported(method + why)

    return refuse


def service_handlers(table: Table, notes: dict[str, str]) -> list[grpc.GenericRpcHandler]:
    """One generic handler per service of the catalogue: ``table``'s functions, and an
    ``UNIMPLEMENTED`` answer (plus ``notes[service]``) for every other method."""
    services = catalogue()
    unknown = [m for m in table if m.partition("/")[2] not in services.get(m.split("/")[0], {})]
    if unknown:
        raise LookupError(f"pachyderm_sdk has no RPC {unknown[0]!r}")
    handlers = []
    for service, methods in sorted(services.items()):
        found: dict[str, grpc.RpcMethodHandler] = {}
        for method, kind in methods.items():
            full = f"{service}/{method}"
            if full in table:
                request_type, fn = table[full]
                found[method] = method_handler(full, kind, fn, request_type)
            else:
                refuse = _unimplemented(full, notes.get(service, ""))
                found[method] = method_handler(full, kind, refuse, None)
        handlers.append(grpc.method_handlers_generic_handler(service, found))
    return handlers
