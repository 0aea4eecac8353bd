"""Pipelines, jobs and datums."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from loxo.errors import InvalidArgumentError
from loxo.pfs.model import FileInfo
from loxo.pps.model import DatumInfo, JobInfo, PipelineInfo, PipelineVersion
from loxo.pps.spec import PipelineSpec, parse_specs, spec_from_dict

from . import bodies
from .common import Svc, ok

router = APIRouter(prefix="/api/v1", tags=["pps"])
PIPELINE = "/projects/{project}/pipelines/{name}"
JOB = PIPELINE + "/jobs/{job_id}"


def _spec(spec: str | dict[str, Any]) -> PipelineSpec:
    """One spec, from JSON/YAML text or a JSON object."""
    if isinstance(spec, dict):
        return spec_from_dict(spec, "<request>")
    specs = parse_specs(spec, "<request>")
    if len(specs) != 1:
        raise InvalidArgumentError(f"expected one pipeline spec in the request, got {len(specs)}")
    return specs[0]


def _changed(request: Request, project: str, info: PipelineInfo) -> None:
    request.app.state.bus.publish(
        "pipeline", {"project": project, "name": info.name, "state": str(info.state)}
    )


@router.get("/pipelines", response_model=list[PipelineInfo])
def list_pipeline_all(svc: Svc) -> JSONResponse:
    """Pipelines of every project."""
    return ok(svc.list_pipeline(project=None))


@router.get("/projects/{project}/pipelines", response_model=list[PipelineInfo])
def list_pipeline(svc: Svc, project: str) -> JSONResponse:
    return ok(svc.list_pipeline(project=project))


@router.post("/pipelines", response_model=PipelineInfo, status_code=201)
def create_pipeline(request: Request, svc: Svc, body: bodies.PipelineSpecBody) -> JSONResponse:
    """Create a pipeline (or, with ``update``, a new version of it) from a spec."""
    info = svc.create_pipeline(_spec(body.spec), update=body.update, reprocess=body.reprocess)
    _changed(request, info.project, info)
    return ok(info, 201)


@router.post("/pipelines/validate")
def validate_pipeline(svc: Svc, body: bodies.PipelineSpecBody) -> JSONResponse:
    """Check a spec against the store; returns the effective spec. Changes nothing."""
    return ok(svc.validate_pipeline(_spec(body.spec)).to_dict())


@router.post("/pipelines/preview-update")
def preview_update(svc: Svc, body: bodies.PipelineSpecBody) -> JSONResponse:
    """``{"kept": N, "rerun": M}``: the datums an update to this spec would keep and rerun."""
    kept, rerun = svc.preview_update(_spec(body.spec))
    return ok({"kept": kept, "rerun": rerun})


@router.post("/pipelines/dry-run")
def dry_run_datums(svc: Svc, body: bodies.PipelineSpecBody) -> JSONResponse:
    """The datums a spec would have on the current inputs (``list datum -f``)."""
    return ok(json.loads(json.dumps(svc.dry_run_datums(_spec(body.spec)), default=str)))


@router.get(PIPELINE, response_model=PipelineInfo)
def inspect_pipeline(svc: Svc, project: str, name: str) -> JSONResponse:
    return ok(svc.inspect_pipeline(name, project=project))


@router.get(PIPELINE + "/versions", response_model=list[PipelineVersion])
def list_pipeline_versions(svc: Svc, project: str, name: str) -> JSONResponse:
    """Every version of the pipeline, newest first, with its spec."""
    return ok(svc.list_pipeline_versions(name, project=project))


@router.delete(PIPELINE)
def delete_pipeline(
    svc: Svc, project: str, name: str, keep_repo: bool = False, force: bool = False
) -> JSONResponse:
    svc.delete_pipeline(name, project=project, keep_repo=keep_repo, force=force)
    return ok({"deleted": name})


@router.post(PIPELINE + "/start", response_model=PipelineInfo)
def start_pipeline(request: Request, svc: Svc, project: str, name: str) -> JSONResponse:
    info = svc.start_pipeline(name, project=project)
    _changed(request, project, info)
    return ok(info)


@router.post(PIPELINE + "/stop", response_model=PipelineInfo)
def stop_pipeline(request: Request, svc: Svc, project: str, name: str) -> JSONResponse:
    info = svc.stop_pipeline(name, project=project)
    _changed(request, project, info)
    return ok(info)


@router.post(PIPELINE + "/rerun", response_model=PipelineInfo)
def rerun_pipeline(
    request: Request, svc: Svc, project: str, name: str, body: bodies.Reprocess
) -> JSONResponse:
    """A new job on the current inputs: failed datums rerun; ``reprocess`` reruns all."""
    info = svc.rerun_pipeline(name, project=project, reprocess=body.reprocess)
    _changed(request, project, info)
    return ok(info)


@router.post(PIPELINE + "/run-cron", response_model=list[str])
def run_cron(svc: Svc, project: str, name: str) -> JSONResponse:
    """Commit a tick now to every cron input; the commit IDs."""
    return ok(svc.run_cron(name, project=project))


@router.get("/jobs", response_model=list[JobInfo])
def list_job(
    svc: Svc,
    project: str = "default",
    pipeline: str | None = None,
    job_id: str | None = None,
    number: int = 0,
) -> JSONResponse:
    """Jobs, newest first; ``job_id`` (a global ID) gives that commit set's jobs."""
    return ok(svc.list_job(pipeline, job_id=job_id, project=project, number=number))


@router.get(JOB, response_model=JobInfo)
def inspect_job(svc: Svc, project: str, name: str, job_id: str) -> JSONResponse:
    return ok(svc.inspect_job(name, job_id, project=project))


@router.post(JOB + "/wait", response_model=JobInfo)
def wait_job(svc: Svc, project: str, name: str, job_id: str, body: bodies.Wait) -> JSONResponse:
    return ok(svc.wait_job(name, job_id, project=project, timeout=body.timeout))


@router.post(JOB + "/stop", response_model=JobInfo)
def stop_job(svc: Svc, project: str, name: str, job_id: str) -> JSONResponse:
    return ok(svc.stop_job(name, job_id, project=project))


@router.get(JOB + "/datums", response_model=list[DatumInfo])
def list_datum(
    svc: Svc, project: str, name: str, job_id: str, state: str | None = None
) -> JSONResponse:
    return ok(svc.list_datum(name, job_id, project=project, state=state))


@router.get(PIPELINE + "/datums", response_model=list[DatumInfo])
def list_datum_latest(svc: Svc, project: str, name: str, state: str | None = None) -> JSONResponse:
    """The datums of the pipeline's latest job."""
    return ok(svc.list_datum(name, None, project=project, state=state))


@router.get(JOB + "/datums/{datum_id}", response_model=DatumInfo)
def inspect_datum(svc: Svc, project: str, name: str, job_id: str, datum_id: str) -> JSONResponse:
    return ok(svc.inspect_datum(name, job_id, datum_id, project=project))


@router.get(JOB + "/datums/{datum_id}/outputs", response_model=list[FileInfo])
def list_datum_outputs(
    svc: Svc, project: str, name: str, job_id: str, datum_id: str
) -> JSONResponse:
    """The files the datum wrote (paths in the job's output commit)."""
    return ok(svc.list_datum_outputs(name, job_id, datum_id, project=project))


@router.post(JOB + "/datums/{datum_id}/restart", response_model=DatumInfo)
def restart_datum(svc: Svc, project: str, name: str, job_id: str, datum_id: str) -> JSONResponse:
    return ok(svc.restart_datum(name, job_id, datum_id, project=project))
