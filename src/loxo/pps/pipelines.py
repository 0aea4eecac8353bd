"""Pipelines: create, update, inspect, list, delete, stop and start.

Creating a pipeline checks its spec against the store (input repos exist, no cycle), makes
its output repo (type ``output``), records version 1 with a salt, and creates a first job
over the current input heads. Every update is a new version; ``reprocess`` replaces the salt,
so every datum hash changes and everything runs again, otherwise existing datums stay
skipped. Stopping a pipeline kills its running jobs and creates no new ones; starting it
again makes one catch-up job on the current inputs.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from loxo.errors import AlreadyExistsError, HasDependents, InvalidArgumentError, NotFoundError
from loxo.execution.registry import executor_class
from loxo.pfs.core import new_commit_id

from .datums import iter_datums
from .jobs import JobOps, input_branch, leaf_inputs
from .model import JobState, PipelineInfo, PipelineState, PipelineVersion
from .plan import plan_job
from .spec import PipelineSpec, parse_specs

DONE = "('SUCCESS', 'FAILURE', 'KILLED', 'UNRUNNABLE')"
# request flags of `pachctl create pipeline`, not properties of the pipeline
IGNORED_FIELDS = frozenset({"update", "reprocess"})


class PipelineNotFound(NotFoundError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"pipeline {name!r} not found; `loxo list pipeline` shows them")


class InvalidPipeline(InvalidArgumentError):
    pass


class PipelineOps(JobOps):
    # --- validation against the store --------------------------------------------------

    def _check_inputs(self, spec: PipelineSpec, pipeline_id: int | None) -> list[tuple[int, str]]:
        """(repo id, branch) of every input; errors for missing repos and cycles."""
        watched: list[tuple[int, str]] = []
        for leaf in leaf_inputs(spec.input):
            project, repo, branch = input_branch(leaf)
            if (project, repo) == (spec.project, spec.name):
                raise InvalidPipeline(
                    f"pipeline {spec.name!r} cannot read its own output repo {repo!r}"
                )
            row = self.db.one(
                "SELECT id FROM repos WHERE project = ? AND name = ?", (project, repo)
            )
            if row is None:
                if leaf.__class__.__name__ == "CronInput":
                    self.create_repo(repo, f"cron ticks of pipeline {spec.name}", project=project)
                    row = self.db.one(
                        "SELECT id FROM repos WHERE project = ? AND name = ?", (project, repo)
                    )
                else:
                    raise InvalidPipeline(
                        f"input repo {repo!r} of pipeline {spec.name!r} not found "
                        f"(input {leaf.name!r}); create it with `loxo create repo {repo}`"
                    )
            watched.append((int(row[0]), branch))
        self._check_cycle(spec, {r for r, _ in watched})
        return watched

    def _check_supported(self, spec: PipelineSpec) -> None:
        """Refuse spec fields the configured executor cannot honour (never ignore them)."""
        name = getattr(self, "executor_name", "local")
        supported = executor_class(name).supported_fields
        asked = {k for k in spec.extra if k not in IGNORED_FIELDS and k != "transform"}
        asked |= {f"transform.{k}" for k in spec.extra.get("transform", {}) if k not in ("debug",)}
        refused = sorted(asked - supported)
        if spec.datum_set_spec.per_worker and spec.datum_set_spec.number:
            raise InvalidPipeline("datum_set_spec: give either number or per_worker, not both")
        if refused:
            raise InvalidPipeline(
                f"pipeline {spec.name!r}: field {refused[0]!r} is not supported by the "
                f"{name!r} executor; remove it (or use an executor that supports it)"
            )

    def _check_cycle(self, spec: PipelineSpec, input_repo_ids: set[int]) -> None:
        """The output repo must not be upstream of any input."""
        out = self.db.one(
            "SELECT id FROM repos WHERE project = ? AND name = ?", (spec.project, spec.name)
        )
        if out is None:
            return
        seen: set[int] = set()
        frontier = set(input_repo_ids)
        while frontier:
            repo_id = frontier.pop()
            if repo_id == out[0]:
                raise InvalidPipeline(
                    f"pipeline {spec.name!r} would make a cycle: its output repo feeds one of "
                    "its own inputs"
                )
            if repo_id in seen:
                continue
            seen.add(repo_id)
            # which pipeline writes this repo, and what does it read?
            for (ins,) in self.db.all(
                "SELECT i.repo_id FROM pipelines p JOIN repos r ON r.project = p.project "
                "AND r.name = p.name JOIN pipeline_inputs i ON i.pipeline_id = p.id "
                "WHERE r.id = ?",
                (repo_id,),
            ):
                frontier.add(ins)

    # --- lifecycle ----------------------------------------------------------------------

    def create_pipeline(
        self, spec: PipelineSpec | str, *, update: bool = False, reprocess: bool = False
    ) -> PipelineInfo:
        """Create (or with ``update``, replace) a pipeline from a spec or spec text."""
        if isinstance(spec, str):
            specs = parse_specs(spec)
            if len(specs) != 1:
                raise InvalidPipeline(f"expected one pipeline spec, got {len(specs)}")
            spec = specs[0]
        now = time.time()
        with self.db.tx():
            row = self.db.one(
                "SELECT id, version, salt FROM pipelines WHERE project = ? AND name = ?",
                (spec.project, spec.name),
            )
            if row is not None and not update:
                raise AlreadyExistsError(
                    f"pipeline {spec.name!r} already exists; use `loxo update pipeline`"
                )
            if row is None and update:
                raise PipelineNotFound(spec.name)
            watched = self._check_inputs(spec, row[0] if row else None)
            self._check_supported(spec)
            if row is None:
                if self.db.one(
                    "SELECT 1 FROM repos WHERE project = ? AND name = ?", (spec.project, spec.name)
                ):
                    raise AlreadyExistsError(
                        f"repo {spec.name!r} already exists; a pipeline's output repo takes "
                        "the pipeline's name"
                    )
                self.create_repo(
                    spec.name, f"output of pipeline {spec.name}", project=spec.project,
                    repo_type="output",
                )  # fmt: skip
                salt = spec.salt or uuid.uuid4().hex
                self.db.execute(
                    "INSERT INTO pipelines (project, name, version, spec, salt, created, updated) "
                    "VALUES (?, ?, 1, ?, ?, ?, ?)",
                    (spec.project, spec.name, json.dumps(spec.to_dict()), salt, now, now),
                )
                pid, version = self._pipeline_id(spec.name, spec.project), 1
            else:
                pid, version = int(row[0]), int(row[1]) + 1
                salt = uuid.uuid4().hex if reprocess else (spec.salt or row[2])
                self.db.execute(
                    "UPDATE pipelines SET version = ?, spec = ?, salt = ?, updated = ? "
                    "WHERE id = ?",
                    (version, json.dumps(spec.to_dict()), salt, now, pid),
                )
            self.db.execute(
                "INSERT INTO pipeline_versions VALUES (?, ?, ?, ?, ?)",
                (pid, version, json.dumps(spec.to_dict()), salt, now),
            )
            self.db.execute("DELETE FROM pipeline_inputs WHERE pipeline_id = ?", (pid,))
            self.db.executemany(
                "INSERT OR IGNORE INTO pipeline_inputs VALUES (?, ?, ?)",
                [(pid, r, b) for r, b in watched],
            )
            self._create_job(pid, new_commit_id(), None)
        return self.inspect_pipeline(spec.name, project=spec.project)

    def update_pipeline(self, spec: PipelineSpec | str, *, reprocess: bool = False) -> PipelineInfo:
        return self.create_pipeline(spec, update=True, reprocess=reprocess)

    def preview_update(self, spec: PipelineSpec) -> tuple[int, int]:
        """(datums kept, datums to rerun) if ``spec`` replaced the pipeline now."""
        pid = self._pipeline_id(spec.name, spec.project)
        _, salt = self._spec_of(pid)
        inputs = self._resolve_inputs(spec, None, None)
        datums = iter_datums(spec.input, self._listing(inputs), self._commits(inputs))  # type: ignore[arg-type]
        current = [(d.id, d.hash(salt)) for d in datums]
        _, base = self._base(pid, None)
        plan = plan_job(current, {k: (v[0], v[1]) for k, v in base.items()},
                        every_job=spec.reprocess_spec == "every_job")  # fmt: skip
        return len(plan.skip), len(plan.run)

    def dry_run_datums(self, spec: PipelineSpec | str) -> list[dict[str, Any]]:
        """The datums ``spec`` would have on the current inputs, without creating anything."""
        if isinstance(spec, str):
            spec = parse_specs(spec)[0]
        with self.db.tx():
            for leaf in leaf_inputs(spec.input):
                project, repo, _ = input_branch(leaf)
                if not self.db.one(
                    "SELECT 1 FROM repos WHERE project = ? AND name = ?", (project, repo)
                ):
                    raise InvalidPipeline(f"input repo {repo!r} not found (input {leaf.name!r})")
        inputs = self._resolve_inputs(spec, None, None)
        datums = iter_datums(spec.input, self._listing(inputs), self._commits(inputs))  # type: ignore[arg-type]
        return [
            {"id": d.id, "inputs": [{"name": i.name, "repo": i.repo, "path": i.path,
                                     "files": len(i.files)} for i in d.inputs]}
            for d in datums
        ]  # fmt: skip

    def validate_pipeline(self, spec: PipelineSpec | str) -> PipelineSpec:
        """Check a spec against the store (inputs exist, no cycle) without changing it."""
        if isinstance(spec, str):
            specs = parse_specs(spec)
            if len(specs) != 1:
                raise InvalidPipeline(f"expected one pipeline spec, got {len(specs)}")
            spec = specs[0]
        for leaf in leaf_inputs(spec.input):
            project, repo, _ = input_branch(leaf)
            if leaf.__class__.__name__ == "PfsInput" and not self.db.one(
                "SELECT 1 FROM repos WHERE project = ? AND name = ?", (project, repo)
            ):
                raise InvalidPipeline(
                    f"input repo {repo!r} of pipeline {spec.name!r} not found "
                    f"(input {leaf.name!r}); create it with `loxo create repo {repo}`"
                )
        self._check_cycle(spec, set())
        return spec

    def list_pipeline_versions(
        self, name: str, *, project: str = "default"
    ) -> list[PipelineVersion]:
        """Every version of a pipeline, newest first, with its spec."""
        pid = self._pipeline_id(name, project)
        rows = self.db.all(
            "SELECT version, spec, salt, created FROM pipeline_versions WHERE pipeline_id = ? "
            "ORDER BY version DESC",
            (pid,),
        )
        return [
            PipelineVersion(name, project, v, json.loads(spec), salt, created)
            for v, spec, salt, created in rows
        ]

    def inspect_pipeline(self, name: str, *, project: str = "default") -> PipelineInfo:
        pid = self._pipeline_id(name, project)
        version, spec_text, salt, stopped, created, updated = self.db.one(
            "SELECT version, spec, salt, stopped, created, updated FROM pipelines WHERE id = ?",
            (pid,),
        )
        last = self.db.one(
            "SELECT id, state FROM jobs WHERE pipeline_id = ? ORDER BY seq DESC LIMIT 1", (pid,)
        )
        spec: dict[str, Any] = json.loads(spec_text)
        state = PipelineState.PAUSED if stopped else PipelineState.RUNNING
        if (
            state == PipelineState.RUNNING
            and spec.get("autoscaling")
            and not self.db.one(
                f"SELECT 1 FROM jobs WHERE pipeline_id = ? AND state NOT IN {DONE}", (pid,)
            )
        ):
            state = PipelineState.STANDBY  # scaled to zero while idle
        return PipelineInfo(
            name=name, project=project, version=version, state=state,
            description=spec.get("description", ""), created=created, updated=updated,
            last_job_state=JobState(last[1]) if last else None,
            last_job_id=last[0] if last else None, spec=spec, salt=salt,
            inputs=[f"{r}@{b}" for _, r, b in
                    (input_branch(x) for x in leaf_inputs(parse_specs(spec_text)[0].input))],
        )  # fmt: skip

    def list_pipeline(self, *, project: str | None = "default") -> list[PipelineInfo]:
        rows = self.db.all(
            "SELECT project, name FROM pipelines"
            + (" WHERE project = ?" if project else "")
            + " ORDER BY created DESC",
            (project,) if project else (),
        )
        return [self.inspect_pipeline(n, project=p) for p, n in rows]

    def delete_pipeline(
        self, name: str, *, project: str = "default", keep_repo: bool = False, force: bool = False
    ) -> None:
        pid = self._pipeline_id(name, project)
        with self.db.tx():
            downstream = self.db.all(
                "SELECT p.name FROM pipeline_inputs i JOIN pipelines p ON p.id = i.pipeline_id "
                "JOIN repos r ON r.id = i.repo_id WHERE r.project = ? AND r.name = ?",
                (project, name),
            )
            if downstream and not force:
                raise HasDependents(
                    f"pipeline {name!r}",
                    f"pipeline {downstream[0][0]!r} reads its output; delete that first",
                )
            for (job_id,) in self.db.all(
                f"SELECT id FROM jobs WHERE pipeline_id = ? AND state NOT IN {DONE}", (pid,)
            ):
                self._end_job(pid, job_id, JobState.KILLED, "the pipeline was deleted", None)
            for table in ("logs", "datums", "jobs", "pipeline_inputs", "pipeline_versions"):
                self.db.execute(f"DELETE FROM {table} WHERE pipeline_id = ?", (pid,))
            self.db.execute("DELETE FROM pipelines WHERE id = ?", (pid,))
            if not keep_repo:
                self.delete_repo(name, project=project, force=True)

    def stop_pipeline(self, name: str, *, project: str = "default") -> PipelineInfo:
        pid = self._pipeline_id(name, project)
        with self.db.tx():
            self.db.execute("UPDATE pipelines SET stopped = 1 WHERE id = ?", (pid,))
            for (job_id,) in self.db.all(
                "SELECT id FROM jobs WHERE pipeline_id = ? AND state NOT IN "
                "('SUCCESS', 'FAILURE', 'KILLED', 'UNRUNNABLE')",
                (pid,),
            ):
                self.stop_job(name, job_id, project=project)
        return self.inspect_pipeline(name, project=project)

    def start_pipeline(self, name: str, *, project: str = "default") -> PipelineInfo:
        pid = self._pipeline_id(name, project)
        with self.db.tx():
            self.db.execute("UPDATE pipelines SET stopped = 0 WHERE id = ?", (pid,))
            self._create_job(pid, new_commit_id(), None)
        return self.inspect_pipeline(name, project=project)

    def rerun_pipeline(
        self, name: str, *, project: str = "default", reprocess: bool = False
    ) -> PipelineInfo:
        """A new job on the current inputs (failed datums run again; with ``reprocess``,
        every datum does)."""
        spec, _ = self._spec_of(self._pipeline_id(name, project))
        if reprocess:
            return self.update_pipeline(spec, reprocess=True)
        pid = self._pipeline_id(name, project)
        with self.db.tx():
            self._create_job(pid, new_commit_id(), None)
        return self.inspect_pipeline(name, project=project)
