"""Pipeline tables in the metadata database (next to the PFS tables, same transactions).

- ``pipelines``: one row per pipeline with its current version, spec and salt, and whether
  it is stopped; ``pipeline_versions`` keeps every version's spec; ``pipeline_inputs``
  lists the (repo, branch) pairs each pipeline watches.
- ``jobs``: one per (pipeline, commit set); ``inputs`` records the exact input commits;
  ``driver`` is the lease of the process running it (a dead lease means "resume me"), and
  ``fence`` its fencing token: raised by every claim, checked by every write of the job's
  results, so that a driver whose job was taken over can never write (:mod:`.claim`).
- ``datums``: one row per datum per job (skipped ones too, carrying their output root
  forward), so the next job's diff and output assembly read only the DB.
- ``logs``: every line of user-code output, with job, datum, worker and time.
"""

from __future__ import annotations

from loxo.pfs.db import Database, add_columns

SCHEMA = """
CREATE TABLE IF NOT EXISTS pipelines (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL, name TEXT NOT NULL,
    version INTEGER NOT NULL, spec TEXT NOT NULL, salt TEXT NOT NULL,
    stopped INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, updated REAL NOT NULL,
    UNIQUE (project, name));
CREATE TABLE IF NOT EXISTS pipeline_inputs (
    pipeline_id INTEGER NOT NULL, repo_id INTEGER NOT NULL, branch TEXT NOT NULL,
    PRIMARY KEY (pipeline_id, repo_id, branch));
CREATE INDEX IF NOT EXISTS pipeline_inputs_by_repo ON pipeline_inputs (repo_id, branch);
CREATE TABLE IF NOT EXISTS pipeline_versions (
    pipeline_id INTEGER NOT NULL, version INTEGER NOT NULL, spec TEXT NOT NULL,
    salt TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (pipeline_id, version));
CREATE TABLE IF NOT EXISTS jobs (
    pipeline_id INTEGER NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,
    version INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
    inputs TEXT NOT NULL, created REAL NOT NULL, started REAL, finished REAL,
    data_total INTEGER NOT NULL DEFAULT 0, data_processed INTEGER NOT NULL DEFAULT 0,
    data_skipped INTEGER NOT NULL DEFAULT 0, data_failed INTEGER NOT NULL DEFAULT 0,
    data_recovered INTEGER NOT NULL DEFAULT 0,
    download_bytes INTEGER NOT NULL DEFAULT 0, upload_bytes INTEGER NOT NULL DEFAULT 0,
    download_seconds REAL NOT NULL DEFAULT 0, process_seconds REAL NOT NULL DEFAULT 0,
    upload_seconds REAL NOT NULL DEFAULT 0, driver TEXT, stop_requested INTEGER DEFAULT 0,
    fence INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (pipeline_id, id));
CREATE INDEX IF NOT EXISTS jobs_by_id ON jobs (id);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state);
CREATE TABLE IF NOT EXISTS datums (
    pipeline_id INTEGER NOT NULL, job_id TEXT NOT NULL, datum_id TEXT NOT NULL,
    hash TEXT NOT NULL, state TEXT NOT NULL, output_root BLOB, inputs TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
    started REAL, finished REAL, worker TEXT NOT NULL DEFAULT '',
    download_seconds REAL NOT NULL DEFAULT 0, process_seconds REAL NOT NULL DEFAULT 0,
    upload_seconds REAL NOT NULL DEFAULT 0, download_bytes INTEGER NOT NULL DEFAULT 0,
    upload_bytes INTEGER NOT NULL DEFAULT 0, restart_requested INTEGER DEFAULT 0,
    PRIMARY KEY (pipeline_id, job_id, datum_id));
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY, pipeline_id INTEGER NOT NULL, job_id TEXT NOT NULL,
    datum_id TEXT NOT NULL, time REAL NOT NULL, stream TEXT NOT NULL,
    worker TEXT NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_by_job ON logs (pipeline_id, job_id, datum_id);
-- the few datums a user asked to restart (the job driver looks for them 4 times a second;
-- without it that look scans the job's datums: 12 ms at 100,000)
CREATE INDEX IF NOT EXISTS datums_restart ON datums (pipeline_id, job_id)
    WHERE restart_requested = 1;
"""


# columns added since the tables were first made: (table, column, definition)
COLUMNS = [("jobs", "fence", "INTEGER NOT NULL DEFAULT 0")]


def install(db: Database) -> None:
    db._conn.executescript(SCHEMA)
    add_columns(db, COLUMNS)
