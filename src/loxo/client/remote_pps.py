"""The remote client's pipeline half: pipelines, jobs, datums, logs (followed over
server-sent events) and waiting for the server's scheduler (:meth:`RemotePPS.drive`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from httpx_sse import connect_sse

from loxo.pfs.model import FileInfo, FsckReport, GCReport
from loxo.pps.model import (
    DatumInfo,
    JobInfo,
    JobProgress,
    LogRecord,
    PipelineInfo,
    PipelineVersion,
)
from loxo.pps.spec import PipelineSpec, spec_from_dict

from .transport import Transport, ident, pipeline_url, project_url
from .wire import decode, decode_list

Progress = Callable[[JobProgress], None]
WAIT_POLL = 0.25  # seconds between looks at the server's jobs while waiting for them
JOBS_LOOKED_AT = 200  # newest jobs per project scanned for running ones while waiting


class RemotePPS(Transport):
    # --- pipelines ----------------------------------------------------------------------

    @staticmethod
    def _spec_body(spec: PipelineSpec | str, **flags: bool) -> dict[str, Any]:
        text = spec if isinstance(spec, str) else json.dumps(spec.to_dict())
        return {"spec": text, **flags}

    def create_pipeline(
        self, spec: PipelineSpec | str, *, update: bool = False, reprocess: bool = False
    ) -> PipelineInfo:
        body = self._spec_body(spec, update=update, reprocess=reprocess)
        return decode(PipelineInfo, self.post("/api/v1/pipelines", body))

    def update_pipeline(self, spec: PipelineSpec | str, *, reprocess: bool = False) -> PipelineInfo:
        return self.create_pipeline(spec, update=True, reprocess=reprocess)

    def validate_pipeline(self, spec: PipelineSpec | str) -> PipelineSpec:
        return spec_from_dict(self.post("/api/v1/pipelines/validate", self._spec_body(spec)))

    def preview_update(self, spec: PipelineSpec) -> tuple[int, int]:
        data = self.post("/api/v1/pipelines/preview-update", self._spec_body(spec))
        return int(data["kept"]), int(data["rerun"])

    def dry_run_datums(self, spec: PipelineSpec | str) -> list[dict[str, Any]]:
        return list(self.post("/api/v1/pipelines/dry-run", self._spec_body(spec)))

    def inspect_pipeline(self, name: str, *, project: str = "default") -> PipelineInfo:
        return decode(PipelineInfo, self.get(pipeline_url(project, name)))

    def list_pipeline_versions(
        self, name: str, *, project: str = "default"
    ) -> list[PipelineVersion]:
        url = pipeline_url(project, name) + "/versions"
        return decode_list(PipelineVersion, self.get(url))

    def list_pipeline(self, *, project: str | None = "default") -> list[PipelineInfo]:
        url = "/api/v1/pipelines" if project is None else project_url(project) + "/pipelines"
        return decode_list(PipelineInfo, self.get(url))

    def delete_pipeline(
        self, name: str, *, project: str = "default", keep_repo: bool = False, force: bool = False
    ) -> None:
        self.request(
            "DELETE",
            pipeline_url(project, name),
            params={"keep_repo": keep_repo, "force": force},
        )

    def _pipeline_action(self, name: str, project: str, action: str, **body: Any) -> PipelineInfo:
        url = pipeline_url(project, name) + f"/{action}"
        return decode(PipelineInfo, self.post(url, body))

    def start_pipeline(self, name: str, *, project: str = "default") -> PipelineInfo:
        return self._pipeline_action(name, project, "start")

    def stop_pipeline(self, name: str, *, project: str = "default") -> PipelineInfo:
        return self._pipeline_action(name, project, "stop")

    def rerun_pipeline(
        self, name: str, *, project: str = "default", reprocess: bool = False
    ) -> PipelineInfo:
        return self._pipeline_action(name, project, "rerun", reprocess=reprocess)

    def run_cron(self, pipeline: str, *, project: str = "default") -> list[str]:
        return list(self.post(pipeline_url(project, pipeline) + "/run-cron"))

    # --- jobs, datums, logs ---------------------------------------------------------------

    def list_job(
        self,
        pipeline: str | None = None,
        *,
        job_id: str | None = None,
        project: str = "default",
        number: int = 0,
    ) -> list[JobInfo]:
        data = self.get(
            "/api/v1/jobs", project=project, pipeline=pipeline, job_id=job_id, number=number
        )
        return decode_list(JobInfo, data)

    def _job_url(self, pipeline: str, job_id: str, project: str) -> str:
        return pipeline_url(project, pipeline) + f"/jobs/{ident(job_id)}"

    def inspect_job(self, pipeline: str, job_id: str, *, project: str = "default") -> JobInfo:
        return decode(JobInfo, self.get(self._job_url(pipeline, job_id, project)))

    def wait_job(
        self, pipeline: str, job_id: str, *, project: str = "default", timeout: float | None = None
    ) -> JobInfo:
        url = self._job_url(pipeline, job_id, project) + "/wait"
        return decode(JobInfo, self.post(url, {"timeout": timeout}, wait=True))

    def stop_job(self, pipeline: str, job_id: str, *, project: str = "default") -> JobInfo:
        return decode(JobInfo, self.post(self._job_url(pipeline, job_id, project) + "/stop"))

    def list_datum(
        self,
        pipeline: str,
        job_id: str | None = None,
        *,
        project: str = "default",
        state: str | None = None,
    ) -> list[DatumInfo]:
        if job_id is None:
            url = pipeline_url(project, pipeline) + "/datums"
        else:
            url = self._job_url(pipeline, job_id, project) + "/datums"
        return decode_list(DatumInfo, self.get(url, state=state))

    def inspect_datum(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> DatumInfo:
        url = self._job_url(pipeline, job_id, project) + f"/datums/{ident(datum_id)}"
        return decode(DatumInfo, self.get(url))

    def list_datum_outputs(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> list[FileInfo]:
        url = self._job_url(pipeline, job_id, project) + f"/datums/{ident(datum_id)}/outputs"
        return decode_list(FileInfo, self.get(url))

    def restart_datum(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> DatumInfo:
        url = self._job_url(pipeline, job_id, project) + f"/datums/{ident(datum_id)}/restart"
        return decode(DatumInfo, self.post(url))

    @staticmethod
    def _log_params(filters: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in filters.items() if v not in (None, [], "")}

    def get_logs(
        self,
        *,
        pipeline: str | None = None,
        job_id: str | None = None,
        datum_id: str | None = None,
        inputs: list[str] | None = None,
        tail: int = 0,
        project: str = "default",
        since_id: int = 0,
    ) -> list[tuple[int, LogRecord]]:
        filters: dict[str, Any] = {
            "pipeline": pipeline, "job_id": job_id, "datum_id": datum_id, "inputs": inputs,
            "tail": tail, "project": project, "since_id": since_id,
        }  # fmt: skip
        rows = self.get("/api/v1/logs", **self._log_params(filters))
        return [(int(r.pop("id")), decode(LogRecord, r)) for r in rows]

    def follow_logs(self, poll: float = 0.5, **filters: Any) -> Iterator[LogRecord]:
        """Existing lines, then new ones as the server records them (until interrupted)."""
        params = {**self._log_params(filters), "follow": "true"}
        try:
            with connect_sse(self.http, "GET", "/api/v1/logs", params=params, timeout=None) as src:
                if not src.response.is_success:
                    src.response.read()
                    self.check(src.response)
                for event in src.iter_sse():
                    if event.event == "log":
                        yield decode(LogRecord, json.loads(event.data))
        except httpx.TransportError as err:
            raise self.unreachable(err) from err

    # --- running jobs: the server does; we wait ------------------------------------------

    def pending_jobs(self) -> int:
        return int(self.get("/api/v1/admin/pending-jobs")["pending"])

    def drive(self, *, progress: Progress | None = None) -> list[tuple[str, str]]:
        """Wait until the server's DAG is quiet, reporting running jobs' progress; the
        (pipeline, job ID) pairs that were running meanwhile."""
        seen: dict[tuple[str, str], JobInfo] = {}
        while self.pending_jobs() > 0:
            for job in self._all_jobs():
                if job.state.done:
                    continue
                seen[(job.pipeline, job.id)] = job
                if progress is not None:
                    progress(_progress_of(job))
            time.sleep(WAIT_POLL)
        ran = list(seen)
        if progress is not None:
            for pipeline, job_id in ran:
                project = seen[(pipeline, job_id)].project
                progress(_progress_of(self.inspect_job(pipeline, job_id, project=project)))
        return ran

    def _all_jobs(self) -> list[JobInfo]:
        jobs: list[JobInfo] = []
        for project in self.get("/api/v1/projects"):
            jobs.extend(self.list_job(project=project, number=JOBS_LOOKED_AT))
        return jobs

    def gc(self) -> GCReport:
        return decode(GCReport, self.post("/api/v1/admin/gc", wait=True))

    def fsck(self) -> FsckReport:
        return decode(FsckReport, self.post("/api/v1/admin/fsck", wait=True))


def _progress_of(job: JobInfo) -> JobProgress:
    return JobProgress(
        pipeline=job.pipeline,
        job_id=job.id,
        total=job.data_total,
        processed=job.data_processed,
        skipped=job.data_skipped,
        failed=job.data_failed,
        recovered=job.data_recovered,
        started=job.started or job.created,
        state=job.state,
    )
