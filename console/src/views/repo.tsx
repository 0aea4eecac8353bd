// A repo: its branches and its commit history (origin, size, description, provenance).
import { useState } from "preact/hooks";
import { api } from "../api";
import { useEvents } from "../events";
import { bytes, short } from "../format";
import { useAsync, useDebounced } from "../hooks";
import { to } from "../router";
import type { CommitEvent, CommitInfo } from "../types";
import { ErrorBox, KV, Loading, Section, StateBadge, Table, When } from "../ui/common";

export function RepoView({ project, repo }: { project: string; repo: string }) {
  const [limit, setLimit] = useState(50);
  const info = useAsync(() => api.repo(project, repo), [project, repo]);
  const branches = useAsync(() => api.branches(project, repo), [project, repo]);
  const commits = useAsync(() => api.commits(project, repo, limit), [project, repo, limit]);
  const reload = useDebounced(() => {
    info.reload();
    branches.reload();
    commits.reload();
  }, 500);
  useEvents(["commit"], (_, d) => {
    const e = d as CommitEvent;
    if (e.repo === repo && (e.project ?? "default") === project) reload();
  });
  const r = info.data;
  return (
    <div class="page">
      <h1>
        Repo {repo} {r ? <span class="muted small">({r.type})</span> : null}
      </h1>
      <ErrorBox error={info.error} />
      {r ? (
        <>
          {r.description ? <p>{r.description}</p> : null}
          <KV rows={[["size", bytes(r.size)], ["created", <When t={r.created} />], ["project", r.project]]} />
        </>
      ) : null}
      <Section title="Branches" id="branches">
        <ErrorBox error={branches.error} />
        {branches.data ? (
          <Table label="branches">
            <thead>
              <tr>
                <th scope="col">branch</th>
                <th scope="col">head</th>
                <th scope="col">created</th>
                <th scope="col">files</th>
              </tr>
            </thead>
            <tbody>
              {branches.data.map((b) => (
                <tr key={b.name}>
                  <td>{b.name}</td>
                  <td>{b.head ? <a href={to.commit(project, repo, b.head)}><code>{short(b.head)}</code></a> : "–"}</td>
                  <td><When t={b.created} /></td>
                  <td>{b.head ? <a href={to.commit(project, repo, b.head)}>browse</a> : null}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <Loading />
        )}
      </Section>
      <Section title="Commits" id="commits">
        <ErrorBox error={commits.error} />
        {commits.data ? <CommitTable project={project} commits={commits.data} /> : <Loading />}
        {commits.data && commits.data.length >= limit ? (
          <button type="button" onClick={() => setLimit(limit * 2)}>
            Show more
          </button>
        ) : null}
      </Section>
    </div>
  );
}

export function CommitTable({ project, commits }: { project: string; commits: CommitInfo[] }) {
  if (!commits.length) return <p class="muted">No commits yet.</p>;
  return (
    <Table label="commits">
      <thead>
        <tr>
          <th scope="col">commit</th>
          <th scope="col">branch</th>
          <th scope="col">origin</th>
          <th scope="col">state</th>
          <th scope="col">started</th>
          <th scope="col" class="num">size</th>
          <th scope="col" class="num">files</th>
          <th scope="col">description</th>
          <th scope="col">provenance</th>
        </tr>
      </thead>
      <tbody>
        {commits.map((c) => (
          <tr key={`${c.repo}@${c.id}`}>
            <td>
              <a href={to.commit(c.project || project, c.repo, c.id)}>
                <code>{short(c.id)}</code>
              </a>
            </td>
            <td>{c.branch ?? "–"}</td>
            <td>{c.origin}</td>
            <td>
              {c.error ? <StateBadge state="FAILURE" /> : <StateBadge state={c.state} />}
            </td>
            <td><When t={c.started} /></td>
            <td class="num">{bytes(c.size)}</td>
            <td class="num">{c.file_count}</td>
            <td>{c.description || <span class="muted">–</span>}</td>
            <td>
              <ProvenanceLinks project={project} refs={c.provenance} />
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

export function ProvenanceLinks({ project, refs }: { project: string; refs: { repo: string; id: string; project: string }[] }) {
  if (!refs.length) return <span class="muted">–</span>;
  return (
    <span class="prov">
      {refs.map((p, i) => (
        <>
          {i ? ", " : ""}
          <a key={`${p.repo}@${p.id}`} href={to.commit(p.project || project, p.repo, p.id)}>
            {p.repo}@<code>{short(p.id)}</code>
          </a>
        </>
      ))}
    </span>
  );
}
