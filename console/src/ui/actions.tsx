// Start / stop / rerun buttons of a pipeline, shared by the DAG panel and the pipeline page.
import { useState } from "preact/hooks";
import { api } from "../api";
import type { PipelineInfo } from "../types";

export function PipelineActions({ p, onChanged }: { p: PipelineInfo; onChanged?: () => void }) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async (what: string, call: () => Promise<unknown>) => {
    setBusy(true);
    setMessage(null);
    try {
      await call();
      setMessage({ ok: true, text: `${what}: done` });
      onChanged?.();
    } catch (err) {
      setMessage({ ok: false, text: `${what} failed: ${(err as Error).message}` });
    } finally {
      setBusy(false);
    }
  };
  const paused = p.state === "PAUSED";
  return (
    <div class="pipeline-actions">
      <div class="button-row" role="group" aria-label={`actions on pipeline ${p.name}`}>
        {paused ? (
          <button type="button" disabled={busy} onClick={() => run("Start", () => api.startPipeline(p.project, p.name))}>
            Start
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => run("Stop", () => api.stopPipeline(p.project, p.name))}>
            Stop
          </button>
        )}
        <button
          type="button"
          disabled={busy}
          title="A new job on the current inputs; only the datums that failed (or are new) run again"
          onClick={() => run("Rerun failed", () => api.rerunPipeline(p.project, p.name, false))}
        >
          Rerun only failed
        </button>
        <button
          type="button"
          disabled={busy}
          title="A new job on the current inputs that reprocesses every datum"
          onClick={() => {
            if (confirm(`Reprocess every datum of ${p.name}?`)) run("Rerun all", () => api.rerunPipeline(p.project, p.name, true));
          }}
        >
          Rerun, reprocess all
        </button>
      </div>
      {message ? (
        <p class={message.ok ? "note" : "error"} role={message.ok ? "status" : "alert"}>
          {message.text}
        </p>
      ) : null}
    </div>
  );
}
