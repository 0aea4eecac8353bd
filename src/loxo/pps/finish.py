"""Finishing a job: its final counters, its state, and its output commit.

Once every datum has a result, the job's counters are recounted from its rows. A job cut
short ends KILLED (stopped) or FAILURE (timed out); a job with a FAILED datum ends FAILURE
naming it. Otherwise the output commit is assembled incrementally (:mod:`~loxo.pps.assemble`):
the base job's output, minus the outputs of datums removed or run again, plus the outputs of
the datums that ran now; a collision fails the job. Then egress, if asked for, and SUCCESS.
Each of these writes checks the driver's claim first (:func:`~loxo.pps.claim.check_claim`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack

from loxo.errors import LoxoError
from loxo.execution.output import output_entries, parse_root
from loxo.storage.fileset import NodeRef

from .assemble import OutputCollision, OutputRoot, assemble
from .claim import Claim, ClaimOps, check_claim
from .egress import egress
from .model import JobState
from .planning import PlanningOps
from .spec import PipelineSpec


def root_blob(root: NodeRef | list[Any] | None) -> bytes | None:
    """A datum's output root as stored in its row."""
    if root is None:
        return None
    return msgpack.packb(list(root))


def _root(blob: bytes | None) -> OutputRoot | None:
    return None if blob is None else parse_root(msgpack.unpackb(blob))


class FinishOps(ClaimOps, PlanningOps):
    def _end_claimed(self, claim: Claim, state: JobState, reason: str, root: Any) -> None:
        """End the claimed job (and its output commit), unless it was taken over."""
        with self.db.tx():
            check_claim(self.db, claim)
            self._end_job(claim.pid, claim.job_id, state, reason, root)

    def _finish(
        self,
        claim: Claim,
        spec: PipelineSpec,
        stopped: str,
        base_job: str | None,
        gone: list[str],
        outputs: dict[str, OutputRoot] | None = None,
    ) -> None:
        """End the job (see the module docstring). ``outputs``: the output roots of every
        datum of the job that succeeded, by datum ID, if the caller holds them all (else
        they are read from the rows)."""
        pid, job_id = claim.pid, claim.job_id
        with self.db.tx():
            check_claim(self.db, claim)
            self._update_counters(pid, job_id)
        if stopped:
            state = JobState.KILLED if "stopped" in stopped else JobState.FAILURE
            self._end_claimed(claim, state, stopped, None)
            return
        failed = self.db.all(
            "SELECT datum_id, error FROM datums WHERE pipeline_id = ? AND job_id = ? "
            "AND state = 'FAILED' ORDER BY datum_id",
            (pid, job_id),
        )
        if failed:
            reason = f"{len(failed)} datum(s) failed; datum {failed[0][0]}: {failed[0][1]}"
            self._end_claimed(claim, JobState.FAILURE, reason, None)
            return
        project, name = self._pipeline_name(pid)
        repo_id = self._repo_id(name, project)
        base_root = None
        if base_job is not None:
            base_row = self._commit_row(repo_id, base_job)
            base_root = base_row.root_ref if base_row is not None else None
        removed = self._outputs_of(pid, base_job, gone) if base_job is not None else []
        if outputs is not None:
            added = [(d, outputs[d]) for d in sorted(outputs)]
        else:
            added = [
                (d, root)
                for d, blob in self.db.all(
                    "SELECT datum_id, output_root FROM datums WHERE pipeline_id = ? "
                    "AND job_id = ? AND state = 'SUCCESS' AND output_root IS NOT NULL "
                    "ORDER BY datum_id",
                    (pid, job_id),
                )
                if (root := _root(blob)) is not None
            ]
        try:
            root = assemble(self.nodes, base_root, removed, added, self._owner(pid, job_id))
        except OutputCollision as err:
            self._end_claimed(claim, JobState.FAILURE, str(err), None)
            return
        self.store.sync()
        if spec.egress:
            with self.db.tx():
                check_claim(self.db, claim)
                self.db.execute(
                    "UPDATE jobs SET state = 'EGRESSING' WHERE pipeline_id = ? AND id = ?",
                    (pid, job_id),
                )
            try:
                egress(self, root, str(spec.egress["url"]))
            except LoxoError as err:
                self._end_claimed(claim, JobState.FAILURE, f"egress failed: {err}", root)
                return
        self._end_claimed(claim, JobState.SUCCESS, "", root)

    def _outputs_of(self, pid: int, job_id: str, datum_ids: list[str]) -> list[OutputRoot]:
        """The outputs of these datums of ``job_id`` (those that have one)."""
        found: list[OutputRoot] = []
        for k in range(0, len(datum_ids), 500):
            batch = datum_ids[k : k + 500]
            for (blob,) in self.db.all(
                "SELECT output_root FROM datums WHERE pipeline_id = ? AND job_id = ? "
                f"AND datum_id IN ({', '.join('?' * len(batch))})",
                (pid, job_id, *batch),
            ):
                if (root := _root(blob)) is not None:
                    found.append(root)
        return found

    def _owner(self, pid: int, job_id: str) -> Callable[[str], str]:
        def owner(path: str) -> str:
            for d, blob in self.db.all(
                "SELECT datum_id, output_root FROM datums WHERE pipeline_id = ? AND job_id = ? "
                "AND state = 'SKIPPED' AND output_root IS NOT NULL",
                (pid, job_id),
            ):
                root = _root(blob)
                if root is None:
                    continue
                if isinstance(root, NodeRef):
                    if self._reader(root).get(path) is not None:
                        return str(d)
                elif any(e.path == path for e in output_entries(self.nodes, root)):
                    return str(d)
            return "(an earlier datum)"

        return owner
