"""Jobs: created when input commits land, one per (pipeline, commit set).

When a user commit ``X`` finishes on a branch that pipelines watch, every such pipeline gets
a job ``X`` and an open output commit ``X`` in its output repo, with provenance on the exact
input commits; the same happens transitively downstream, so one ID follows a change through
the whole DAG (``list job X`` shows it all). This runs inside the transaction that finished
the input commit: a crash leaves either the commit *and* its jobs, or neither.

A job is *runnable* once every input commit of its commit set is finished; if one of them
finished with an error (its job failed), the job is UNRUNNABLE and its output commit closes
with that reason, which in turn makes its own downstream jobs unrunnable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from loxo.errors import LoxoError, NotFoundError
from loxo.pfs.api import PFS
from loxo.pfs.core import new_commit_id
from loxo.pfs.db import SQL_INT_MAX
from loxo.pfs.model import CommitID, Origin
from loxo.pfs.paths import validate_name
from loxo.storage.fileset import FileEntry, NodeRef

from .model import InputCommit, JobInfo, JobState
from .spec import CronInput, Input, PfsInput, PipelineSpec, parse_specs

JOB_COLUMNS = (
    "pipeline_id, id, seq, version, state, reason, inputs, created, started, finished, "
    "data_total, data_processed, data_skipped, data_failed, data_recovered, download_bytes, "
    "upload_bytes, download_seconds, process_seconds, upload_seconds"
)


class JobNotFound(NotFoundError):
    def __init__(self, pipeline: str, job: str) -> None:
        super().__init__(f"job {pipeline}@{job} not found; `loxo list job` shows the jobs")


def leaf_inputs(inp: Input | None) -> list[PfsInput | CronInput]:
    """The pfs and cron inputs of an input tree, in order."""
    if inp is None:
        return []
    if inp.pfs is not None:
        return [inp.pfs]
    if inp.cron is not None:
        return [inp.cron]
    out: list[PfsInput | CronInput] = []
    for sub in (*inp.cross, *inp.union, *inp.join, *inp.group):
        out.extend(leaf_inputs(sub))
    return out


def input_branch(leaf: PfsInput | CronInput) -> tuple[str, str, str]:
    """(project, repo, branch) that an input reads."""
    if isinstance(leaf, CronInput):
        return "default", leaf.repo, "master"
    return leaf.project, leaf.repo, leaf.branch


class JobOps(PFS):
    def _spec_of(self, pipeline_id: int, version: int | None = None) -> tuple[PipelineSpec, str]:
        if version is None:
            row = self.db.one("SELECT spec, salt FROM pipelines WHERE id = ?", (pipeline_id,))
        else:
            row = self.db.one(
                "SELECT spec, salt FROM pipeline_versions WHERE pipeline_id = ? AND version = ?",
                (pipeline_id, version),
            )
        return parse_specs(row[0], "stored spec")[0], row[1]

    def _pipeline_name(self, pipeline_id: int) -> tuple[str, str]:
        project, name = self.db.one(
            "SELECT project, name FROM pipelines WHERE id = ?", (pipeline_id,)
        )
        return project, name

    # --- creation -------------------------------------------------------------------

    def _on_head(self, repo_id: int, branch: str, commit_id: CommitID, new_set: bool) -> None:
        watchers = self.db.all(
            "SELECT pipeline_id FROM pipeline_inputs WHERE repo_id = ? AND branch = ?",
            (repo_id, branch),
        )
        set_id = new_commit_id() if new_set else commit_id
        for (pipeline_id,) in watchers:
            self._create_job(pipeline_id, set_id, (repo_id, branch, commit_id))

    def _create_job(
        self,
        pipeline_id: int,
        set_id: str,
        trigger: tuple[int, str, str] | None,
    ) -> bool:
        """Create job ``set_id`` of a pipeline and, transitively, of its downstream."""
        if (
            self.db.one(
                "SELECT 1 FROM jobs WHERE pipeline_id = ? AND id = ?", (pipeline_id, set_id)
            )
            or self.db.one("SELECT stopped FROM pipelines WHERE id = ?", (pipeline_id,))[0]
        ):
            return False
        spec, _ = self._spec_of(pipeline_id)
        version = self.db.one("SELECT version FROM pipelines WHERE id = ?", (pipeline_id,))[0]
        inputs = self._resolve_inputs(spec, set_id, trigger)
        provenance = [(i["repo_id"], i["commit"]) for i in inputs if i["commit"] is not None]
        if trigger is None and not provenance:
            return False  # nothing to process yet
        out_project, out_repo = spec.project, spec.name
        self.start_commit(
            out_repo,
            spec.output_branch,
            project=out_project,
            commit_id=set_id,
            origin=Origin.AUTO,
            provenance=sorted(set(provenance)),
        )
        seq = self.db.one("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs")[0]
        self.db.execute(
            "INSERT INTO jobs (pipeline_id, id, seq, version, state, inputs, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (pipeline_id, set_id, seq, version, str(JobState.CREATED), json.dumps(inputs),
             time.time()),
        )  # fmt: skip
        out_repo_id = self._repo_id(out_repo, out_project)
        for (downstream,) in self.db.all(
            "SELECT pipeline_id FROM pipeline_inputs WHERE repo_id = ? AND branch = ?",
            (out_repo_id, spec.output_branch),
        ):
            self._create_job(downstream, set_id, (out_repo_id, spec.output_branch, set_id))
        return True

    def _resolve_inputs(
        self, spec: PipelineSpec, set_id: str | None, trigger: tuple[int, str, str] | None
    ) -> list[dict[str, Any]]:
        """The exact commit each input reads: the trigger, a sibling of the same commit set
        (diamond DAGs), or the newest finished commit of the input branch."""
        inputs: list[dict[str, Any]] = []
        for leaf in leaf_inputs(spec.input):
            project, repo, branch = input_branch(leaf)
            repo_id = self._repo_id(repo, project)
            commit: str | None
            if trigger is not None and trigger[:2] == (repo_id, branch):
                commit = trigger[2]
            elif set_id is not None and self._commit_row(repo_id, set_id) is not None:
                commit = set_id
            else:
                commit = self._branch_head(repo_id, branch)[1]
                row = self._commit_row(repo_id, commit) if commit else None
                while row is not None and row.is_open and row.origin == Origin.USER:
                    commit = row.parent
                    row = self._commit_row(repo_id, commit) if commit else None
            inputs.append(
                {"name": leaf.name, "project": project, "repo": repo, "branch": branch,
                 "commit": commit, "repo_id": repo_id}
            )  # fmt: skip
        return inputs

    def _listing(
        self, inputs: list[dict[str, Any]]
    ) -> Callable[[PfsInput | CronInput], Iterator[FileEntry]]:
        """Entries of each input's commit, for datum iteration."""
        roots: dict[str, NodeRef | None] = {}
        for i in inputs:
            row = self._commit_row(i["repo_id"], i["commit"]) if i["commit"] else None
            roots[i["name"]] = row.root_ref if row is not None else None

        def listing(leaf: PfsInput | CronInput) -> Iterator[FileEntry]:
            return self._reader(roots.get(leaf.name)).iter()

        return listing

    @staticmethod
    def _commits(inputs: list[dict[str, Any]]) -> dict[str, str]:
        return {i["name"]: i["commit"] or "" for i in inputs}

    def _base(
        self, pid: int, seq: int | None
    ) -> tuple[str | None, dict[str, tuple[str, str, bytes]]]:
        """The base job (latest successful job before ``seq``) and its datums."""
        row = self.db.one(
            "SELECT id FROM jobs WHERE pipeline_id = ? AND seq < ? AND state = 'SUCCESS' "
            "ORDER BY seq DESC LIMIT 1",
            (pid, seq if seq is not None else 1 << 62),
        )
        if row is None:
            return None, {}
        rows = self.db.all(
            "SELECT datum_id, hash, state, output_root FROM datums "
            "WHERE pipeline_id = ? AND job_id = ?",
            (pid, row[0]),
        )
        return row[0], {d: (h, s, r) for d, h, s, r in rows}

    # --- queries --------------------------------------------------------------------

    def _job_info(self, row: tuple[Any, ...]) -> JobInfo:
        project, name = self._pipeline_name(row[0])
        inputs = [
            InputCommit(i["name"], i["repo"], i["branch"], i["commit"], i["project"])
            for i in json.loads(row[6])
        ]
        return JobInfo(
            pipeline=name, project=project, id=row[1], version=row[3], state=JobState(row[4]),
            reason=row[5], output_commit=row[1], inputs=inputs, created=row[7],
            started=row[8], finished=row[9], data_total=row[10], data_processed=row[11],
            data_skipped=row[12], data_failed=row[13], data_recovered=row[14],
            download_bytes=row[15], upload_bytes=row[16], download_seconds=row[17],
            process_seconds=row[18], upload_seconds=row[19],
        )  # fmt: skip

    def _pipeline_id(self, name: str, project: str = "default") -> int:
        row = self.db.one(
            "SELECT id FROM pipelines WHERE project = ? AND name = ?", (project, name)
        )
        if row is None:
            from .pipelines import PipelineNotFound

            validate_name("pipeline", name)  # a name that cannot exist: say why
            raise PipelineNotFound(name)
        return int(row[0])

    def inspect_job(self, pipeline: str, job_id: str, *, project: str = "default") -> JobInfo:
        pid = self._pipeline_id(pipeline, project)
        row = self.db.one(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE pipeline_id = ? AND id = ?", (pid, job_id)
        )
        if row is None:
            raise JobNotFound(pipeline, job_id)
        return self._job_info(row)

    def list_job(
        self,
        pipeline: str | None = None,
        *,
        job_id: str | None = None,
        project: str = "default",
        number: int = 0,
    ) -> list[JobInfo]:
        """Jobs newest first: of one pipeline, of one commit set (``job_id``), or all."""
        sql = f"SELECT {JOB_COLUMNS} FROM jobs"
        where: list[str] = []
        args: list[Any] = []
        if pipeline is not None:
            where.append("pipeline_id = ?")
            args.append(self._pipeline_id(pipeline, project))
        if job_id is not None:
            where.append("id = ?")
            args.append(job_id)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC"
        if number:
            sql += f" LIMIT {min(int(number), SQL_INT_MAX)}"  # more than there can be: all
        return [self._job_info(r) for r in self.db.all(sql, args)]

    def stop_job(self, pipeline: str, job_id: str, *, project: str = "default") -> JobInfo:
        """Ask the job's driver to kill it (a job not yet running is killed at once)."""
        info = self.inspect_job(pipeline, job_id, project=project)
        pid = self._pipeline_id(pipeline, project)
        if info.state.done:
            return info
        with self.db.tx():
            self.db.execute(
                "UPDATE jobs SET stop_requested = 1 WHERE pipeline_id = ? AND id = ?",
                (pid, job_id),
            )
            if info.state == JobState.CREATED:
                self._end_job(pid, job_id, JobState.KILLED, "stopped by the user", None)
        return self.inspect_job(pipeline, job_id, project=project)

    def _end_job(
        self, pipeline_id: int, job_id: str, state: JobState, reason: str, root: Any
    ) -> None:
        """Close a job and its output commit (with the reason as error unless SUCCESS)."""
        project, name = self._pipeline_name(pipeline_id)
        with self.db.tx():
            self.db.execute(
                "UPDATE jobs SET state = ?, reason = ?, finished = ?, driver = NULL "
                "WHERE pipeline_id = ? AND id = ?",
                (str(state), reason, time.time(), pipeline_id, job_id),
            )
            repo_id = self._repo_id(name, project)
            row = self._commit_row(repo_id, job_id)
            if row is not None and row.is_open:
                error = "" if state == JobState.SUCCESS else f"{state}: {reason}"
                if state != JobState.SUCCESS and root is None:
                    parent = self._commit_row(repo_id, row.parent) if row.parent else None
                    while parent is not None and parent.is_open and parent.parent:
                        parent = self._commit_row(repo_id, parent.parent)
                    root = parent.root_ref if parent is not None and not parent.is_open else None
                self.finish_commit_root(repo_id, job_id, root, error)

    def wait_job(
        self, pipeline: str, job_id: str, *, project: str = "default", timeout: float | None = None
    ) -> JobInfo:
        """Run pending jobs here (embedded) and return once this job is done."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            info = self.inspect_job(pipeline, job_id, project=project)
            if info.state.done:
                return info
            if getattr(self, "drives_inline", True):
                self.drive()  # type: ignore[attr-defined]
            if deadline is not None and time.monotonic() > deadline:
                raise LoxoError(f"job {pipeline}@{job_id} still {info.state} after {timeout}s")
            time.sleep(0.05)
