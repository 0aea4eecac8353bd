"""Datums and logs after the fact: list, inspect, restart datums; query and follow logs.

Every datum of every job is a row (skipped ones too), and every line of user-code output is
kept with its pipeline, job, datum, worker and time, so all of this works after the workers
are gone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import msgpack

from loxo.errors import NotFoundError, PreconditionError
from loxo.execution.output import output_entries, parse_root
from loxo.pfs.db import SQL_INT_MAX
from loxo.pfs.model import FileInfo, FileType

from .jobs import JobOps
from .model import DatumInfo, LogRecord

DATUM_COLUMNS = (
    "datum_id, job_id, state, hash, inputs, attempts, error, started, finished, worker, "
    "download_seconds, process_seconds, upload_seconds, download_bytes, upload_bytes"
)


class DatumNotFound(NotFoundError):
    def __init__(self, datum: str, job: str) -> None:
        super().__init__(f"datum {datum!r} not found in job {job}; `loxo list datum` shows them")


class DatumQueryOps(JobOps):
    def _datum_info(self, pipeline: str, row: tuple[Any, ...]) -> DatumInfo:
        return DatumInfo(
            id=row[0], job_id=row[1], pipeline=pipeline, state=row[2], hash=row[3],
            inputs=json.loads(row[4]), attempts=row[5], error=row[6], started=row[7],
            finished=row[8], worker=row[9], download_seconds=row[10], process_seconds=row[11],
            upload_seconds=row[12], download_bytes=row[13], upload_bytes=row[14],
        )  # fmt: skip

    def list_datum(
        self, pipeline: str, job_id: str | None = None, *, project: str = "default",
        state: str | None = None,
    ) -> list[DatumInfo]:  # fmt: skip
        """Datums of a job (default: the pipeline's latest job)."""
        pid = self._pipeline_id(pipeline, project)
        if job_id is None:
            row = self.db.one(
                "SELECT id FROM jobs WHERE pipeline_id = ? ORDER BY seq DESC LIMIT 1", (pid,)
            )
            if row is None:
                return []
            job_id = row[0]
        self.inspect_job(pipeline, job_id, project=project)
        sql = f"SELECT {DATUM_COLUMNS} FROM datums WHERE pipeline_id = ? AND job_id = ?"
        args: list[Any] = [pid, job_id]
        if state:
            sql += " AND state = ?"
            args.append(state.upper())
        rows = self.db.all(sql + " ORDER BY datum_id", args)
        return [self._datum_info(pipeline, r) for r in rows]

    def inspect_datum(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> DatumInfo:
        pid = self._pipeline_id(pipeline, project)
        row = self.db.one(
            f"SELECT {DATUM_COLUMNS} FROM datums WHERE pipeline_id = ? AND job_id = ? "
            "AND datum_id = ?",
            (pid, job_id, datum_id),
        )
        if row is None:
            raise DatumNotFound(datum_id, job_id)
        return self._datum_info(pipeline, row)

    def list_datum_outputs(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> list[FileInfo]:
        """The files a datum wrote to ``/pfs/out`` (a skipped datum: those it keeps from the
        job that ran it); none for a datum that did not succeed."""
        self.inspect_datum(pipeline, job_id, datum_id, project=project)
        (blob,) = self.db.one(
            "SELECT output_root FROM datums WHERE pipeline_id = ? AND job_id = ? AND datum_id = ?",
            (self._pipeline_id(pipeline, project), job_id, datum_id),
        )
        if blob is None:
            return []
        entries = output_entries(self.nodes, parse_root(msgpack.unpackb(blob)))
        return [FileInfo(e.path, FileType.FILE, e.size, e.hash) for e in entries]

    def restart_datum(
        self, pipeline: str, job_id: str, datum_id: str, *, project: str = "default"
    ) -> DatumInfo:
        """Kill the running attempt of a (stuck) datum; it is retried if tries remain."""
        info = self.inspect_datum(pipeline, job_id, datum_id, project=project)
        if info.state != "STARTING":
            raise PreconditionError(f"datum {datum_id} is {info.state}, not running")
        pid = self._pipeline_id(pipeline, project)
        with self.db.tx():
            self.db.execute(
                "UPDATE datums SET restart_requested = 1 WHERE pipeline_id = ? AND job_id = ? "
                "AND datum_id = ?",
                (pid, job_id, datum_id),
            )
        return info

    # --- logs -----------------------------------------------------------------------

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
        """Log lines matching every given filter, oldest first, with their row IDs."""
        sql = (
            "SELECT l.id, p.name, l.job_id, l.datum_id, l.time, l.stream, l.worker, l.line "
            "FROM logs l JOIN pipelines p ON p.id = l.pipeline_id"
        )
        where = ["l.id > ?"]
        args: list[Any] = [min(since_id, SQL_INT_MAX)]  # past every row: none
        if pipeline is not None:
            where.append("l.pipeline_id = ?")
            args.append(self._pipeline_id(pipeline, project))
        if job_id is not None:
            where.append("l.job_id = ?")
            args.append(job_id)
        if datum_id is not None:
            where.append("l.datum_id = ?")
            args.append(datum_id)
        if inputs:
            sql += (
                " JOIN datums d ON d.pipeline_id = l.pipeline_id AND d.job_id = l.job_id "
                "AND d.datum_id = l.datum_id"
            )
            for path in inputs:
                needle = f'"path": {json.dumps(path)}'
                escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                where.append("d.inputs LIKE ? ESCAPE '\\'")
                args.append(f"%{escaped}%")
        sql += " WHERE " + " AND ".join(where) + " ORDER BY l.id"
        rows = self.db.all(sql, args)
        if tail:
            rows = rows[-tail:]
        return [(r[0], LogRecord(*r[1:])) for r in rows]

    def follow_logs(self, poll: float = 0.5, **filters: Any) -> Iterator[LogRecord]:
        """Existing lines, then new ones as they are recorded (until interrupted)."""
        last = 0
        first = True
        while True:
            rows = self.get_logs(since_id=last, **filters)
            if first and filters.get("tail"):
                filters = {k: v for k, v in filters.items() if k != "tail"}
            first = False
            for row_id, record in rows:
                last = row_id
                yield record
            time.sleep(poll)
