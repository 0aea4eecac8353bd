"""The results recorder on a real SQLite database: results that arrive before their
datums' rows exist, and the output roots it keeps for the job's end."""

from __future__ import annotations

import threading
from pathlib import Path

from loxo.execution.output import inline_root
from loxo.execution.task import DatumResult, DatumState
from loxo.pfs.db import Database
from loxo.pps import schema
from loxo.pps.finish import root_blob
from loxo.pps.record import ResultRecorder
from loxo.storage.fileset import DataRef, FileEntry

JOB = "j1"


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "loxo.db")
    schema.install(db)
    return db


def _insert_rows(db: Database, ids: list[str]) -> None:
    with db.tx():
        db.executemany(
            "INSERT INTO datums (pipeline_id, job_id, datum_id, hash, state, inputs) "
            "VALUES (1, ?, ?, 'h', 'STARTING', '[]')",
            [(JOB, d) for d in ids],
        )


def _entry(path: str) -> FileEntry:
    return FileEntry(path, 3, "c0ffee", (DataRef("packs/p1", 0, 3, 3, "c0ffee", 0),))


def test_results_that_arrive_before_their_rows_are_written_once_the_rows_exist(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)
    asked, written = threading.Event(), threading.Event()

    def rows_ready() -> None:
        asked.set()
        assert written.wait(10)

    recorder = ResultRecorder(db, 1, root_blob, rows_ready=rows_ready)
    for d in ("a", "b"):  # the job's first results, while its plan is still being recorded
        recorder.add(DatumResult(JOB, d, DatumState.SUCCESS, output_root=inline_root([])))
    assert asked.wait(10)  # the recorder is about to write its first batch: no rows yet
    _insert_rows(db, ["a", "b", "c"])
    written.set()
    recorder.add(DatumResult(JOB, "c", DatumState.FAILED, error="exit code 1"))
    recorder.close()
    states = dict(db.all("SELECT datum_id, state FROM datums WHERE job_id = ?", (JOB,)))
    assert states == {"a": "SUCCESS", "b": "SUCCESS", "c": "FAILED"}


def test_the_recorder_keeps_the_parsed_outputs_of_the_datums_that_succeeded(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)
    _insert_rows(db, ["a", "b", "c"])
    recorder = ResultRecorder(db, 1, root_blob)
    recorder.add(DatumResult(JOB, "a", DatumState.SUCCESS, output_root=inline_root([_entry("/a")])))
    recorder.add(DatumResult(JOB, "b", DatumState.SUCCESS, output_root=inline_root([_entry("/b")])))
    recorder.add(DatumResult(JOB, "c", DatumState.FAILED, error="exit code 1"))
    # a datum run again (its worker died after reporting) ends FAILED: its output goes
    recorder.add(DatumResult(JOB, "b", DatumState.FAILED, error="exit code 2"))
    recorder.close()
    assert recorder.outputs == {"a": (_entry("/a"),)}
