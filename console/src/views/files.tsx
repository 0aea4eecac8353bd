// A file browser at one commit: directories, and a preview of the chosen file (text, image,
// CSV/TSV or JSON as a table) with a download link.
import { api } from "../api";
import { bytes, short } from "../format";
import { useAsync } from "../hooks";
import type { FileInfo } from "../types";
import { ErrorBox, Loading, Table } from "../ui/common";
import { FilePreview } from "./preview";

function FileIcon({ dir }: { dir: boolean }) {
  return (
    <svg class="file-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      {dir ? (
        <path d="M1.5 3.5h5l1.5 1.5h6.5v8h-13z" />
      ) : (
        <path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3" />
      )}
    </svg>
  );
}

const baseName = (path: string) => path.replace(/\/$/, "").split("/").pop() || "/";

export function FileBrowser({ gitRef, path, file, link }: {
  gitRef: string;
  path: string;
  file?: string;
  link: (path: string, file?: string) => string;
}) {
  const dir = path.endsWith("/") ? path : `${path}/`;
  const list = useAsync(() => api.listFiles(gitRef, dir), [gitRef, dir]);
  const parts = dir.split("/").filter(Boolean);
  const chosen = file ? list.data?.find((f) => f.path === file) : undefined;
  return (
    <div class="files">
      <nav class="crumbs" aria-label="directory">
        <a href={link("/")}>root</a>
        {parts.map((p, i) => (
          <span key={i}>
            {" / "}
            <a href={link(`/${parts.slice(0, i + 1).join("/")}/`)}>{p}</a>
          </span>
        ))}
      </nav>
      <div class="files-grid">
        <div class="files-list">
          <ErrorBox error={list.error} />
          {list.data ? (
            list.data.length ? (
              <Table label={`files in ${dir}`}>
                <thead>
                  <tr>
                    <th scope="col">name</th>
                    <th scope="col" class="num">size</th>
                    <th scope="col">hash</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.map((f) => (
                    <tr key={f.path} class={f.path === file ? "current" : undefined}>
                      <td>
                        <a
                          href={f.type === "dir" ? link(f.path.endsWith("/") ? f.path : `${f.path}/`) : link(dir, f.path)}
                          class={`file-link type-${f.type}`}
                          aria-current={f.path === file ? "true" : undefined}
                          aria-label={`${f.type === "dir" ? "directory" : "file"} ${baseName(f.path)}`}
                        >
                          <FileIcon dir={f.type === "dir"} />
                          {baseName(f.path)}
                          {f.type === "dir" ? "/" : ""}
                        </a>
                      </td>
                      <td class="num">{bytes(f.size)}</td>
                      <td>
                        <code class="muted">{short(f.hash, 10)}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            ) : (
              <p class="muted">Empty directory.</p>
            )
          ) : (
            <Loading what="files" />
          )}
        </div>
        {file ? (
          <FileCard gitRef={gitRef} file={file} info={chosen} />
        ) : (
          <p class="muted files-hint">Choose a file to preview it.</p>
        )}
      </div>
    </div>
  );
}

function FileCard({ gitRef, file, info }: { gitRef: string; file: string; info?: FileInfo }) {
  const fetched = useAsync(() => (info ? Promise.resolve(info) : api.fileInfo(gitRef, file)), [gitRef, file, info]);
  const f = fetched.data;
  return (
    <section class="preview card" aria-labelledby="preview-h">
      <header class="card-head">
        <h2 id="preview-h">{baseName(file)}</h2>
        <div class="actions">
          <a class="button" href={api.contentUrl(gitRef, file, true)} download={baseName(file)}>
            Download
          </a>
        </div>
      </header>
      <ErrorBox error={fetched.error} />
      {f ? (
        <>
          <p class="muted small">
            {f.path} · {bytes(f.size)} · <code>{short(f.hash, 16)}</code>
          </p>
          <FilePreview gitRef={gitRef} info={f} />
        </>
      ) : (
        <Loading />
      )}
    </section>
  );
}
