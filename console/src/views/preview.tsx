// The preview of one file: images inline, CSV/TSV and JSON (arrays of objects) as tables,
// other text as text; binary or large files only offer the download.
import { api } from "../api";
import { bytes } from "../format";
import { useAsync } from "../hooks";
import type { FileInfo } from "../types";
import { ErrorBox, Loading, Table } from "../ui/common";

const MAX_PREVIEW = 2 * 1024 * 1024;
const MAX_ROWS = 500;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|ico|avif)$/i;

const ext = (path: string) => (path.match(/\.([^./]+)$/)?.[1] ?? "").toLowerCase();

export function FilePreview({ gitRef, info }: { gitRef: string; info: FileInfo }) {
  if (IMAGE.test(info.path)) {
    return (
      <div class="preview-image">
        <img src={api.contentUrl(gitRef, info.path)} alt={`preview of ${info.path}`} />
      </div>
    );
  }
  if (info.size > MAX_PREVIEW) {
    return <p class="muted">This file is {bytes(info.size)}: too large to preview here. Download it instead.</p>;
  }
  return <TextPreview gitRef={gitRef} info={info} />;
}

function TextPreview({ gitRef, info }: { gitRef: string; info: FileInfo }) {
  const body = useAsync(async () => {
    const res = await fetch(api.contentUrl(gitRef, info.path));
    if (!res.ok) throw new Error(`HTTP ${res.status} reading ${info.path}`);
    const buf = new Uint8Array(await res.arrayBuffer());
    if (buf.subarray(0, 8192).includes(0)) return null; // binary
    return new TextDecoder("utf-8").decode(buf);
  }, [gitRef, info.path, info.hash]);
  if (body.error) return <ErrorBox error={body.error} />;
  if (body.data === undefined) return <Loading what="the preview" />;
  if (body.data === null) return <p class="muted">Binary file: no preview. Download it instead.</p>;
  const text = body.data;
  const kind = ext(info.path);
  if (kind === "csv" || kind === "tsv") {
    const rows = parseDelimited(text, kind === "tsv" ? "\t" : ",");
    return <RowsTable label={`table of ${info.path}`} header={rows[0] ?? []} rows={rows.slice(1)} />;
  }
  if (kind === "json" || kind === "jsonl" || kind === "ndjson") {
    const table = jsonTable(text, kind !== "json");
    if (table) return <RowsTable label={`table of ${info.path}`} header={table.header} rows={table.rows} />;
    return <pre class="file-text" tabIndex={0}>{prettyJson(text)}</pre>;
  }
  return (
    <pre class="file-text" tabIndex={0} aria-label={`contents of ${info.path}`}>
      {text}
    </pre>
  );
}

function RowsTable({ label, header, rows }: { label: string; header: string[]; rows: string[][] }) {
  return (
    <>
      <Table label={label}>
        <thead>
          <tr>
            {header.map((h, i) => (
              <th key={i} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, MAX_ROWS).map((r, i) => (
            <tr key={i}>
              {header.map((_, j) => (
                <td key={j}>{r[j] ?? ""}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </Table>
      <p class="muted small">
        {rows.length} rows{rows.length > MAX_ROWS ? `, first ${MAX_ROWS} shown` : ""}
      </p>
    </>
  );
}

/** RFC 4180-style rows: quoted fields may hold the delimiter, quotes ("") and newlines. */
export function parseDelimited(text: string, delim: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === delim) {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** A table of a JSON array of objects (or of JSON lines), else null. */
function jsonTable(text: string, lines: boolean): { header: string[]; rows: string[][] } | null {
  let items: unknown;
  try {
    items = lines ? text.split(/\r?\n/).filter((l) => l.trim()).map((l) => JSON.parse(l)) : JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(items) || !items.length || !items.every((o) => o && typeof o === "object" && !Array.isArray(o))) return null;
  const header: string[] = [];
  for (const o of items as Record<string, unknown>[]) for (const k of Object.keys(o)) if (!header.includes(k)) header.push(k);
  return { header, rows: (items as Record<string, unknown>[]).map((o) => header.map((h) => cell(o[h]))) };
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
