"""Pipelines, jobs, datums and logs through pachyderm_sdk, run by the server's scheduler."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields

import grpc
import pytest
from pachyderm_sdk import Client
from pachyderm_sdk.api import pfs, pps

Names = Callable[[str], str]
COPY = "echo copying $(ls /pfs/in); cp -r /pfs/in/* /pfs/out/"


def spec(name: str, input_repo: str, script: str) -> dict:
    """A pipeline spec as users write it (Pachyderm's JSON form, camelCase and all)."""
    return {
        "pipeline": {"name": name},
        "transform": {"cmd": ["sh", "-c", script.replace("/pfs/in", f"/pfs/{input_repo}")]},
        "input": {"pfs": {"repo": input_repo, "glob": "/*"}},
        "parallelismSpec": {"constant": 1},
    }


def create_from_dict(client: Client, doc: dict) -> None:
    """``client.pps.create_pipeline(**fields)`` from a dict, as SDK users do."""
    request = pps.CreatePipelineRequest().from_dict(doc)
    client.pps.create_pipeline(**{f.name: getattr(request, f.name) for f in fields(request)})


def read(client: Client, uri: str) -> bytes:
    return client.pfs.pfs_file(file=pfs.File.from_uri(uri)).read()


def test_two_stage_pipeline_end_to_end(client: Client, names: Names) -> None:
    src, first, second = names("in"), names("first"), names("second")
    client.pfs.create_repo(repo=pfs.Repo(name=src))
    create_from_dict(client, spec(first, src, COPY))
    client.pps.create_pipeline_v2(
        create_pipeline_request_json=json.dumps(spec(second, first, "cp -r /pfs/in/* /pfs/out/"))
    )
    with client.pfs.commit(branch=pfs.Branch.from_uri(f"{src}@master")) as commit:
        commit.put_file_from_bytes("/a.txt", b"A")
        commit.put_file_from_bytes("/b.txt", b"B")
    infos = commit.wait_all()
    assert {i.commit.repo.name for i in infos} == {src, first, second}
    assert all(i.finished.timestamp() > 0 and not i.error for i in infos)
    out = next(i for i in infos if i.commit.repo.name == second)
    assert out.origin.kind == pfs.OriginKind.AUTO
    assert [c.repo.name for c in out.direct_provenance] == [first]
    assert read(client, f"{second}@master:/a.txt") == b"A"
    assert read(client, f"{second}@{commit.id}:/b.txt") == b"B"

    job = client.pps.inspect_job(job=pps.Job(pipeline=pps.Pipeline(name=first), id=commit.id),
                                 wait=True, details=True)  # fmt: skip
    assert job.state == pps.JobState.JOB_SUCCESS
    assert (job.data_total, job.data_processed, job.output_commit.id) == (2, 2, commit.id)
    assert job.details.transform.cmd[:2] == ["sh", "-c"]
    jobs = list(client.pps.list_job(pipeline=pps.Pipeline(name=first)))
    assert jobs[0].job.id == commit.id
    job_set = list(client.pps.inspect_job_set(job_set=pps.JobSet(id=commit.id), wait=True))
    assert {j.job.pipeline.name for j in job_set} == {first, second}

    datums = list(
        client.pps.list_datum(job=pps.Job(pipeline=pps.Pipeline(name=first), id=commit.id))
    )
    assert sorted(d.data[0].file.path for d in datums) == ["/a.txt", "/b.txt"]
    assert {d.state for d in datums} == {pps.DatumState.SUCCESS}
    one = client.pps.inspect_datum(datum=datums[0].datum)
    assert one.datum.id == datums[0].datum.id and one.state == pps.DatumState.SUCCESS

    logs = [m.message for m in client.pps.get_logs(pipeline=pps.Pipeline(name=first))]
    assert any("copying a.txt" in line for line in logs), logs
    by_job = list(client.pps.get_logs(job=pps.Job(pipeline=pps.Pipeline(name=first), id=commit.id)))
    assert {m.job_id for m in by_job} == {commit.id} and all(m.user for m in by_job)
    followed = []
    for m in client.pps.get_logs(pipeline=pps.Pipeline(name=first), follow=True):
        followed.append(m.message)  # the existing lines, then it would wait for new ones
        if len(followed) == len(logs):
            break
    assert followed == logs

    info = client.pps.inspect_pipeline(pipeline=pps.Pipeline(name=first), details=True)
    assert info.state == pps.PipelineState.PIPELINE_RUNNING
    assert info.details.input.pfs.repo == src and info.version == 1
    assert {p.pipeline.name for p in client.pps.list_pipeline()} >= {first, second}

    client.pps.delete_pipeline(pipeline=pps.Pipeline(name=second))
    client.pps.delete_pipeline(pipeline=pps.Pipeline(name=first))
    client.pfs.delete_repo(repo=pfs.Repo(name=src))
    assert not client.pps.pipeline_exists(pps.Pipeline(name=first))
    assert not client.pfs.repo_exists(pfs.Repo(name=second))


def test_stop_and_start_pipeline(client: Client, names: Names) -> None:
    src, name = names("in"), names("copy")
    client.pfs.create_repo(repo=pfs.Repo(name=src))
    create_from_dict(client, spec(name, src, COPY))
    pipeline = pps.Pipeline(name=name)
    client.pps.stop_pipeline(pipeline=pipeline)
    info = client.pps.inspect_pipeline(pipeline=pipeline)
    assert info.stopped and info.state == pps.PipelineState.PIPELINE_PAUSED
    with client.pfs.commit(branch=pfs.Branch.from_uri(f"{src}@master")) as commit:
        commit.put_file_from_bytes("/x", b"x")
    commit.wait()
    assert not client.pps.job_exists(pps.Job(pipeline=pipeline, id=commit.id))
    client.pps.start_pipeline(pipeline=pipeline)
    assert not client.pps.inspect_pipeline(pipeline=pipeline).stopped
    latest = next(client.pps.list_job(pipeline=pipeline))
    done = client.pps.inspect_job(job=latest.job, wait=True)
    assert done.state == pps.JobState.JOB_SUCCESS
    assert read(client, f"{name}@master:/x") == b"x"


def test_list_datum_of_an_input_spec_is_a_dry_run(client: Client, names: Names) -> None:
    src = names("in")
    client.pfs.create_repo(repo=pfs.Repo(name=src))
    with client.pfs.commit(branch=pfs.Branch.from_uri(f"{src}@master")) as commit:
        for n in range(3):
            commit.put_file_from_bytes(f"/{n}.txt", b"n")
    datums = list(client.pps.list_datum(input=pps.Input(pfs=pps.PfsInput(repo=src, glob="/*"))))
    assert sorted(d.data[0].file.path for d in datums) == ["/0.txt", "/1.txt", "/2.txt"]


def test_invalid_spec_is_invalid_argument_naming_the_field(client: Client, names: Names) -> None:
    src = names("in")
    client.pfs.create_repo(repo=pfs.Repo(name=src))
    bad = spec(names("bad"), src, COPY) | {"datumTries": "often"}
    with pytest.raises(grpc.RpcError) as err:
        client.pps.create_pipeline_v2(create_pipeline_request_json=json.dumps(bad))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "datum_tries" in err.value.details()
