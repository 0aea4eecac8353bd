// One datum: state, attempts and error, its input files (linked to their preview), timings
// and bytes, and its own log lines.
import { api } from "../api";
import { bytes, duration, seconds, short, time } from "../format";
import { useAsync } from "../hooks";
import { to } from "../router";
import { ErrorBox, KV, Loading, Section, StateBadge, Table } from "../ui/common";
import { LogPanel } from "../ui/logs";
import { parentDir } from "./commit";

export function DatumView({ project, pipeline, job, id }: { project: string; pipeline: string; job: string; id: string }) {
  const datum = useAsync(() => api.datum(project, pipeline, job, id), [project, pipeline, job, id]);
  const jobInfo = useAsync(() => api.job(project, pipeline, job), [project, pipeline, job]);
  const outs = useAsync(() => api.datumOutputs(project, pipeline, job, id), [project, pipeline, job, id]);
  const d = datum.data;
  if (datum.error && !d) return <ErrorBox error={datum.error} />;
  if (!d) return <Loading what="the datum" />;
  const running = d.state === "STARTING";
  const outputs = outs.data;
  const outCommit = jobInfo.data?.output_commit;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="breadcrumbs">
        <a href={to.pipeline(project, pipeline)}>{pipeline}</a> / <a href={to.job(project, pipeline, job)}>job {short(job)}</a> /{" "}
        <span>datum {short(id, 12)}</span>
      </nav>
      <h1>
        Datum <code class="id">{id}</code> <StateBadge state={d.state} />
      </h1>
      {d.error ? (
        <pre class="error datum-error" role="alert">
          {d.error}
        </pre>
      ) : null}
      <KV
        rows={[
          ["job", <a href={to.job(project, pipeline, job)}><code>{job}</code></a>],
          ["attempts", d.attempts],
          ["worker", d.worker || "–"],
          ["hash", <code>{short(d.hash, 16)}</code>],
          ["started", time(d.started)],
          ["finished", time(d.finished)],
          ["duration", d.started ? duration(d.started, d.finished) : "–"],
          ["download", `${bytes(d.download_bytes)} in ${seconds(d.download_seconds)}`],
          ["process", seconds(d.process_seconds)],
          ["upload", `${bytes(d.upload_bytes)} in ${seconds(d.upload_seconds)}`],
        ]}
      />
      <Section title="Inputs" id="inputs">
        <Table label="datum inputs">
          <thead>
            <tr>
              <th scope="col">input</th>
              <th scope="col">repo</th>
              <th scope="col">commit</th>
              <th scope="col">path</th>
            </tr>
          </thead>
          <tbody>
            {d.inputs.map((i, n) => (
              <tr key={n}>
                <td>{i.name}</td>
                <td>
                  <a href={to.repo(i.project || project, i.repo)}>{i.repo}</a>
                </td>
                <td>{i.commit ? <a href={to.commit(i.project || project, i.repo, i.commit)}><code>{short(i.commit)}</code></a> : i.branch ?? "–"}</td>
                <td>
                  {i.commit && i.path ? (
                    <a href={to.commit(i.project || project, i.repo, i.commit, { path: parentDir(i.path), file: i.path.endsWith("/") ? undefined : i.path })}>{i.path}</a>
                  ) : (
                    i.path ?? "–"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      </Section>
      <Section title="Outputs" id="outputs">
        {outputs && outputs.length ? (
          <ul class="plain-list" aria-label="datum outputs">
            {outputs.map((o) => (
              <li key={o.path}>
                {outCommit ? <a href={to.commit(project, pipeline, outCommit, { path: parentDir(o.path), file: o.path })}>{o.path}</a> : o.path}{" "}
                <span class="muted">{bytes(o.size)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p>
            {d.state === "SUCCESS" || d.state === "SKIPPED" || d.state === "RECOVERED" ? "Its files are part of " : "A successful datum's files go to "}
            {outCommit ? (
              <a href={to.commit(project, pipeline, outCommit)}>
                the job's output commit {pipeline}@{short(outCommit)}
              </a>
            ) : (
              "the job's output commit"
            )}
            .
          </p>
        )}
      </Section>
      <LogPanel title="Datum logs" query={{ project, pipeline, job_id: job, datum_id: id }} follow={running} />
    </div>
  );
}
