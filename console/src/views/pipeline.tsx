// A pipeline: state and actions, its effective spec (YAML or JSON), its versions (each with
// its spec and jobs), a chart of job durations and the job list; live.
import { useState } from "preact/hooks";
import { stringify } from "yaml";
import { api } from "../api";
import { useEvents } from "../events";
import { pipelineInputs } from "../graph";
import { useAsync, useDebounced } from "../hooks";
import { to } from "../router";
import type { JobInfo, JobProgress, PipelineEvent, PipelineVersion } from "../types";
import { PipelineActions } from "../ui/actions";
import { DurationChart } from "../ui/chart";
import { ErrorBox, KV, Loading, Section, StateBadge, Table, When } from "../ui/common";
import { JobsTable } from "./jobs";

export function PipelineView({ project, name }: { project: string; name: string }) {
  const info = useAsync(() => api.pipeline(project, name), [project, name]);
  const jobs = useAsync(() => api.jobs({ project, pipeline: name, number: 100 }), [project, name]);
  const versions = useAsync(() => api.pipelineVersions(project, name), [project, name]);
  const [shown, setShown] = useState<number | null>(null); // the version whose spec is shown
  const reload = useDebounced(() => {
    info.reload();
    jobs.reload();
    versions.reload();
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
        <ErrorBox error={versions.error} />
        <Versions
          current={p.version}
          versions={versions.data ?? []}
          jobs={jobs.data ?? []}
          shown={shown ?? p.version}
          onShow={setShown}
        />
      </Section>
      <SpecSection
        spec={(shown !== null && versions.data?.find((v) => v.version === shown)?.spec) || p.spec}
        version={shown ?? p.version}
      />
    </div>
  );
}

function Versions({
  current,
  versions,
  jobs,
  shown,
  onShow,
}: {
  current: number;
  versions: PipelineVersion[];
  jobs: JobInfo[];
  shown: number;
  onShow: (v: number) => void;
}) {
  const seen = new Map<number, number>();
  for (const j of jobs) seen.set(j.version, (seen.get(j.version) ?? 0) + 1);
  return (
    <Table label="versions">
      <thead>
        <tr>
          <th scope="col">version</th>
          <th scope="col">created</th>
          <th scope="col" class="num">recent jobs</th>
          <th scope="col">salt</th>
          <th scope="col">spec</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => (
          <tr key={v.version} data-version={v.version}>
            <td>
              v{v.version}
              {v.version === current ? <span class="muted"> (current)</span> : null}
            </td>
            <td>
              <When t={v.created} />
            </td>
            <td class="num">{seen.get(v.version) ?? 0}</td>
            <td>
              <code>{v.salt.slice(0, 8)}</code>
            </td>
            <td>
              <button type="button" aria-pressed={v.version === shown} onClick={() => onShow(v.version)}>
                {v.version === shown ? "shown below" : `show v${v.version}`}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function SpecSection({ spec, version }: { spec: Record<string, unknown>; version: number }) {
  const [format, setFormat] = useState<"yaml" | "json">("yaml");
  const text = format === "yaml" ? stringify(spec) : JSON.stringify(spec, null, 2);
  return (
    <Section
      title={`Spec (v${version})`}
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
