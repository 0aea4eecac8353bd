"""The handler table against pachyderm_sdk's catalogue, and the error table."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from loxo import errors
from loxo.server.pachyderm.errors import STATUS, Unsupported, status_of
from loxo.server.pachyderm.rpc import catalogue
from loxo.server.pachyderm.server import handler_table
from loxo.service import Service


def test_catalogue_reads_the_sdk_stubs() -> None:
    services = catalogue()
    assert services["pfs_v2.API"]["ModifyFile"] == "stream_unary"
    assert services["pfs_v2.API"]["ListRepo"] == "unary_stream"
    assert services["pps_v2.API"]["CreatePipeline"] == "unary_unary"
    assert "auth_v2.API" in services and "versionpb_v2.API" in services


def test_every_handler_is_a_method_the_sdk_knows(tmp_path: Path) -> None:
    svc = Service.open_home(tmp_path)
    try:
        table = handler_table(svc)
    finally:
        svc.close()
    services = catalogue()
    for full in table:
        service, _, method = full.partition("/")
        assert method in services[service], full
    assert len(table) >= 50


@pytest.mark.parametrize(
    ("err", "code"),
    [
        (errors.RepoNotFound("r"), grpc.StatusCode.NOT_FOUND),
        (errors.RepoExists("r"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.InvalidRef("x", "bad"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.PathConflict("/a", "clash"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.CommitNotOpen("r", "c"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.TransientError("busy"), grpc.StatusCode.UNAVAILABLE),
        (errors.CorruptObject("k", "bad"), grpc.StatusCode.DATA_LOSS),
        (Unsupported("pfs_v2.API/Fsck"), grpc.StatusCode.UNIMPLEMENTED),
        (errors.StorageError("disk"), grpc.StatusCode.INTERNAL),
    ],
)
def test_status_table(err: errors.LoxoError, code: grpc.StatusCode) -> None:
    assert status_of(err) == code


def test_status_table_lists_subclasses_before_their_bases() -> None:
    classes = [cls for cls, _ in STATUS]
    for i, cls in enumerate(classes):
        assert not any(issubclass(cls, earlier) for earlier in classes[:i]), cls
