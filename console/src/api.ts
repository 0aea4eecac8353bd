// A thin typed wrapper over loxo serve's public HTTP API (/api/v1). URLs are relative to the
// page, so the console also works behind a reverse proxy that mounts loxo under a prefix.
import type {
  BranchInfo,
  CommitInfo,
  DatumInfo,
  DiffEntry,
  FileInfo,
  PipelineVersion,
  JobInfo,
  LogRecord,
  PipelineInfo,
  RepoInfo,
} from "./types";

type Params = Record<string, string | number | boolean | null | undefined>;

/** An error answer of the API: `{"error": {"type", "category", "message"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly category: string,
    message: string,
  ) {
    super(message);
  }
}

const seg = encodeURIComponent;

/** Fired on window when the server answers 401: the console then asks for the token. */
export const UNAUTHENTICATED = "loxo:unauthenticated";

export function url(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const qs = q.toString();
  return `api/v1/${path}${qs ? `?${qs}` : ""}`;
}

async function request<T>(method: string, path: string, params: Params = {}, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, "Content-Type": "application/json" };
  }
  const res = await fetch(url(path, params), init);
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (res.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHENTICATED));
  if (!res.ok) {
    const err = (data as { error?: { type?: string; category?: string; message?: string } } | null)?.error;
    throw new ApiError(
      res.status,
      err?.type ?? "HTTPError",
      err?.category ?? "",
      err?.message ?? `${method} ${path}: HTTP ${res.status} ${res.statusText}`,
    );
  }
  return data as T;
}

const get = <T>(path: string, params?: Params) => request<T>("GET", path, params);
const post = <T>(path: string, body: unknown = {}) => request<T>("POST", path, {}, body);

const pipePath = (project: string, name: string) => `projects/${seg(project)}/pipelines/${seg(name)}`;
const jobPath = (project: string, pipeline: string, id: string) =>
  `${pipePath(project, pipeline)}/jobs/${seg(id)}`;

export const api = {
  version: () => get<Record<string, unknown>>("version"),
  projects: () => get<string[]>("projects"),
  repos: (project: string, allTypes = false) =>
    get<RepoInfo[]>(`projects/${seg(project)}/repos`, { all_types: allTypes }),
  repo: (project: string, repo: string) => get<RepoInfo>(`projects/${seg(project)}/repos/${seg(repo)}`),
  branches: (project: string, repo: string) =>
    get<BranchInfo[]>(`projects/${seg(project)}/repos/${seg(repo)}/branches`),
  commits: (project: string, repo: string, number?: number) =>
    get<CommitInfo[]>(`projects/${seg(project)}/repos/${seg(repo)}/commits`, { number }),
  commit: (ref: string) => get<CommitInfo>("commit", { ref }),
  commitSet: (id: string) => get<CommitInfo[]>(`commitsets/${seg(id)}`),
  listFiles: (ref: string, path: string) => get<FileInfo[]>("files/list", { ref, path }),
  fileInfo: (ref: string, path: string) => get<FileInfo>("files/info", { ref, path }),
  diff: (newRef: string, oldRef: string | undefined, path = "/") =>
    get<DiffEntry[]>("files/diff", { new: newRef, old: oldRef, path }),
  contentUrl: (ref: string, path: string, download = false) =>
    url("files/content", { ref, path, download: download ? 1 : undefined }),
  pipelines: (project: string) => get<PipelineInfo[]>(`projects/${seg(project)}/pipelines`),
  pipeline: (project: string, name: string) => get<PipelineInfo>(pipePath(project, name)),
  pipelineVersions: (project: string, name: string) =>
    get<PipelineVersion[]>(`${pipePath(project, name)}/versions`),
  startPipeline: (project: string, name: string) => post<unknown>(`${pipePath(project, name)}/start`),
  stopPipeline: (project: string, name: string) => post<unknown>(`${pipePath(project, name)}/stop`),
  rerunPipeline: (project: string, name: string, reprocess: boolean) =>
    post<unknown>(`${pipePath(project, name)}/rerun`, { reprocess }),
  jobs: (q: { project?: string; pipeline?: string; job_id?: string; number?: number }) =>
    get<JobInfo[]>("jobs", q),
  job: (project: string, pipeline: string, id: string) => get<JobInfo>(jobPath(project, pipeline, id)),
  stopJob: (project: string, pipeline: string, id: string) =>
    post<unknown>(`${jobPath(project, pipeline, id)}/stop`),
  datums: (project: string, pipeline: string, job: string, state?: string) =>
    get<DatumInfo[]>(`${jobPath(project, pipeline, job)}/datums`, { state }),
  datum: (project: string, pipeline: string, job: string, datum: string) =>
    get<DatumInfo>(`${jobPath(project, pipeline, job)}/datums/${seg(datum)}`),
  datumOutputs: (project: string, pipeline: string, job: string, datum: string) =>
    get<FileInfo[]>(`${jobPath(project, pipeline, job)}/datums/${seg(datum)}/outputs`),
  logs: (q: LogQuery) => get<LogRecord[]>("logs", { ...q }),
  logsFollowUrl: (q: LogQuery) => url("logs", { ...q, follow: true }),
};

export interface LogQuery {
  project?: string;
  pipeline?: string;
  job_id?: string;
  datum_id?: string;
  tail?: number;
}

/** A ref string for a commit of `repo` in `project` (the default project needs no prefix). */
export function commitRef(project: string, repo: string, idOrBranch: string): string {
  return `${project === "default" ? "" : `${project}/`}${repo}@${idOrBranch}`;
}
