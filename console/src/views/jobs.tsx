// The jobs of a project (or of one pipeline, or of one global ID), newest first, live.
import { api } from "../api";
import { useEvents } from "../events";
import { duration, short } from "../format";
import { useAsync, useDebounced } from "../hooks";
import { to } from "../router";
import type { JobInfo } from "../types";
import { ErrorBox, Loading, StateBadge, Table, When } from "../ui/common";

export function JobsView({ project, pipeline, gid }: { project: string; pipeline?: string; gid?: string }) {
  const jobs = useAsync(() => api.jobs({ project, pipeline, job_id: gid, number: 200 }), [project, pipeline, gid]);
  const reload = useDebounced(jobs.reload, 700);
  useEvents(["job"], reload);
  return (
    <div class="page">
      <h1>
        Jobs{pipeline ? ` of pipeline ${pipeline}` : ""}
        {gid ? (
          <>
            {" "}
            of global ID <code>{short(gid, 12)}</code>
          </>
        ) : null}
      </h1>
      <ErrorBox error={jobs.error} />
      {jobs.data ? <JobsTable project={project} jobs={jobs.data} showPipeline={!pipeline} /> : <Loading what="jobs" />}
    </div>
  );
}

export function JobsTable({ project, jobs, showPipeline = true }: { project: string; jobs: JobInfo[]; showPipeline?: boolean }) {
  if (!jobs.length) return <p class="muted">No jobs.</p>;
  return (
    <Table label="jobs">
      <thead>
        <tr>
          {showPipeline ? <th scope="col">pipeline</th> : null}
          <th scope="col">job</th>
          <th scope="col">state</th>
          <th scope="col">created</th>
          <th scope="col">duration</th>
          <th scope="col" class="num">datums</th>
          <th scope="col" class="num">processed</th>
          <th scope="col" class="num">skipped</th>
          <th scope="col" class="num">failed</th>
          <th scope="col" class="num">v</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={`${j.pipeline}/${j.id}`} data-job={j.id} data-pipeline={j.pipeline}>
            {showPipeline ? (
              <td>
                <a href={to.pipeline(j.project || project, j.pipeline)}>{j.pipeline}</a>
              </td>
            ) : null}
            <td>
              <a href={to.job(j.project || project, j.pipeline, j.id)} aria-label={`job ${j.id} of ${j.pipeline}`}>
                <code>{short(j.id)}</code>
              </a>
            </td>
            <td>
              <StateBadge state={j.state} />
            </td>
            <td>
              <When t={j.created} />
            </td>
            <td>{duration(j.started, j.finished)}</td>
            <td class="num">{j.data_total}</td>
            <td class="num">{j.data_processed}</td>
            <td class="num">{j.data_skipped}</td>
            <td class="num">{j.data_failed ? <span class="tone-text-bad">{j.data_failed}</span> : 0}</td>
            <td class="num">{j.version}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
