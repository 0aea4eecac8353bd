"""Assemble the gRPC server: every handler table, the catch-all UNIMPLEMENTED answers, the
token interceptor, message-size limits, one port."""

from __future__ import annotations

import platform
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import grpc
from betterproto.lib.google.protobuf import Empty
from pachyderm_sdk.api import version as versionpb

import loxo
from loxo.errors import ConflictError

from .auth import TokenInterceptor
from .commits_api import CommitApi
from .files_api import FileApi
from .jobs_api import JobApi
from .modify import ModifyApi
from .pfs_api import RepoApi
from .pps_api import PipelineApi
from .rpc import Table, service_handlers
from .wake import WakeInterceptor

if TYPE_CHECKING:
    from loxo.service import Service

PACHYDERM_VERSION = (2, 12, 2)  # the pachd API this door speaks (pachyderm_sdk's)
MAX_MESSAGE = 64 * 1024 * 1024  # the SDK sends 19 MiB ModifyFile messages
WORKERS = 64  # waits, subscriptions and log follows each hold a thread
# appended to UNIMPLEMENTED answers: pachyderm_sdk turns this one into AuthServiceNotActivated
NOTES = {"auth_v2.API": ": the auth service is not activated (loxo uses one shared token)"}


def version(request: Empty, context: grpc.ServicerContext) -> versionpb.Version:
    major, minor, micro = PACHYDERM_VERSION
    return versionpb.Version(
        major=major, minor=minor, micro=micro, additional=f"-loxo.{loxo.__version__}",
        go_version="none (loxo is Python " + platform.python_version() + ")",
        platform=platform.machine(),
    )  # fmt: skip


def handler_table(service: Service) -> Table:
    """Every implemented RPC: ``"service/Method" -> (request class, handler)``."""
    table: Table = {"versionpb_v2.API/GetVersion": (Empty, version)}
    for api in (RepoApi, CommitApi, ModifyApi, FileApi, PipelineApi, JobApi):
        table.update(api(service).table())
    return table


def build_grpc_server(
    service: Service,
    *,
    host: str,
    port: int,
    token: str | None,
    on_write: Callable[[], None] | None = None,
) -> tuple[grpc.Server, int]:
    """A grpc.Server (not started) serving pachyderm_sdk's services over ``service``, bound
    to ``host:port`` (0 = pick a free port); returns ``(server, bound_port)``.
    ``on_write()`` runs after every writing RPC (the server wakes its scheduler)."""
    interceptors: list[grpc.ServerInterceptor] = []
    if token:
        interceptors.append(TokenInterceptor(token))
    if on_write is not None:
        interceptors.append(WakeInterceptor(on_write))
    server = grpc.server(
        ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="loxo-grpc"),
        handlers=service_handlers(handler_table(service), NOTES),
        interceptors=interceptors or None,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),
        ],
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as err:
        raise ConflictError(
            f"cannot listen for gRPC on {address}: {err}; choose another port"
        ) from err
    if not bound:
        raise ConflictError(f"cannot listen for gRPC on {address} (is the port in use?)")
    return server, bound
