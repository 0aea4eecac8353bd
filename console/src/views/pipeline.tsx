// A pipeline: state and actions, its effective spec (YAML or JSON), versions seen in its
// jobs, a chart of job durations and the job list; live.
import { useState } from "preact/hooks";
import { stringify } from "yaml";
import { api } from "../api";
import { useEvents } from "../events";
import { time } from "../format";
import { pipelineInputs } from "../graph";
import { useAsync, useDebounced } from "../hooks";
import { to } from "../router";
import type { JobInfo, JobProgress, PipelineEvent } from "../types";
import { PipelineActions } from "../ui/actions";
import { DurationChart } from "../ui/chart";
import { ErrorBox, KV, Loading, Section, StateBadge, Table, When } from "../ui/common";
import { JobsTable } from "./jobs";

export function PipelineView({ project, name }: { project: string; name: string }) {
  const info = useAsync(() => api.pipeline(project, name), [project, name]);
  const jobs = useAsync(() => api.jobs({ project, pipeline: name, number: 100 }), [project, name]);
  const reload = useDebounced(() => {
    info.reload();
    jobs.reload();
  }, 600);
  useEvents(["job", "pipeline"], (kind, d) => {
    if (kind === "job" && (d as JobProgress).pipeline === name) reload();
    if (kind === "pipeline" && (d as PipelineEvent).name === name) reload();
  });
  const p = info.data;
  if (info.error && !p) return <ErrorBox error={info.error} />;
  if (!p) return <Loading what="the pipeline" />;
  return (
    <div class="page">
      <h1>
        Pipeline {p.name} <StateBadge state={p.state} />
      </h1>
      {p.description ? <p>{p.description}</p> : null}
      <KV
        rows={[
          ["version", p.version],
          ["last job", p.last_job_id ? <a href={to.job(project, name, p.last_job_id)}><StateBadge state={p.last_job_state} /></a> : "–"],
          ["inputs", pipelineInputs(p).map(([, r]) => <a key={r} href={to.repo(project, r)}>{r} </a>)],
          ["output repo", <a href={to.repo(project, name)}>{name}</a>],
          ["created", <When t={p.created} />],
          ["updated", <When t={p.updated} />],
          ["DAG", <a href={to.dag(project, { node: `pipeline:${name}` })}>show in the DAG</a>],
          ["logs", <a href={to.logs(project, { pipeline: name })}>pipeline logs</a>],
        ]}
      />
      <PipelineActions p={p} onChanged={reload} />
      <Section title="Job durations" id="chart">
        {jobs.data ? <DurationChart jobs={jobs.data} /> : <Loading />}
      </Section>
      <Section title="Jobs" id="jobs">
        <ErrorBox error={jobs.error} />
        {jobs.data ? <JobsTable project={project} jobs={jobs.data} showPipeline={false} /> : <Loading />}
      </Section>
      <Section title="Versions" id="versions">
        <Versions current={p.version} updated={p.updated} jobs={jobs.data ?? []} />
      </Section>
      <SpecSection spec={p.spec} />
    </div>
  );
}

function Versions({ current, updated, jobs }: { current: number; updated: number; jobs: JobInfo[] }) {
  const seen = new Map<number, { jobs: number; first: number; last: number }>();
  for (const j of jobs) {
    const v = seen.get(j.version) ?? { jobs: 0, first: j.created, last: j.created };
    v.jobs++;
    v.first = Math.min(v.first, j.created);
    v.last = Math.max(v.last, j.created);
    seen.set(j.version, v);
  }
  const versions = Array.from({ length: current }, (_, i) => current - i);
  return (
    <Table label="versions">
      <thead>
        <tr>
          <th scope="col">version</th>
          <th scope="col" class="num">jobs</th>
          <th scope="col">first job</th>
          <th scope="col">last job</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => {
          const s = seen.get(v);
          return (
            <tr key={v}>
              <td>
                v{v}
                {v === current ? <span class="muted"> (current, since {time(updated)})</span> : null}
              </td>
              <td class="num">{s?.jobs ?? 0}</td>
              <td>{s ? <When t={s.first} /> : "–"}</td>
              <td>{s ? <When t={s.last} /> : "–"}</td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}

function SpecSection({ spec }: { spec: Record<string, unknown> }) {
  const [format, setFormat] = useState<"yaml" | "json">("yaml");
  const text = format === "yaml" ? stringify(spec) : JSON.stringify(spec, null, 2);
  return (
    <Section
      title="Spec"
      id="spec"
      actions={
        <div class="segmented" role="group" aria-label="spec format">
          <button type="button" aria-pressed={format === "yaml"} onClick={() => setFormat("yaml")}>
            YAML
          </button>
          <button type="button" aria-pressed={format === "json"} onClick={() => setFormat("json")}>
            JSON
          </button>
        </div>
      }
    >
      <pre class="spec" tabIndex={0} aria-label={`pipeline spec as ${format.toUpperCase()}`} data-format={format}>
        {text}
      </pre>
    </Section>
  );
}
