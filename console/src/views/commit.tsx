// One commit: its record (origin, size, description, provenance), a file browser at it, and
// its diff against its parent.
import { api, commitRef } from "../api";
import { bytes, short, time } from "../format";
import { useAsync } from "../hooks";
import { to } from "../router";
import { ErrorBox, KV, Loading, StateBadge, Table } from "../ui/common";
import { FileBrowser } from "./files";
import { ProvenanceLinks } from "./repo";

export function CommitView({ project, repo, id, tab, path, file }: {
  project: string;
  repo: string;
  id: string;
  tab: string;
  path: string;
  file?: string;
}) {
  const commit = useAsync(() => api.commit(commitRef(project, repo, id)), [project, repo, id]);
  const c = commit.data;
  if (commit.error) return <ErrorBox error={commit.error} />;
  if (!c) return <Loading what="the commit" />;
  const ref = commitRef(project, repo, c.id);
  const link = (q: { tab?: string; path?: string; file?: string }) => to.commit(project, repo, id, q);
  return (
    <div class="page">
      <nav class="crumbs" aria-label="breadcrumbs">
        <a href={to.repo(project, repo)}>{repo}</a> / <span>commit {short(c.id)}</span>
      </nav>
      <h1>
        Commit <code class="id">{c.id}</code>
      </h1>
      {c.description ? <p>{c.description}</p> : null}
      {c.error ? (
        <p class="error" role="alert">
          {c.error}
        </p>
      ) : null}
      <KV
        rows={[
          ["repo", <a href={to.repo(project, repo)}>{repo}</a>],
          ["branch", c.branch ?? "–"],
          ["origin", c.origin],
          ["state", <StateBadge state={c.state} />],
          ["started", time(c.started)],
          ["finished", time(c.finished)],
          ["size", `${bytes(c.size)} in ${c.file_count} files`],
          ["parent", c.parent ? <a href={to.commit(project, repo, c.parent)}><code>{short(c.parent)}</code></a> : "–"],
          ["children", c.children.length ? c.children.map((ch) => <a key={ch} href={to.commit(project, repo, ch)}><code>{short(ch)}</code> </a>) : "–"],
          ["provenance", <ProvenanceLinks project={project} refs={c.provenance} />],
          ["subvenance", <ProvenanceLinks project={project} refs={c.subvenance} />],
          ["global ID", <a href={to.dag(project, { gid: c.id })}>follow through the DAG</a>],
        ]}
      />
      <div class="tabs" role="tablist" aria-label="commit views">
        <a role="tab" aria-selected={tab !== "diff"} href={link({ path })}>
          Files
        </a>
        <a role="tab" aria-selected={tab === "diff"} href={link({ tab: "diff" })}>
          Diff against parent
        </a>
      </div>
      <div role="tabpanel" class="tab-body">
        {tab === "diff" ? (
          <DiffView project={project} repo={repo} id={id} newRef={ref} hasParent={!!c.parent} />
        ) : (
          <FileBrowser gitRef={ref} path={path} file={file} link={(p, f) => link({ path: p, file: f })} />
        )}
      </div>
    </div>
  );
}

function DiffView({ project, repo, id, newRef, hasParent }: {
  project: string;
  repo: string;
  id: string;
  newRef: string;
  hasParent: boolean;
}) {
  const diff = useAsync(() => api.diff(newRef, undefined, "/"), [newRef]);
  if (diff.error) return <ErrorBox error={diff.error} />;
  if (!diff.data) return <Loading what="the diff" />;
  if (!diff.data.length) return <p class="muted">No changes{hasParent ? " against the parent" : ""}.</p>;
  const counts = { added: 0, deleted: 0, changed: 0 };
  for (const d of diff.data) counts[d.change]++;
  return (
    <>
      <p>
        {hasParent ? "Against the parent commit: " : "First commit: "}
        <span class="tone-text-ok">{counts.added} added</span>, <span class="tone-text-busy">{counts.changed} changed</span>,{" "}
        <span class="tone-text-bad">{counts.deleted} deleted</span>.
      </p>
      <Table label="diff">
        <thead>
          <tr>
            <th scope="col">change</th>
            <th scope="col">path</th>
            <th scope="col" class="num">old size</th>
            <th scope="col" class="num">new size</th>
          </tr>
        </thead>
        <tbody>
          {diff.data.map((d) => (
            <tr key={d.path} class={`change-${d.change}`}>
              <td>
                <span class={`badge tone-${d.change === "added" ? "ok" : d.change === "deleted" ? "bad" : "busy"}`}>{d.change}</span>
              </td>
              <td>
                {d.new && d.new.type === "file" ? (
                  <a href={to.commit(project, repo, id, { path: parentDir(d.path), file: d.path })}>{d.path}</a>
                ) : (
                  d.path
                )}
              </td>
              <td class="num">{d.old ? bytes(d.old.size) : "–"}</td>
              <td class="num">{d.new ? bytes(d.new.size) : "–"}</td>
            </tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}

export function parentDir(path: string): string {
  const i = path.replace(/\/$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i + 1);
}
