// Small shared pieces: state badges, times, errors, key/value lists, the progress bar.
import type { ComponentChildren } from "preact";
import { ApiError } from "../api";
import { ago, time } from "../format";

/** The colour class of a job, pipeline, commit or datum state. */
export function stateTone(state: string | null | undefined): string {
  switch ((state ?? "").toUpperCase()) {
    case "SUCCESS":
    case "FINISHED":
    case "RUNNING_DONE":
      return "ok";
    case "FAILURE":
    case "FAILED":
    case "CRASHING":
    case "UNRUNNABLE":
      return "bad";
    case "KILLED":
    case "RECOVERED":
    case "RESTARTING":
      return "warn";
    case "RUNNING":
    case "STARTING":
    case "EGRESSING":
    case "FINISHING":
    case "STARTED":
    case "CREATED":
      return "busy";
    case "SKIPPED":
    case "PAUSED":
    case "STANDBY":
      return "idle";
    default:
      return "none";
  }
}

export function StateBadge({ state, label }: { state: string | null | undefined; label?: string }) {
  const s = state ?? "none";
  return (
    <span class={`badge tone-${stateTone(state)}`} title={label ? `${label}: ${s}` : s}>
      {label ? <span class="badge-label">{label} </span> : null}
      {s}
    </span>
  );
}

export function When({ t }: { t: number | null | undefined }) {
  if (!t) return <span>–</span>;
  return (
    <time dateTime={new Date(t * 1000).toISOString()} title={time(t)}>
      {ago(t)}
    </time>
  );
}

export function ErrorBox({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const kind = error instanceof ApiError ? `${error.type} (HTTP ${error.status})` : "Error";
  return (
    <div class="error" role="alert">
      <strong>{kind}:</strong> {error.message}
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return (
    <p class="muted" role="status">
      Loading{what ? ` ${what}` : ""}…
    </p>
  );
}

export function KV({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Section({ title, children, actions, id }: {
  title: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  id?: string;
}) {
  return (
    <section class="card" aria-labelledby={id ? `${id}-h` : undefined}>
      <header class="card-head">
        <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
        {actions ? <div class="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** A table that scrolls sideways on a narrow screen instead of overflowing the page. */
export function Table({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </div>
  );
}

export interface Counts {
  total: number;
  processed: number;
  skipped: number;
  failed: number;
  recovered: number;
}

/** Datums processed / skipped / failed / recovered out of total, as a bar and as numbers. */
export function Progress({ c, state }: { c: Counts; state?: string }) {
  const total = Math.max(c.total, 1);
  const pct = (n: number) => `${(100 * n) / total}%`;
  const done = c.processed + c.skipped + c.failed + c.recovered;
  return (
    <div class="progress-box">
      <div
        class="progress"
        role="progressbar"
        aria-label="datums done"
        aria-valuemin={0}
        aria-valuemax={c.total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${c.total} datums done${state ? `, job ${state}` : ""}`}
      >
        <span class="seg tone-ok" style={{ width: pct(c.processed) }} />
        <span class="seg tone-idle" style={{ width: pct(c.skipped) }} />
        <span class="seg tone-warn" style={{ width: pct(c.recovered) }} />
        <span class="seg tone-bad" style={{ width: pct(c.failed) }} />
      </div>
      <ul class="counts" aria-label="datum counts">
        <li data-count="processed"><span class="dot tone-ok" />processed <b>{c.processed}</b></li>
        <li data-count="skipped"><span class="dot tone-idle" />skipped <b>{c.skipped}</b></li>
        <li data-count="recovered"><span class="dot tone-warn" />recovered <b>{c.recovered}</b></li>
        <li data-count="failed"><span class="dot tone-bad" />failed <b>{c.failed}</b></li>
        <li data-count="total">total <b>{c.total}</b></li>
      </ul>
    </div>
  );
}

export const jobCounts = (j: {
  data_total: number;
  data_processed: number;
  data_skipped: number;
  data_failed: number;
  data_recovered: number;
}): Counts => ({
  total: j.data_total,
  processed: j.data_processed,
  skipped: j.data_skipped,
  failed: j.data_failed,
  recovered: j.data_recovered,
});
