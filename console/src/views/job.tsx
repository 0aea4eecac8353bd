// A job: state, live progress (from `job` server-sent events), timings, reason, inputs, the
// datum list filtered by state, and the job's logs.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { useEvents } from "../events";
import { bytes, duration, seconds, short, time } from "../format";
import { useAsync, useDebounced } from "../hooks";
import { navigate, to } from "../router";
import type { JobInfo, JobProgress } from "../types";
import { JOB_DONE } from "../types";
import { ErrorBox, KV, Loading, Progress, Section, StateBadge, Table } from "../ui/common";
import { LogPanel } from "../ui/logs";

const DATUM_STATES = ["", "SUCCESS", "SKIPPED", "FAILED", "RECOVERED", "STARTING"];

export function JobView({ project, pipeline, id, state }: { project: string; pipeline: string; id: string; state: string }) {
  const job = useAsync(() => api.job(project, pipeline, id), [project, pipeline, id]);
  const datums = useAsync(() => api.datums(project, pipeline, id, state || undefined), [project, pipeline, id, state]);
  const [live, setLive] = useState<JobProgress | null>(null);
  useEffect(() => setLive(null), [project, pipeline, id]);
  const refresh = useDebounced(() => {
    job.reload();
    datums.reload();
  }, 1500);
  useEvents(["job"], (_, d) => {
    const e = d as JobProgress;
    if (e.pipeline !== pipeline || e.job_id !== id) return;
    setLive(e);
    refresh();
  });
  const j = job.data;
  if (job.error && !j) return <ErrorBox error={job.error} />;
  if (!j) return <Loading what="the job" />;
  const shown: JobInfo = live && !JOB_DONE.has(j.state)
    ? { ...j, state: live.state, data_total: live.total, data_processed: live.processed, data_skipped: live.skipped, data_failed: live.failed, data_recovered: live.recovered }
    : j;
  const running = !JOB_DONE.has(shown.state);
  return (
    <div class="page">
      <nav class="crumbs" aria-label="breadcrumbs">
        <a href={to.pipeline(project, pipeline)}>{pipeline}</a> / <span>job {short(id)}</span>
      </nav>
      <h1>
        Job <code class="id">{id}</code> <StateBadge state={shown.state} />
      </h1>
      {shown.reason ? (
        <p class="error" role="alert">
          <strong>Reason:</strong> {shown.reason}
        </p>
      ) : null}
      <Progress c={{ total: shown.data_total, processed: shown.data_processed, skipped: shown.data_skipped, failed: shown.data_failed, recovered: shown.data_recovered }} state={shown.state} />
      <div class="job-actions">
        {running ? (
          <button type="button" onClick={() => api.stopJob(project, pipeline, id).then(job.reload, job.reload)}>
            Stop job
          </button>
        ) : null}
      </div>
      <KV
        rows={[
          ["pipeline", <a href={to.pipeline(project, pipeline)}>{pipeline}</a>],
          ["version", j.version],
          ["created", time(j.created)],
          ["started", time(j.started)],
          ["finished", time(j.finished)],
          ["duration", duration(j.started, j.finished)],
          ["download", `${bytes(j.download_bytes)} in ${seconds(j.download_seconds)}`],
          ["process", seconds(j.process_seconds)],
          ["upload", `${bytes(j.upload_bytes)} in ${seconds(j.upload_seconds)}`],
          ["inputs", j.inputs.map((i) => (
            <span key={i.name}>
              {i.commit ? <a href={to.commit(i.project || project, i.repo, i.commit)}>{i.name}@{short(i.commit)}</a> : `${i.name}@${i.branch}`}{" "}
            </span>
          ))],
          ["output commit", j.output_commit ? <a href={to.commit(project, pipeline, j.output_commit)}>{pipeline}@{short(j.output_commit)}</a> : "–"],
          ["global ID", <a href={to.dag(project, { gid: id })}>follow {short(id)} through the DAG</a>],
        ]}
      />
      <Section
        title="Datums"
        id="datums"
        actions={
          <label>
            State{" "}
            <select
              value={state}
              onChange={(e) => navigate(to.job(project, pipeline, id, { state: (e.target as HTMLSelectElement).value || undefined }), true)}
            >
              {DATUM_STATES.map((s) => (
                <option key={s} value={s}>
                  {s || "all"}
                </option>
              ))}
            </select>
          </label>
        }
      >
        <ErrorBox error={datums.error} />
        {datums.data ? (
          datums.data.length ? (
            <Table label="datums">
              <thead>
                <tr>
                  <th scope="col">datum</th>
                  <th scope="col">state</th>
                  <th scope="col">inputs</th>
                  <th scope="col" class="num">attempts</th>
                  <th scope="col">time</th>
                  <th scope="col">error</th>
                </tr>
              </thead>
              <tbody>
                {datums.data.map((d) => (
                  <tr key={d.id} data-datum={d.id} data-state={d.state}>
                    <td>
                      <a href={to.datum(project, pipeline, id, d.id)} aria-label={`datum ${d.id}`}>
                        <code>{short(d.id, 12)}</code>
                      </a>
                    </td>
                    <td>
                      <StateBadge state={d.state} />
                    </td>
                    <td class="paths">{d.inputs.map((i) => i.path).join(", ")}</td>
                    <td class="num">{d.attempts}</td>
                    <td>{d.started ? duration(d.started, d.finished) : "–"}</td>
                    <td class="tone-text-bad">{d.error ? d.error.split("\n")[0] : ""}</td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : (
            <p class="muted">No datums{state ? ` in state ${state}` : ""}.</p>
          )
        ) : (
          <Loading what="datums" />
        )}
        {datums.data ? <p class="muted small" data-testid="datum-count">{datums.data.length} datums shown</p> : null}
      </Section>
      <LogPanel title="Job logs" query={{ project, pipeline, job_id: id }} follow={running} />
    </div>
  );
}

