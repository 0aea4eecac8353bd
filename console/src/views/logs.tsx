// Logs of a project, a pipeline, a job or a datum, chosen in a form kept in the URL.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { useAsync } from "../hooks";
import { navigate, to } from "../router";
import { LogPanel } from "../ui/logs";

export function LogsView({ project, pipeline, job, datum, follow }: {
  project: string;
  pipeline?: string;
  job?: string;
  datum?: string;
  follow: boolean;
}) {
  const pipelines = useAsync(() => api.pipelines(project), [project]);
  const [form, setForm] = useState({ pipeline: pipeline ?? "", job: job ?? "", datum: datum ?? "" });
  useEffect(() => setForm({ pipeline: pipeline ?? "", job: job ?? "", datum: datum ?? "" }), [pipeline, job, datum]);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  return (
    <div class="page">
      <h1>Logs</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(to.logs(project, { pipeline: form.pipeline || undefined, job: form.job.trim() || undefined, datum: form.datum.trim() || undefined }));
        }}
      >
        <label>
          Pipeline
          <select value={form.pipeline} onChange={set("pipeline")}>
            <option value="">all</option>
            {(pipelines.data ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Job ID
          <input value={form.job} onInput={set("job")} spellcheck={false} autocomplete="off" />
        </label>
        <label>
          Datum ID
          <input value={form.datum} onInput={set("datum")} spellcheck={false} autocomplete="off" />
        </label>
        <button type="submit">Show</button>
      </form>
      <LogPanel
        title={pipeline ? `Logs of ${pipeline}${job ? ` job ${job.slice(0, 8)}` : ""}${datum ? ` datum ${datum.slice(0, 8)}` : ""}` : `Logs of project ${project}`}
        query={{ project, pipeline, job_id: job, datum_id: datum }}
        follow={follow}
      />
    </div>
  );
}
