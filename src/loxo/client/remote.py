"""The remote client: the service's methods over ``loxo serve``'s HTTP API.

:class:`RemoteService` has the embedded :class:`~loxo.service.Service`'s public methods with
the same arguments, results (records decoded by :mod:`.wire`) and exceptions (the same
classes, from the server's error bodies), so the CLI and user code run unchanged in both
modes. Jobs run on the server: :meth:`RemoteService.drive` waits for them instead of
running them. File bytes stream both ways; writes go through upload sessions
(:mod:`.remote_files`) that become one commit when closed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from httpx_sse import connect_sse

from loxo.errors import InvalidArgumentError, LoxoError, TransientError
from loxo.pfs.model import (
    BranchInfo,
    CommitInfo,
    DiffEntry,
    FileInfo,
    FsckReport,
    GCReport,
    RepoInfo,
)
from loxo.pps.model import (
    DatumInfo,
    JobInfo,
    JobProgress,
    LogRecord,
    PipelineInfo,
    PipelineVersion,
)
from loxo.pps.spec import PipelineSpec, spec_from_dict
from loxo.storage.fileset import FileEntry

from .remote_files import RemoteModifyFile, extract_tar, stream_file
from .wire import decode, decode_list, error_from

Progress = Callable[[JobProgress], None]
WAIT_POLL = 0.25  # seconds between looks at the server's jobs while waiting for them
CHUNK = 1 << 20
JOBS_LOOKED_AT = 200  # newest jobs per project scanned for running ones while waiting


class RemoteService:
    """The service of a loxo server at ``address`` (``http://host:port``)."""

    def __init__(self, address: str, *, token: str | None = None, timeout: float = 60.0) -> None:
        if not address.startswith(("http://", "https://")):
            raise InvalidArgumentError(
                f"server address {address!r} must start with http:// or https://"
            )
        self.address = address.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.address, headers=headers, timeout=timeout)

    # --- transport -----------------------------------------------------------------

    def request(self, method: str, url: str, *, wait: bool = False, **kw: Any) -> Any:
        """The JSON body of a successful request; a loxo error otherwise."""
        try:
            response = self.http.request(
                method, url, timeout=None if wait else httpx.USE_CLIENT_DEFAULT, **kw
            )
        except httpx.TransportError as err:
            raise self.unreachable(err) from err
        self.check(response)
        return response.json()

    def check(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            body = response.json()
        except ValueError:
            body = {"error": {"message": f"HTTP {response.status_code}: {response.text[:200]}"}}
        raise error_from(body)

    def unreachable(self, err: Exception) -> LoxoError:
        return TransientError(
            f"cannot reach the loxo server at {self.address}: {err or type(err).__name__}; "
            "is `loxo serve` running there? (LOXO_ADDRESS / `loxo config set address`)"
        )

    def get(self, url: str, **params: Any) -> Any:
        return self.request("GET", url, params={k: v for k, v in params.items() if v is not None})

    def post(self, url: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.request("POST", url, json=body or {}, **kw)

    def close(self) -> None:
        self.http.close()

    # --- projects, repos, branches ------------------------------------------------------

    def list_project(self) -> list[str]:
        return list(self.get("/api/v1/projects"))

    def create_project(self, name: str, description: str = "") -> None:
        self.post("/api/v1/projects", {"name": name, "description": description})

    def create_repo(
        self,
        name: str,
        description: str = "",
        *,
        project: str = "default",
        update: bool = False,
        repo_type: str = "user",
    ) -> RepoInfo:
        body = {"name": name, "description": description, "update": update, "type": repo_type}
        return decode(RepoInfo, self.post(f"/api/v1/projects/{project}/repos", body))

    def inspect_repo(self, name: str, *, project: str = "default") -> RepoInfo:
        return decode(RepoInfo, self.get(f"/api/v1/projects/{project}/repos/{name}"))

    def list_repo(
        self, *, project: str | None = "default", all_types: bool = False
    ) -> list[RepoInfo]:
        url = "/api/v1/repos" if project is None else f"/api/v1/projects/{project}/repos"
        return decode_list(RepoInfo, self.get(url, all_types=all_types))

    def update_repo(self, name: str, description: str, *, project: str = "default") -> RepoInfo:
        body = {"description": description}
        url = f"/api/v1/projects/{project}/repos/{name}"
        return decode(RepoInfo, self.request("PUT", url, json=body))

    def delete_repo(self, name: str, *, project: str = "default", force: bool = False) -> None:
        url = f"/api/v1/projects/{project}/repos/{name}"
        self.request("DELETE", url, params={"force": force})

    def create_branch(
        self,
        repo: str,
        branch: str,
        *,
        head: str | None = None,
        project: str = "default",
        must_not_exist: bool = False,
    ) -> BranchInfo:
        body = {"name": branch, "head": head, "must_not_exist": must_not_exist}
        url = f"/api/v1/projects/{project}/repos/{repo}/branches"
        return decode(BranchInfo, self.post(url, body))

    def inspect_branch(
        self, repo: str, branch: str = "master", *, project: str = "default"
    ) -> BranchInfo:
        url = f"/api/v1/projects/{project}/repos/{repo}/branches/{branch}"
        return decode(BranchInfo, self.get(url))

    def list_branch(self, repo: str, *, project: str = "default") -> list[BranchInfo]:
        url = f"/api/v1/projects/{project}/repos/{repo}/branches"
        return decode_list(BranchInfo, self.get(url))

    def delete_branch(self, repo: str, branch: str, *, project: str = "default") -> None:
        self.request("DELETE", f"/api/v1/projects/{project}/repos/{repo}/branches/{branch}")

    # --- commits ----------------------------------------------------------------------

    def start_commit(
        self,
        repo: str,
        branch: str = "master",
        *,
        description: str = "",
        project: str = "default",
        **_: Any,
    ) -> CommitInfo:
        body = {"repo": repo, "branch": branch, "description": description, "project": project}
        return decode(CommitInfo, self.post("/api/v1/commit/start", body))

    def finish_commit(
        self, ref: Any, *, description: str | None = None, error: str = ""
    ) -> CommitInfo:
        body = {"ref": str(ref), "description": description, "error": error}
        return decode(CommitInfo, self.post("/api/v1/commit/finish", body))

    def inspect_commit(self, ref: Any) -> CommitInfo:
        return decode(CommitInfo, self.get("/api/v1/commit", ref=str(ref)))

    def list_commit(
        self,
        repo: str | None = None,
        *,
        number: int = 0,
        from_commit: str | None = None,
        project: str = "default",
    ) -> list[CommitInfo]:
        data = self.get(
            "/api/v1/commits", project=project, repo=repo, number=number, from_commit=from_commit
        )
        return decode_list(CommitInfo, data)

    def wait_commit(self, ref: Any, *, timeout: float | None = None) -> CommitInfo:
        body = {"ref": str(ref), "timeout": timeout}
        return decode(CommitInfo, self.post("/api/v1/commit/wait", body, wait=True))

    def squash_commit(self, ref: str) -> list[CommitInfo]:
        return decode_list(CommitInfo, self.post("/api/v1/commit/squash", {"ref": ref}))

    def delete_commit(self, ref: str) -> list[CommitInfo]:
        return decode_list(CommitInfo, self.post("/api/v1/commit/delete", {"ref": ref}))

    def list_commit_set(self, commit_id: str) -> list[CommitInfo]:
        return decode_list(CommitInfo, self.get(f"/api/v1/commitsets/{commit_id}"))

    def wait_commit_set(self, commit_id: str, *, timeout: float | None = None) -> list[CommitInfo]:
        url = f"/api/v1/commitsets/{commit_id}/wait"
        return decode_list(CommitInfo, self.post(url, {"timeout": timeout}, wait=True))

    # --- files ------------------------------------------------------------------------

    def modify_file(
        self, ref: str, *, description: str = "", progress: Callable[[int], None] | None = None
    ) -> RemoteModifyFile:
        return RemoteModifyFile(self, ref, description=description, progress=progress)

    def put_file(
        self, ref: str, path: str, data: bytes | BinaryIO, *, append: bool = False
    ) -> CommitInfo:
        content = data if isinstance(data, bytes) else stream_file(data)
        params = {"ref": ref, "path": path, "append": append}
        return decode(
            CommitInfo,
            self.request("PUT", "/api/v1/files/content", params=params, content=content, wait=True),
        )

    def iter_file(self, ref: Any, path: str | None = None) -> Iterator[bytes]:
        params = {"ref": str(ref), **({"path": path} if path else {})}
        try:
            request = self.http.build_request("GET", "/api/v1/files/content", params=params)
            response = self.http.send(request, stream=True)
        except httpx.TransportError as err:
            raise self.unreachable(err) from err
        if not response.is_success:
            response.read()
            response.close()
            self.check(response)
        return self._chunks(response)

    def _chunks(self, response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(CHUNK)
        except httpx.TransportError as err:
            raise self.unreachable(err) from err
        finally:
            response.close()

    def get_file(self, ref: Any, path: str | None = None) -> bytes:
        return b"".join(self.iter_file(ref, path))

    def _tar_stream(self, ref: str, path: str | None) -> Iterator[bytes]:
        params = {"ref": ref, **({"path": path} if path else {})}
        try:
            with self.http.stream("GET", "/api/v1/files/tar", params=params, timeout=None) as r:
                if not r.is_success:
                    r.read()
                    self.check(r)
                yield from r.iter_bytes(CHUNK)
        except httpx.TransportError as err:
            raise self.unreachable(err) from err

    def get_file_tar(self, ref: str, path: str | None, out: BinaryIO) -> int:
        """Write the tar stream to ``out``; the number of files in it."""
        files = 0
        for chunk in self._tar_stream(ref, path):
            out.write(chunk)
        for _ in self.walk_files(ref, path):
            files += 1
        return files

    def get_file_to_dir(
        self,
        ref: str,
        path: str | None,
        dest: str | Path,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        return extract_tar(self._tar_stream(ref, path), Path(dest), progress)

    def list_file(self, ref: Any, path: str | None = None) -> list[FileInfo]:
        return decode_list(FileInfo, self.get("/api/v1/files/list", ref=str(ref), path=path))

    def inspect_file(self, ref: Any, path: str | None = None) -> FileInfo:
        return decode(FileInfo, self.get("/api/v1/files/info", ref=str(ref), path=path))

    def walk_files(self, ref: Any, path: str | None = None) -> Iterator[FileEntry]:
        for e in self.get("/api/v1/files/walk", ref=str(ref), path=path):
            yield FileEntry(e["path"], e["size"], e["hash"], ())

    def glob_file(self, ref: Any, pattern: str) -> list[FileInfo]:
        return decode_list(FileInfo, self.get("/api/v1/files/glob", ref=str(ref), pattern=pattern))

    def diff_file(
        self, new_ref: str, old_ref: str | None = None, path: str | None = None
    ) -> list[DiffEntry]:
        data = self.get("/api/v1/files/diff", new=new_ref, old=old_ref, path=path)
        return decode_list(DiffEntry, data)

    def delete_file(self, ref: str, path: str) -> CommitInfo:
        params = {"ref": ref, "path": path}
        return decode(CommitInfo, self.request("DELETE", "/api/v1/files", params=params))

    def copy_file(self, src: str, dst_ref: str, dst_path: str) -> CommitInfo:
        body = {"src": src, "dst_ref": dst_ref, "dst_path": dst_path}
        return decode(CommitInfo, self.post("/api/v1/files/copy", body))

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
        return decode(PipelineInfo, self.get(f"/api/v1/projects/{project}/pipelines/{name}"))

    def list_pipeline_versions(
        self, name: str, *, project: str = "default"
    ) -> list[PipelineVersion]:
        url = f"/api/v1/projects/{project}/pipelines/{name}/versions"
        return decode_list(PipelineVersion, self.get(url))

    def list_pipeline(self, *, project: str | None = "default") -> list[PipelineInfo]:
        url = "/api/v1/pipelines" if project is None else f"/api/v1/projects/{project}/pipelines"
        return decode_list(PipelineInfo, self.get(url))

    def delete_pipeline(
        self, name: str, *, project: str = "default", keep_repo: bool = False, force: bool = False
    ) -> None:
        self.request(
            "DELETE",
            f"/api/v1/projects/{project}/pipelines/{name}",
            params={"keep_repo": keep_repo, "force": force},
        )

    def _pipeline_action(self, name: str, project: str, action: str, **body: Any) -> PipelineInfo:
        url = f"/api/v1/projects/{project}/pipelines/{name}/{action}"
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
        return list(self.post(f"/api/v1/projects/{project}/pipelines/{pipeline}/run-cron"))

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
        return f"/api/v1/projects/{project}/pipelines/{pipeline}/jobs/{job_id}"

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
            url = f"/api/v1/projects/{project}/pipelines/{pipeline}/datums"
        else:
            url = self._job_url(pipeline, job_id, project) + "/datums"
        return decode_list(DatumInfo, self.get(url, state=state))

    def inspect_datum(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> DatumInfo:
        url = self._job_url(pipeline, job_id, project) + f"/datums/{datum_id}"
        return decode(DatumInfo, self.get(url))

    def list_datum_outputs(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> list[FileInfo]:
        url = self._job_url(pipeline, job_id, project) + f"/datums/{datum_id}/outputs"
        return decode_list(FileInfo, self.get(url))

    def restart_datum(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> DatumInfo:
        url = self._job_url(pipeline, job_id, project) + f"/datums/{datum_id}/restart"
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
        for project in self.list_project():
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
