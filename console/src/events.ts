// One shared EventSource on /api/v1/events; views subscribe to `job`, `commit` and `pipeline`
// events. The browser reconnects by itself; the header shows whether the stream is up.
import { useEffect, useRef, useState } from "preact/hooks";
import { url } from "./api";

export type EventKind = "job" | "commit" | "pipeline";
type Listener = (data: unknown) => void;

const listeners: Record<EventKind, Set<Listener>> = { job: new Set(), commit: new Set(), pipeline: new Set() };
const statusListeners = new Set<(up: boolean) => void>();
let source: EventSource | null = null;
let up = false;

function setUp(value: boolean): void {
  up = value;
  for (const fn of statusListeners) fn(value);
}

function connect(): void {
  if (source || typeof EventSource === "undefined") return;
  source = new EventSource(url("events"));
  source.onopen = () => setUp(true);
  source.onerror = () => setUp(source?.readyState === EventSource.OPEN);
  for (const kind of Object.keys(listeners) as EventKind[]) {
    source.addEventListener(kind, (ev) => {
      let data: unknown;
      try {
        data = JSON.parse((ev as MessageEvent).data);
      } catch {
        return;
      }
      for (const fn of listeners[kind]) fn(data);
    });
  }
}

export function subscribe(kind: EventKind, fn: Listener): () => void {
  connect();
  listeners[kind].add(fn);
  return () => listeners[kind].delete(fn);
}

/** Calls the latest `fn` for each event of the given kinds while the component is mounted. */
export function useEvents(kinds: EventKind[], fn: (kind: EventKind, data: unknown) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  const key = kinds.join(",");
  useEffect(() => {
    const offs = kinds.map((k) => subscribe(k, (d) => ref.current(k, d)));
    return () => offs.forEach((off) => off());
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
}

export function useLiveStatus(): boolean {
  const [value, setValue] = useState(up);
  useEffect(() => {
    connect();
    statusListeners.add(setValue);
    setValue(up);
    return () => {
      statusListeners.delete(setValue);
    };
  }, []);
  return value;
}
