// The records loxo's HTTP API returns: the Python records' to_dict() (src/loxo/pfs/model.py,
// src/loxo/pps/model.py). Times are unix seconds, sizes bytes.

export interface RepoInfo {
  name: string;
  project: string;
  type: string;
  description: string;
  created: number;
  size: number;
  branches: string[];
}

export interface BranchInfo {
  repo: string;
  project: string;
  name: string;
  head: string | null;
  created: number;
}

export interface CommitRef {
  repo: string;
  id: string;
  project: string;
}

export interface CommitInfo {
  repo: string;
  project: string;
  id: string;
  branch: string | null;
  parent: string | null;
  children: string[];
  origin: "USER" | "AUTO";
  description: string;
  state: "STARTED" | "FINISHING" | "FINISHED";
  started: number;
  finishing: number | null;
  finished: number | null;
  size: number;
  file_count: number;
  error: string;
  provenance: CommitRef[];
  subvenance: CommitRef[];
}

export interface FileInfo {
  path: string;
  type: "file" | "dir";
  size: number;
  hash: string;
  commit: string | null;
}

export interface DiffEntry {
  path: string;
  change: "added" | "deleted" | "changed";
  old: FileInfo | null;
  new: FileInfo | null;
}

export type JobState =
  | "CREATED"
  | "STARTING"
  | "RUNNING"
  | "EGRESSING"
  | "FINISHING"
  | "SUCCESS"
  | "FAILURE"
  | "KILLED"
  | "UNRUNNABLE";

export const JOB_DONE: ReadonlySet<string> = new Set(["SUCCESS", "FAILURE", "KILLED", "UNRUNNABLE"]);

export interface InputCommit {
  name: string;
  repo: string;
  branch: string;
  commit: string | null;
  project: string;
}

export interface JobInfo {
  pipeline: string;
  project: string;
  id: string;
  version: number;
  state: JobState;
  reason: string;
  output_commit: string;
  inputs: InputCommit[];
  created: number;
  started: number | null;
  finished: number | null;
  data_total: number;
  data_processed: number;
  data_skipped: number;
  data_failed: number;
  data_recovered: number;
  download_bytes: number;
  upload_bytes: number;
  download_seconds: number;
  process_seconds: number;
  upload_seconds: number;
}

export interface PipelineInfo {
  name: string;
  project: string;
  version: number;
  state: string;
  description: string;
  created: number;
  updated: number;
  last_job_state: JobState | null;
  last_job_id: string | null;
  spec: Record<string, unknown>;
  salt: string;
  inputs: string[];
}

export interface PipelineVersion {
  pipeline: string;
  project: string;
  version: number;
  spec: Record<string, unknown>;
  salt: string;
  created: number;
}

export interface DatumInfo {
  id: string;
  job_id: string;
  pipeline: string;
  state: string;
  hash: string;
  inputs: Record<string, string>[];
  attempts: number;
  error: string;
  started: number | null;
  finished: number | null;
  worker: string;
  download_seconds: number;
  process_seconds: number;
  upload_seconds: number;
  download_bytes: number;
  upload_bytes: number;
}

export interface LogRecord {
  pipeline: string;
  job_id: string;
  datum_id: string;
  time: number;
  stream: string;
  worker: string;
  line: string;
}

/** The data of a `job` server-sent event. */
export interface JobProgress {
  pipeline: string;
  project?: string;
  job_id: string;
  total: number;
  processed: number;
  skipped: number;
  failed: number;
  recovered: number;
  started: number;
  state: JobState;
}

/** The data of a `commit` server-sent event. */
export interface CommitEvent {
  repo: string;
  project: string;
  id: string;
  branch: string | null;
  state: string;
}

/** The data of a `pipeline` server-sent event. */
export interface PipelineEvent {
  project: string;
  name: string;
  state: string;
}
