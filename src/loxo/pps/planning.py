"""Planning a job in the database: its datums, their fates, and the rows that record them.

A job is planned against its **base job** (the latest earlier successful job of the
pipeline) in one of two ways, which give the same plan (property-tested):

- **by commit diff**, when that is provably equivalent: the input is one ``pfs`` input or a
  union of them (whose datums are each leaf's in turn), and the base job ran the same input
  spec with the same salt over earlier commits of them. Only the datums the fileset diffs
  touch are built (:mod:`~loxo.pps.delta`); every other base datum is unchanged and
  skippable, so it is *carried*: counted, never listed;
- **by a full listing** otherwise: every datum of the input commits is built and hashed, and
  compared with every base datum (:func:`~loxo.pps.plan.plan_job`).

Recording then writes, in one transaction, a STARTING row per datum to run and a SKIPPED row
per skipped datum, copied inside the database from the base job's row (its hash and output
root kept, the input commits rewritten to this job's): a skipped datum costs no Python work.
A resumed job (rows already there) keeps what it recorded before.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
from collections.abc import Iterator
from typing import Any

from loxo.pfs.diff import diff_entries
from loxo.storage.fileset import NodeRef, differing_entries

from .datums import Datum, DatumID, _identity, datum_hasher, iter_datums
from .delta import changed_datums
from .pipelines import PipelineOps
from .plan import SKIPPABLE_STATES, JobPlan, plan_delta, plan_job
from .spec import Input, PfsInput, PipelineSpec

_SKIPPABLE_SQL = "('" + "', '".join(sorted(SKIPPABLE_STATES)) + "')"


class PlanningOps(PipelineOps):
    def _plan_datums(
        self, pid: int, seq: int, spec: PipelineSpec, salt: str, inputs: list[dict[str, Any]]
    ) -> tuple[str | None, JobPlan, dict[str, Datum], dict[str, str]]:
        """(base job, plan, the listed datums and their hashes by ID: every datum to run,
        maybe more)."""
        base = self.db.one(
            "SELECT id, version, inputs FROM jobs WHERE pipeline_id = ? AND seq < ? "
            "AND state = 'SUCCESS' ORDER BY seq DESC LIMIT 1",
            (pid, seq),
        )
        every_job = spec.reprocess_spec == "every_job"
        if base is not None and not every_job:
            by_diff = self._plan_by_diff(pid, spec, salt, inputs, *base)
            if by_diff is not None:
                return base[0], *by_diff
        datums: dict[str, Datum] = {}
        hashes: dict[str, str] = {}
        hash_of = datum_hasher(salt)
        found = iter_datums(spec.input, self._listing(inputs), self._commits(inputs))  # type: ignore[arg-type]
        # planning makes ~3 acyclic objects per datum: a cyclic GC pass every 700 is waste
        with _no_gc():
            for d in found:
                datums[d.id] = d
                hashes[d.id] = hash_of(d)
            states: dict[str, tuple[str, str]] = {}
            if base is not None:
                rows = self.db.all(
                    "SELECT datum_id, hash, state FROM datums WHERE pipeline_id = ? AND job_id = ?",
                    (pid, base[0]),
                )
                states = {d: (h, s) for d, h, s in rows}
            plan = plan_job(hashes.items(), states, every_job=every_job)
        return (None if base is None else base[0]), plan, datums, hashes

    def _plan_by_diff(
        self,
        pid: int,
        spec: PipelineSpec,
        salt: str,
        inputs: list[dict[str, Any]],
        base_job: str,
        base_version: int,
        base_inputs: str,
    ) -> tuple[JobPlan, dict[str, Datum], dict[str, str]] | None:
        """The plan from the diffs of the base job's input commits and this job's (see the
        module docstring); None when that is not provably the full listing's plan."""
        leaves = _pfs_leaves(spec.input)
        if not leaves or len(leaves) != len(inputs):
            return None
        base_spec, base_salt = self._spec_of(pid, base_version)
        if base_salt != salt or base_spec.input != spec.input:
            return None
        olds = {i["name"]: i for i in json.loads(base_inputs)}
        diffs: list[tuple[PfsInput, str, NodeRef | None, list[str]]] = []
        for leaf, new in zip(leaves, inputs, strict=True):
            old = olds.get(new["name"])
            if old is None or old["commit"] is None or new["commit"] is None:
                return None
            if old["repo_id"] != new["repo_id"] or new["name"] != leaf.name:
                return None
            old_row = self._commit_row(new["repo_id"], old["commit"])
            new_row = self._commit_row(new["repo_id"], new["commit"])
            if old_row is None or new_row is None:
                return None
            a, b = differing_entries(self.nodes, old_row.root_ref, new_row.root_ref)
            paths = [(x or y).path for x, y in diff_entries(a, b)]  # type: ignore[union-attr]
            diffs.append((leaf, new["commit"], new_row.root_ref, paths))
        (base_total,) = self.db.one(
            "SELECT COUNT(*) FROM datums WHERE pipeline_id = ? AND job_id = ?", (pid, base_job)
        )
        # the base job's counters are exact (recounted when it finished): if its SUCCESS and
        # SKIPPED datums are all of them, no base datum must run again whatever changed
        (kept,) = self.db.one(
            "SELECT data_processed + data_skipped FROM jobs WHERE pipeline_id = ? AND id = ?",
            (pid, base_job),
        )
        if kept != base_total:
            by_name = {leaf.name: paths for leaf, _, _, paths in diffs}
            for (blob,) in self.db.all(  # base datums that must run again whatever changed
                "SELECT inputs FROM datums WHERE pipeline_id = ? AND job_id = ? "
                f"AND state NOT IN {_SKIPPABLE_SQL}",
                (pid, base_job),
            ):
                (one,) = json.loads(blob)
                by_name[one["name"]].append(one["path"])
        found: list[Datum] = []
        gone: list[DatumID] = []
        for leaf, commit, root, paths in diffs:  # a union: each leaf's datums in turn
            now, was = changed_datums(leaf, commit, self._reader(root), paths)
            found += now
            gone += was
        ids = [d.id for d in found] + gone
        touched: dict[str, tuple[str, str]] = {}
        for k in range(0, len(ids), 500):
            batch = ids[k : k + 500]
            for d, h, s in self.db.all(
                "SELECT datum_id, hash, state FROM datums WHERE pipeline_id = ? AND job_id = ? "
                f"AND datum_id IN ({', '.join('?' * len(batch))})",
                (pid, base_job, *batch),
            ):
                touched[d] = (h, s)
        hash_of = datum_hasher(salt)
        hashes: dict[str, str] = {d.id: hash_of(d) for d in found}
        plan = plan_delta(hashes.items(), touched, base_total)
        return plan, {d.id: d for d in found}, hashes

    def _recorded_datums(self, pid: int, job_id: str) -> dict[str, str]:
        """The datum rows a job has already (``datum ID -> state``; a resumed job's)."""
        return {
            d: s
            for d, s in self.db.all(
                "SELECT datum_id, state FROM datums WHERE pipeline_id = ? AND job_id = ?",
                (pid, job_id),
            )
        }

    def _record_plan(
        self,
        pid: int,
        job_id: str,
        spec: PipelineSpec,
        inputs: list[dict[str, Any]],
        base_job: str | None,
        plan: JobPlan,
        datums: dict[str, Datum],
        hashes: dict[str, str],
        existing: dict[str, str],
    ) -> None:
        """Write the job's datum rows and counters, but for the rows it had already
        (``existing``, from :meth:`_recorded_datums`)."""
        rows: list[tuple[Any, ...]] = [
            (pid, job_id, d, hashes[d], "STARTING", None, _inputs_json(datums[d]))
            for d in plan.run
            if d not in existing
        ]
        with self.db.tx():
            if plan.skipped:
                assert base_job is not None
                self._copy_skipped(pid, job_id, base_job, spec, inputs, plan, existing)
            self.db.executemany(
                "INSERT OR IGNORE INTO datums (pipeline_id, job_id, datum_id, hash, state, "
                "output_root, inputs) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.db.execute(
                "UPDATE jobs SET data_total = ? WHERE pipeline_id = ? AND id = ?",
                (plan.total, pid, job_id),
            )
            if existing:  # resumed: count the datums already recorded
                self._update_counters(pid, job_id)
            else:  # what _update_counters would find, without a pass over every row
                self.db.execute(
                    "UPDATE jobs SET data_processed = 0, data_skipped = ?, data_failed = 0, "
                    "data_recovered = 0, download_bytes = 0, upload_bytes = 0, "
                    "download_seconds = 0, process_seconds = 0, upload_seconds = 0 "
                    "WHERE pipeline_id = ? AND id = ?",
                    (plan.skipped, pid, job_id),
                )

    def _update_counters(self, pid: int, job_id: str) -> None:
        """Recount a job's counters from its datum rows."""
        agg = self.db.one(
            "SELECT SUM(state = 'SUCCESS'), SUM(state = 'SKIPPED'), SUM(state = 'FAILED'), "
            "SUM(state = 'RECOVERED'), SUM(download_bytes), SUM(upload_bytes), "
            "SUM(download_seconds), SUM(process_seconds), SUM(upload_seconds) "
            "FROM datums WHERE pipeline_id = ? AND job_id = ?",
            (pid, job_id),
        )
        self.db.execute(
            "UPDATE jobs SET data_processed = ?, data_skipped = ?, data_failed = ?, "
            "data_recovered = ?, download_bytes = ?, upload_bytes = ?, download_seconds = ?, "
            "process_seconds = ?, upload_seconds = ? WHERE pipeline_id = ? AND id = ?",
            (*(v or 0 for v in agg), pid, job_id),
        )

    def _copy_skipped(
        self,
        pid: int,
        job_id: str,
        base_job: str,
        spec: PipelineSpec,
        inputs: list[dict[str, Any]],
        plan: JobPlan,
        existing: dict[str, str],
    ) -> None:
        """Record the skipped datums by copying their base rows inside the database (hash
        and output as they were; the input commits in ``inputs`` rewritten to this job's):
        every skippable base row, then out with those of the base datums that are not
        skipped (replaced or removed), unless this job recorded them already."""
        base_commits = {
            i["name"]: i["commit"]
            for i in json.loads(
                self.db.one(
                    "SELECT inputs FROM jobs WHERE pipeline_id = ? AND id = ?", (pid, base_job)
                )[0]
            )
        }
        commits = self._commits(inputs)
        leaves = list(spec.input.leaves()) if spec.input is not None else []
        heads = {(*_identity(leaf), commits.get(_identity(leaf)[0], "")) for leaf in leaves}
        expr, params = "inputs", []
        for name, repo, branch, commit in sorted(heads, key=str):
            old = base_commits.get(name, commit)
            if old != commit:
                expr = f"REPLACE({expr}, ?, ?)"
                params += [
                    _input_head(name, repo, branch, old),
                    _input_head(name, repo, branch, commit),
                ]
        self.db.execute(
            "INSERT OR IGNORE INTO datums (pipeline_id, job_id, datum_id, hash, state, "
            f"output_root, inputs) SELECT pipeline_id, ?, datum_id, hash, 'SKIPPED', "
            f"output_root, {expr} FROM datums WHERE pipeline_id = ? AND job_id = ? "
            f"AND state IN {_SKIPPABLE_SQL}",
            (job_id, *params, pid, base_job),
        )
        self.db.executemany(
            "DELETE FROM datums WHERE pipeline_id = ? AND job_id = ? AND datum_id = ?",
            [(pid, job_id, d) for d in (*plan.replaced, *plan.removed) if d not in existing],
        )


def _pfs_leaves(inp: Input | None) -> list[PfsInput]:
    """The pfs inputs of ``inp`` if it is one pfs input or a union of (unions of) pfs inputs
    of distinct (name, repo, branch) -- whose datums are those of each leaf in turn -- else
    ``[]``."""
    if inp is None:
        return []
    if inp.pfs is not None:
        return [inp.pfs]
    if not inp.union:
        return []
    leaves: list[PfsInput] = []
    for sub in inp.union:
        found = _pfs_leaves(sub)
        if not found:
            return []
        leaves += found
    if len({_identity(leaf) for leaf in leaves}) != len(leaves):
        return []
    return leaves


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused (process-wide) while the block runs."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _inputs_json(d: Datum) -> str:
    """``json.dumps([{"name", "repo", "branch", "commit", "path"} of each input])``, with the
    part every datum of an input shares encoded once (a skipped datum costs a few us)."""
    parts = [_input_head(i.name, i.repo, i.branch, i.commit) + json.dumps(i.path) + "}"
             for i in d.inputs]  # fmt: skip
    return "[" + ", ".join(parts) + "]"


@functools.lru_cache(maxsize=1024)
def _input_head(name: str, repo: str, branch: str, commit: str | None) -> str:
    head = json.dumps({"name": name, "repo": repo, "branch": branch, "commit": commit})
    return head[:-1] + ', "path": '
