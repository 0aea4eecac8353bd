// The side panel of a DAG node: a repo's branches and latest commits, or a pipeline's state,
// actions and last job (or the job of the followed global ID).
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { useEvents } from "../events";
import { bytes, duration, short } from "../format";
import type { DagNode } from "../graph";
import { pipelineInputs } from "../graph";
import { useAsync } from "../hooks";
import { to } from "../router";
import type { JobInfo, JobProgress } from "../types";
import { PipelineActions } from "../ui/actions";
import { ErrorBox, jobCounts, KV, Loading, Progress, StateBadge, When } from "../ui/common";

export function NodePanel({ node, project, gid, job, onClose, onChanged }: {
  node: DagNode;
  project: string;
  gid?: string;
  job?: JobInfo;
  onClose: () => void;
  onChanged: () => void;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [node.id]);
  return (
    <aside class="panel card" aria-labelledby="panel-h">
      <header class="card-head">
        <h2 id="panel-h" tabIndex={-1} ref={heading}>
          {node.kind === "pipeline" ? "Pipeline" : "Repo"} {node.name}
        </h2>
        <button type="button" class="icon" aria-label="Close panel" onClick={onClose}>
          ×
        </button>
      </header>
      {node.kind === "pipeline" ? (
        <PipelinePanel node={node} project={project} gid={gid} job={job} onChanged={onChanged} />
      ) : (
        <RepoPanel node={node} />
      )}
    </aside>
  );
}

function PipelinePanel({ node, project, gid, job, onChanged }: {
  node: DagNode;
  project: string;
  gid?: string;
  job?: JobInfo;
  onChanged: () => void;
}) {
  const p = node.pipeline!;
  const last = useAsync(
    () => (p.last_job_id && !gid ? api.job(p.project, p.name, p.last_job_id) : Promise.resolve(job ?? null)),
    [p.last_job_id, p.last_job_state, gid, job?.state, job?.data_processed],
  );
  // live counters of the shown job while it runs, from the `job` server-sent events
  const [live, setLive] = useState<JobProgress | null>(null);
  useEvents(["job"], (_, d) => {
    const e = d as JobProgress;
    if (e.pipeline === p.name && (!gid || e.job_id === gid)) setLive(e);
  });
  const base = last.data;
  const shown: JobInfo | null | undefined =
    base && live && live.job_id === base.id
      ? { ...base, state: live.state, data_total: live.total, data_processed: live.processed, data_skipped: live.skipped, data_failed: live.failed, data_recovered: live.recovered }
      : base;
  return (
    <div class="panel-body">
      {p.description ? <p>{p.description}</p> : null}
      <KV
        rows={[
          ["state", <StateBadge state={p.state} />],
          ["last job", <StateBadge state={p.last_job_state} />],
          ["version", p.version],
          ["inputs", pipelineInputs(p).map(([, r]) => r).join(", ") || "–"],
          ["output repo", <a href={to.repo(p.project, p.name)}>{p.name}</a>],
        ]}
      />
      <PipelineActions p={p} onChanged={onChanged} />
      <h3>{gid ? "Job of this global ID" : "Last job"}</h3>
      <ErrorBox error={last.error} />
      {shown ? (
        <div>
          <p>
            <a href={to.job(project, p.name, shown.id)}>
              <code>{short(shown.id, 12)}</code>
            </a>{" "}
            <StateBadge state={shown.state} /> <span class="muted">took {duration(shown.started, shown.finished)}</span>
          </p>
          <Progress c={jobCounts(shown)} state={shown.state} />
          {shown.reason ? <p class="error">{shown.reason}</p> : null}
        </div>
      ) : last.loading ? (
        <Loading />
      ) : (
        <p class="muted">No job{gid ? " for this global ID" : " yet"}.</p>
      )}
      <p class="link-row">
        <a href={to.pipeline(project, p.name)}>Open pipeline</a>
        <a href={to.jobs(project, { pipeline: p.name })}>Jobs</a>
        <a href={to.logs(project, { pipeline: p.name })}>Logs</a>
      </p>
    </div>
  );
}

function RepoPanel({ node }: { node: DagNode }) {
  const project = node.project;
  const name = node.repo?.name ?? node.name.split("/").pop()!;
  const commits = useAsync(() => api.commits(project, name, 5), [project, name]);
  const r = node.repo;
  return (
    <div class="panel-body">
      {r?.description ? <p>{r.description}</p> : null}
      {r ? (
        <KV
          rows={[
            ["type", r.type],
            ["size", bytes(r.size)],
            ["branches", r.branches.join(", ") || "–"],
            ["created", <When t={r.created} />],
          ]}
        />
      ) : null}
      <h3>Latest commits</h3>
      <ErrorBox error={commits.error} />
      {commits.data ? (
        commits.data.length ? (
          <ul class="plain-list">
            {commits.data.map((c) => (
              <li key={c.id}>
                <a href={to.commit(project, name, c.id)}>
                  <code>{short(c.id)}</code>
                </a>{" "}
                <span class="muted">
                  {c.branch ?? ""} · {c.origin} · {bytes(c.size)} · <When t={c.started} />
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No commits yet.</p>
        )
      ) : (
        <Loading />
      )}
      <p class="link-row">
        <a href={to.repo(project, name)}>Open repo</a>
        {r?.branches.includes("master") ? (
          <a href={`${to.commit(project, name, "master")}`}>Browse master</a>
        ) : null}
      </p>
    </div>
  );
}

