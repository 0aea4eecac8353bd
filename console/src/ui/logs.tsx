// Log lines of a pipeline, job or datum: the last lines, or a live stream (server-sent
// events from /api/v1/logs?follow=true) that keeps appending.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type LogQuery } from "../api";
import { short } from "../format";
import type { LogRecord } from "../types";
import { ErrorBox } from "./common";

const TAIL = 500;
const KEEP = 5000;

export function LogPanel({ query, follow: followInit, title = "Logs" }: { query: LogQuery; follow: boolean; title?: string }) {
  const [follow, setFollow] = useState(followInit);
  const [lines, setLines] = useState<LogRecord[]>([]);
  const [error, setError] = useState<Error | undefined>();
  const [live, setLive] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const key = JSON.stringify(query);

  useEffect(() => setFollow(followInit), [followInit]);

  useEffect(() => {
    setLines([]);
    setError(undefined);
    if (!follow) {
      let cancelled = false;
      api.logs({ ...query, tail: TAIL }).then(
        (rows) => !cancelled && setLines(rows),
        (err: Error) => !cancelled && setError(err),
      );
      return () => {
        cancelled = true;
      };
    }
    let lastId = 0;
    const source = new EventSource(api.logsFollowUrl({ ...query, tail: TAIL }));
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(source.readyState === EventSource.OPEN);
    source.addEventListener("log", (ev) => {
      const m = ev as MessageEvent;
      const id = Number(m.lastEventId || 0);
      if (id && id <= lastId) return; // a reconnect replays the tail
      lastId = id || lastId;
      const rec = JSON.parse(m.data) as LogRecord;
      setLines((old) => (old.length >= KEEP ? [...old.slice(old.length - KEEP + 1), rec] : [...old, rec]));
    });
    return () => {
      source.close();
      setLive(false);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, follow]);

  useEffect(() => {
    const el = box.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [lines, follow]);

  return (
    <section class="card logs" aria-label={title}>
      <header class="card-head">
        <h2>{title}</h2>
        <div class="actions">
          <label class="check">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> Follow live
          </label>
          {follow ? <span class={`live-dot ${live ? "on" : ""}`} title={live ? "streaming" : "connecting"} aria-label={live ? "streaming" : "connecting"} /> : null}
        </div>
      </header>
      <ErrorBox error={error} />
      <div class="log-box" ref={box} tabIndex={0} role="log" aria-live={follow ? "polite" : "off"} aria-label={`${title} lines`}>
        {lines.length ? (
          lines.map((l, i) => (
            <div key={i} class={`log-line stream-${l.stream}`}>
              <span class="log-time">{new Date(l.time * 1000).toLocaleTimeString()}</span>
              {query.pipeline ? null : <span class="log-meta">{l.pipeline}</span>}
              {query.datum_id ? null : <span class="log-meta" title={`datum ${l.datum_id}`}>{short(l.datum_id, 8)}</span>}
              <span class="log-text">{l.line}</span>
            </div>
          ))
        ) : (
          <p class="muted">{follow ? "Waiting for log lines…" : "No log lines."}</p>
        )}
      </div>
    </section>
  );
}
