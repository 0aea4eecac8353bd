"""``pps_v2.API``: jobs, job sets, datums and logs. Waiting and following only poll."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from betterproto.lib.google.protobuf import Empty
from pachyderm_sdk.api import pfs, pps

from loxo.errors import InvalidArgumentError
from loxo.pps.model import JobInfo

from . import convert_pps as conv
from .convert_pfs import commit_msg, commit_text, project_name
from .errors import Unsupported
from .rpc import Ctx, Table
from .waiting import MAX_DELAY, pause, wait_until

if TYPE_CHECKING:
    from loxo.service import Service

DRY_RUN_PIPELINE = "loxo-list-datum"


def _job_ref(job: pps.Job | None) -> tuple[str, str, str]:
    """``(project, pipeline, job id)`` of a Job message."""
    if job is None or not job.id:
        raise InvalidArgumentError("the request names no job (set job.id and job.pipeline)")
    return (*conv.pipeline_ref(job.pipeline), job.id)


def _done(jobs: list[JobInfo]) -> bool:
    return all(j.state.done for j in jobs)


class JobApi:
    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def table(self) -> Table:
        s = "pps_v2.API/"
        return {
            s + "InspectJob": (pps.InspectJobRequest, self.inspect_job),
            s + "ListJob": (pps.ListJobRequest, self.list_job),
            s + "InspectJobSet": (pps.InspectJobSetRequest, self.inspect_job_set),
            s + "ListJobSet": (pps.ListJobSetRequest, self.list_job_set),
            s + "StopJob": (pps.StopJobRequest, self.stop_job),
            s + "InspectDatum": (pps.InspectDatumRequest, self.inspect_datum),
            s + "ListDatum": (pps.ListDatumRequest, self.list_datum),
            s + "GetLogs": (pps.GetLogsRequest, self.get_logs),
        }

    def _spec(self, job: JobInfo, details: bool) -> dict[str, Any] | None:
        if not details:
            return None
        return self.svc.inspect_pipeline(job.pipeline, project=job.project).spec

    # --- jobs ------------------------------------------------------------------------

    def inspect_job(self, req: pps.InspectJobRequest, ctx: Ctx) -> pps.JobInfo:
        project, pipeline, job_id = _job_ref(req.job)
        info = wait_until(
            ctx,
            lambda: self.svc.inspect_job(pipeline, job_id, project=project),
            lambda j: not req.wait or j.state.done,
        )
        return conv.job_info(info, self._spec(info, req.details))

    def list_job(self, req: pps.ListJobRequest, ctx: Ctx) -> Iterator[pps.JobInfo]:
        if req.jq_filter:
            raise Unsupported("ListJob with a jq_filter")
        pipeline = None
        project = "default"
        if req.pipeline and req.pipeline.name:
            project, pipeline = conv.pipeline_ref(req.pipeline)
        jobs = self.svc.list_job(pipeline, project=project)
        projects = {project_name(p) for p in req.projects}
        wanted = {self.svc.inspect_commit(commit_text(c)).id for c in req.input_commit}
        jobs = [
            j
            for j in jobs
            if (not projects or j.project in projects)
            and wanted <= {i.commit for i in j.inputs if i.commit}
        ]
        cut = req.pagination_marker.timestamp() if req.pagination_marker else 0.0
        if cut > 0:
            jobs = [j for j in jobs if (j.created > cut if req.reverse else j.created < cut)]
        if req.reverse:
            jobs.reverse()
        for j in jobs[: req.number or None]:
            yield conv.job_info(j, self._spec(j, req.details))

    def inspect_job_set(self, req: pps.InspectJobSetRequest, ctx: Ctx) -> Iterator[pps.JobInfo]:
        set_id = req.job_set.id if req.job_set else ""
        if not set_id:
            raise InvalidArgumentError("the request names no job set (set job_set.id)")
        jobs = wait_until(
            ctx, lambda: self.svc.list_job(job_id=set_id), lambda js: not req.wait or _done(js)
        )
        for j in jobs:
            yield conv.job_info(j, self._spec(j, req.details))

    def list_job_set(self, req: pps.ListJobSetRequest, ctx: Ctx) -> Iterator[pps.JobSetInfo]:
        if req.jq_filter:
            raise Unsupported("ListJobSet with a jq_filter")
        projects = {project_name(p) for p in req.projects}
        sets: dict[str, list[JobInfo]] = {}
        for j in self.svc.list_job():
            if not projects or j.project in projects:
                sets.setdefault(j.id, []).append(j)
        items = list(sets.items())
        for set_id, jobs in (items[::-1] if req.reverse else items)[: req.number or None]:
            yield pps.JobSetInfo(
                job_set=pps.JobSet(id=set_id),
                jobs=[conv.job_info(j, self._spec(j, req.details)) for j in jobs],
            )

    def stop_job(self, req: pps.StopJobRequest, ctx: Ctx) -> Empty:
        project, pipeline, job_id = _job_ref(req.job)
        self.svc.stop_job(pipeline, job_id, project=project)
        return Empty()

    # --- datums ----------------------------------------------------------------------

    def inspect_datum(self, req: pps.InspectDatumRequest, ctx: Ctx) -> pps.DatumInfo:
        project, pipeline, job_id = _job_ref(req.datum.job if req.datum else None)
        info = self.svc.inspect_datum(pipeline, job_id, req.datum.id, project=project)
        return conv.datum_info(info, project)

    def list_datum(self, req: pps.ListDatumRequest, ctx: Ctx) -> Iterator[pps.DatumInfo]:
        if req.input:
            yield from self._dry_run(req.input)
            return
        project, pipeline = conv.pipeline_ref(req.job.pipeline if req.job else None)
        datums = self.svc.list_datum(pipeline, req.job.id or None, project=project)
        states = {s.name for s in req.filter.state} if req.filter else set()
        infos = [d for d in datums if not states or d.state in states]
        if req.reverse:
            infos.reverse()
        if req.pagination_marker:
            marker = req.pagination_marker
            infos = [d for d in infos if (d.id < marker if req.reverse else d.id > marker)]
        for d in infos[: req.number or None]:
            yield conv.datum_info(d, project)

    def _dry_run(self, inp: pps.Input) -> Iterator[pps.DatumInfo]:
        """The datums an input spec would give now (no pipeline is created)."""
        spec = {
            "pipeline": {"name": DRY_RUN_PIPELINE},
            "transform": {"cmd": ["true"]},
            "input": conv.message_doc(inp),
        }
        for d in self.svc.dry_run_datums(json.dumps(spec)):
            files = [
                pfs.FileInfo(
                    file=pfs.File(commit=commit_msg("default", i["repo"], ""), path=i["path"])
                )
                for i in d["inputs"]
            ]
            yield pps.DatumInfo(datum=pps.Datum(id=d["id"]), data=files)

    # --- logs ------------------------------------------------------------------------

    def get_logs(self, req: pps.GetLogsRequest, ctx: Ctx) -> Iterator[pps.LogMessage]:
        """User-code log lines matching the filters; with ``follow``, then new ones as they
        are written, until the caller cancels. loxo has no master (pipeline driver) logs."""
        if req.master:
            return
        project, filters = "default", dict[str, Any]()
        if req.pipeline and req.pipeline.name:
            project, filters["pipeline"] = conv.pipeline_ref(req.pipeline)
        if req.job and req.job.id:
            project, filters["pipeline"], filters["job_id"] = _job_ref(req.job)
        if req.datum and req.datum.id:
            filters["datum_id"] = req.datum.id
            if req.datum.job and req.datum.job.id:
                project, filters["pipeline"], filters["job_id"] = _job_ref(req.datum.job)
        if req.data_filters:
            filters["inputs"] = list(req.data_filters)
        cutoff = time.time() - req.since.total_seconds() if req.since else None
        last = 0
        for row_id, record in self.svc.get_logs(tail=req.tail, project=project, **filters):
            last = row_id
            if cutoff is None or record.time >= cutoff:
                yield conv.log_message(record, project)
        while req.follow:
            pause(ctx, MAX_DELAY)
            for row_id, record in self.svc.get_logs(since_id=last, project=project, **filters):
                last = row_id
                yield conv.log_message(record, project)
