// The project's DAG: repos and pipelines as nodes (links, so they are keyboard-reachable),
// coloured by pipeline state and last job state, or by the jobs of one followed global ID.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { useEvents } from "../events";
import { buildDag, layoutDag, NODE_H, NODE_W, type DagNode } from "../graph";
import { useAsync, useDebounced, useMediaQuery } from "../hooks";
import { navigate, to } from "../router";
import type { CommitInfo, JobInfo, PipelineInfo, RepoInfo } from "../types";
import { JOB_DONE } from "../types";
import { ErrorBox, Loading, stateTone } from "../ui/common";
import { NodePanel } from "./dagpanel";

interface Data {
  repos: RepoInfo[];
  pipelines: PipelineInfo[];
}

interface Followed {
  jobs: JobInfo[];
  commits: CommitInfo[];
}

export function DagView({ project, node, gid }: { project: string; node?: string; gid?: string }) {
  const data = useAsync<Data>(
    async () => {
      const [repos, pipelines] = await Promise.all([api.repos(project), api.pipelines(project)]);
      return { repos, pipelines };
    },
    [project],
  );
  const followed = useAsync<Followed | null>(
    async () => {
      if (!gid) return null;
      const [jobs, commits] = await Promise.all([
        api.jobs({ project, job_id: gid }),
        api.commitSet(gid).catch(() => [] as CommitInfo[]),
      ]);
      return { jobs, commits };
    },
    [project, gid],
  );
  const reload = useDebounced(() => {
    data.reload();
    if (gid) followed.reload();
  }, 400);
  useEvents(["job", "pipeline", "commit"], reload);

  const vertical = useMediaQuery("(max-width: 720px)");
  const dag = useMemo(
    () => (data.data ? buildDag(project, data.data.repos, data.data.pipelines) : null),
    [data.data, project],
  );
  const placed = useMemo(() => (dag ? layoutDag(dag.nodes, dag.edges, vertical) : null), [dag, vertical]);
  const selected = dag?.nodes.find((n) => n.id === node);
  useEffect(() => {
    if (!node) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") navigate(to.dag(project, { gid }));
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [node, project, gid]);
  const jobOf = (name: string) => followed.data?.jobs.find((j) => j.pipeline === name);
  const commitOf = (repo: string) => followed.data?.commits.find((c) => c.repo === repo && c.project === project);

  if (data.error && !data.data) return <ErrorBox error={data.error} />;
  if (!placed || !dag) return <Loading what="the DAG" />;

  return (
    <div class="dag-page">
      <div class="dag-main">
        <div class="toolbar">
          <h1>DAG of project {project}</h1>
          <FollowForm project={project} gid={gid} node={node} />
        </div>
        {gid ? <FollowSummary gid={gid} project={project} f={followed.data} error={followed.error} /> : null}
        {dag.nodes.length === 0 ? (
          <p class="muted">
            This project has no repos yet. Create one with <code>loxo create repo NAME</code>.
          </p>
        ) : (
          <div class="dag-scroll">
            <svg
              class="dag"
              role="group"
              aria-label={`DAG of project ${project}: ${dag.nodes.length} nodes`}
              viewBox={`0 0 ${placed.width} ${placed.height}`}
              width={placed.width}
              height={placed.height}
              style={{ maxWidth: "100%", minWidth: `${Math.round(placed.width * 0.6)}px`, height: "auto" }}
            >
              <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                  <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                </marker>
              </defs>
              {placed.edges.map(({ edge, points }) => (
                <path
                  key={`${edge.from}->${edge.to}`}
                  class="edge"
                  data-from={edge.from}
                  data-to={edge.to}
                  d={points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ")}
                  marker-end="url(#arrow)"
                />
              ))}
              {placed.nodes.map(({ item, x, y }) => (
                <NodeShape
                  key={item.id}
                  n={item}
                  x={x - NODE_W / 2}
                  y={y - NODE_H / 2}
                  selected={item.id === node}
                  href={to.dag(project, { node: item.id === node ? undefined : item.id, gid })}
                  job={gid && item.kind === "pipeline" ? jobOf(item.name) ?? null : undefined}
                  commit={gid && item.kind === "repo" ? commitOf(item.name) ?? null : undefined}
                />
              ))}
            </svg>
          </div>
        )}
        <Legend />
      </div>
      {selected ? (
        <NodePanel
          key={selected.id}
          node={selected}
          project={project}
          gid={gid}
          job={selected.kind === "pipeline" ? jobOf(selected.name) : undefined}
          onClose={() => navigate(to.dag(project, { gid }))}
          onChanged={reload}
        />
      ) : null}
    </div>
  );
}

function NodeShape({ n, x, y, selected, href, job, commit }: {
  n: DagNode;
  x: number;
  y: number;
  selected: boolean;
  href: string;
  job?: JobInfo | null;
  commit?: CommitInfo | null;
}) {
  let tone: string;
  let sub: string;
  let label: string;
  let badge: string | null = null;
  if (n.kind === "pipeline") {
    const p = n.pipeline!;
    if (job !== undefined) {
      tone = job ? stateTone(job.state) : "none";
      sub = job ? `job ${job.state.toLowerCase()} · ${job.data_processed + job.data_skipped}/${job.data_total}` : "not in this commit set";
      label = `pipeline ${n.name}: ${job ? `job ${job.state}` : "no job for this global ID"}`;
      badge = job ? job.state : null;
    } else {
      tone = stateTone(p.state === "RUNNING" && p.last_job_state ? p.last_job_state : p.state);
      sub = `${p.state.toLowerCase()} · v${p.version}`;
      badge = p.last_job_state;
      label = `pipeline ${n.name}, state ${p.state}, last job ${p.last_job_state ?? "none"}`;
    }
  } else {
    const r = n.repo;
    if (commit !== undefined) {
      tone = commit ? (commit.error ? "bad" : stateTone(commit.state)) : "none";
      sub = commit ? `commit ${commit.state.toLowerCase()}` : "not in this commit set";
      label = `repo ${n.name}: ${commit ? `commit ${commit.state}` : "no commit for this global ID"}`;
    } else {
      tone = "repo";
      sub = r ? `${r.type === "output" ? "output" : "repo"} · ${r.branches.length} branch${r.branches.length === 1 ? "" : "es"}` : "repo (other project)";
      label = `${r?.type === "output" ? "output repo" : "repo"} ${n.name}`;
    }
  }
  return (
    <a
      href={href}
      class={`node node-${n.kind} tone-${tone}${selected ? " selected" : ""}`}
      aria-label={label}
      aria-current={selected ? "true" : undefined}
      data-node={n.id}
    >
      <g transform={`translate(${x.toFixed(1)},${y.toFixed(1)})`}>
        <rect class="node-box" width={NODE_W} height={NODE_H} rx={n.kind === "pipeline" ? 14 : 4} />
        <rect class="node-stripe" width={6} height={NODE_H - 8} x={4} y={4} rx={3} />
        <text class="node-kind" x={16} y={17}>
          {n.kind === "pipeline" ? "PIPELINE" : "REPO"}
        </text>
        <text class="node-name" x={16} y={34}>
          {n.name.length > 19 ? `${n.name.slice(0, 18)}…` : n.name}
        </text>
        <text class="node-sub" x={16} y={48}>
          {sub}
        </text>
        {badge ? (
          <g class={`node-badge tone-${stateTone(badge)}`}>
            <circle cx={NODE_W - 12} cy={12} r={6} />
          </g>
        ) : null}
      </g>
    </a>
  );
}

function FollowForm({ project, gid, node }: { project: string; gid?: string; node?: string }) {
  const [value, setValue] = useState(gid ?? "");
  return (
    <form
      class="follow"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(to.dag(project, { node, gid: value.trim() || undefined }));
      }}
    >
      <label for="gid">Follow a global ID</label>
      <input
        id="gid"
        name="gid"
        value={value}
        placeholder="32-hex commit / job ID"
        spellcheck={false}
        autocomplete="off"
        onInput={(e) => setValue((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Follow</button>
      {gid ? (
        <a class="button" href={to.dag(project, { node })}>
          Clear
        </a>
      ) : null}
    </form>
  );
}

function FollowSummary({ gid, project, f, error }: { gid: string; project: string; f: Followed | null | undefined; error?: Error }) {
  if (error) return <ErrorBox error={error} />;
  if (!f) return <Loading what={`global ID ${gid}`} />;
  const done = f.jobs.filter((j) => j.state === "SUCCESS").length;
  const failed = f.jobs.filter((j) => JOB_DONE.has(j.state) && j.state !== "SUCCESS").length;
  const running = f.jobs.length - done - failed;
  return (
    <p class="follow-summary" role="status" aria-live="polite">
      Global ID <code>{gid}</code>: {f.commits.length} commits, {f.jobs.length} jobs —{" "}
      <span class="tone-text-ok">{done} done</span>, <span class="tone-text-busy">{running} running</span>,{" "}
      <span class="tone-text-bad">{failed} failed</span>.{" "}
      {f.jobs.length ? <a href={to.jobs(project, { gid })}>List these jobs</a> : null}
    </p>
  );
}

function Legend() {
  const items: [string, string][] = [
    ["ok", "success"],
    ["busy", "running / starting"],
    ["bad", "failed"],
    ["warn", "killed / recovered"],
    ["idle", "paused / standby"],
    ["repo", "repo"],
  ];
  return (
    <ul class="legend" aria-label="colour legend">
      {items.map(([tone, text]) => (
        <li key={tone}>
          <span class={`swatch tone-${tone}`} /> {text}
        </li>
      ))}
    </ul>
  );
}
