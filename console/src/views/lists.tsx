// Plain lists of a project's repos and pipelines (the DAG's content as tables).
import { api } from "../api";
import { useEvents } from "../events";
import { bytes } from "../format";
import { useAsync, useDebounced } from "../hooks";
import { to } from "../router";
import { ErrorBox, Loading, StateBadge, Table, When } from "../ui/common";

export function ReposView({ project }: { project: string }) {
  const repos = useAsync(() => api.repos(project), [project]);
  useEvents(["commit"], useDebounced(repos.reload, 800));
  return (
    <div class="page">
      <h1>Repos of project {project}</h1>
      <ErrorBox error={repos.error} />
      {repos.data ? (
        <Table label="repos">
          <thead>
            <tr>
              <th scope="col">repo</th>
              <th scope="col">type</th>
              <th scope="col" class="num">size</th>
              <th scope="col">branches</th>
              <th scope="col">created</th>
              <th scope="col">description</th>
            </tr>
          </thead>
          <tbody>
            {repos.data.map((r) => (
              <tr key={r.name}>
                <td>
                  <a href={to.repo(project, r.name)}>{r.name}</a>
                </td>
                <td>{r.type}</td>
                <td class="num">{bytes(r.size)}</td>
                <td>{r.branches.join(", ")}</td>
                <td>
                  <When t={r.created} />
                </td>
                <td>{r.description}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <Loading what="repos" />
      )}
    </div>
  );
}

export function PipelinesView({ project }: { project: string }) {
  const pipelines = useAsync(() => api.pipelines(project), [project]);
  useEvents(["pipeline", "job"], useDebounced(pipelines.reload, 800));
  return (
    <div class="page">
      <h1>Pipelines of project {project}</h1>
      <ErrorBox error={pipelines.error} />
      {pipelines.data ? (
        <Table label="pipelines">
          <thead>
            <tr>
              <th scope="col">pipeline</th>
              <th scope="col">state</th>
              <th scope="col">last job</th>
              <th scope="col" class="num">version</th>
              <th scope="col">updated</th>
              <th scope="col">description</th>
            </tr>
          </thead>
          <tbody>
            {pipelines.data.map((p) => (
              <tr key={p.name}>
                <td>
                  <a href={to.pipeline(project, p.name)}>{p.name}</a>
                </td>
                <td>
                  <StateBadge state={p.state} />
                </td>
                <td>
                  {p.last_job_id ? (
                    <a href={to.job(project, p.name, p.last_job_id)}>
                      <StateBadge state={p.last_job_state} />
                    </a>
                  ) : (
                    "–"
                  )}
                </td>
                <td class="num">{p.version}</td>
                <td>
                  <When t={p.updated} />
                </td>
                <td>{p.description}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <Loading what="pipelines" />
      )}
    </div>
  );
}
