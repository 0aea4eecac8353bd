"""Status codes, UNIMPLEMENTED answers and the token check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from pachyderm_sdk import Client
from pachyderm_sdk.api import pfs, pps
from pachyderm_sdk.errors import AuthServiceNotActivated

from tests.serverproc import ServerProc, running_server

Names = Callable[[str], str]


def code_of(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    return err.value.code(), err.value.details()


def test_not_found_and_already_exists(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("r"))
    code, details = code_of(lambda: client.pfs.inspect_repo(repo=repo))
    assert code == grpc.StatusCode.NOT_FOUND and repo.name in details
    client.pfs.create_repo(repo=repo)
    code, details = code_of(lambda: client.pfs.create_repo(repo=repo))
    assert code == grpc.StatusCode.ALREADY_EXISTS and "already exists" in details
    missing = pfs.File.from_uri(f"{repo.name}@master:/nope")
    assert code_of(lambda: client.pfs.inspect_file(file=missing))[0] == grpc.StatusCode.NOT_FOUND
    missing_job = pps.Job(pipeline=pps.Pipeline(name=names("p")), id="0" * 32)
    assert code_of(lambda: client.pps.inspect_job(job=missing_job))[0] == grpc.StatusCode.NOT_FOUND


def test_writing_a_finished_commit_is_failed_precondition(client: Client, names: Names) -> None:
    repo = pfs.Repo(name=names("r"))
    client.pfs.create_repo(repo=repo)
    with client.pfs.commit(branch=pfs.Branch(repo=repo, name="master")) as c:
        c.put_file_from_bytes("/a", b"a")
    code, _ = code_of(lambda: client.pfs.put_file_from_bytes(commit=c, path="/b", data=b"b"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert (
        code_of(lambda: client.pfs.finish_commit(commit=c))[0]
        == grpc.StatusCode.FAILED_PRECONDITION
    )


def test_unimplemented_names_the_method(client: Client) -> None:
    code, details = code_of(lambda: client.pfs.fsck())
    assert code == grpc.StatusCode.UNIMPLEMENTED
    assert details == "loxo does not implement pfs_v2.API/Fsck"
    code, details = code_of(lambda: client.pps.list_secret())
    assert (code, details) == (
        grpc.StatusCode.UNIMPLEMENTED,
        "loxo does not implement pps_v2.API/ListSecret",
    )


def test_auth_calls_read_as_auth_not_activated(client: Client) -> None:
    with pytest.raises(AuthServiceNotActivated):
        client.auth.who_am_i()


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    home = tmp_path_factory.mktemp("secured")
    token_file = home.parent / "token"
    token_file.write_text("s3cret-token\n")
    with running_server(home, "--auth-token-file", str(token_file)) as proc:
        yield proc


def test_a_token_server_refuses_calls_without_the_token(
    token_server: ServerProc, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PACH_PYTHON_AUTH_TOKEN", raising=False)
    anonymous = Client(host="127.0.0.1", port=token_server.grpc_port)
    code, details = code_of(anonymous.get_version)
    assert code == grpc.StatusCode.UNAUTHENTICATED and "auth_token" in details
    assert code_of(lambda: anonymous.pfs.list_repo())[0] == grpc.StatusCode.UNAUTHENTICATED
    wrong = Client(host="127.0.0.1", port=token_server.grpc_port, auth_token="guess")
    code, _ = code_of(lambda: wrong.pfs.create_repo(repo=pfs.Repo(name="nope")))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    stream = (
        pfs.ModifyFileRequest(set_commit=pfs.Commit.from_uri("nope@master")) for _ in range(1)
    )
    assert code_of(lambda: wrong.pfs.modify_file(stream))[0] == grpc.StatusCode.UNAUTHENTICATED

    allowed = Client(host="127.0.0.1", port=token_server.grpc_port, auth_token="s3cret-token")
    allowed.pfs.create_repo(repo=pfs.Repo(name="secured"))
    with allowed.pfs.commit(branch=pfs.Branch.from_uri("secured@master")) as c:
        c.put_file_from_bytes("/a", b"a")
    assert allowed.pfs.pfs_file(file=pfs.File.from_uri("secured@master:/a")).read() == b"a"
    assert allowed.get_version().major == 2


def test_a_wait_ends_with_the_callers_deadline(
    server: ServerProc, client: Client, names: Names
) -> None:
    repo = pfs.Repo(name=names("r"))
    client.pfs.create_repo(repo=repo)
    commit = client.pfs.start_commit(branch=pfs.Branch(repo=repo, name="master"))
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        inspect = channel.unary_unary(
            "/pfs_v2.API/InspectCommit",
            request_serializer=bytes,
            response_deserializer=pfs.CommitInfo.FromString,
        )
        request = pfs.InspectCommitRequest(commit=commit, wait=pfs.CommitState.FINISHED)
        with pytest.raises(grpc.RpcError) as err:
            inspect(request, timeout=0.5)
        assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        client.pfs.finish_commit(commit=commit)
        assert inspect(request, timeout=10).finished.timestamp() > 0
