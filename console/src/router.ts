// Hash routing: the whole console state a person may bookmark lives in `#/path?query`, so the
// server only has to serve index.html at "/" and every view is a real link.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, qs = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(qs) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

/** `#/a/b?k=v` from path parts and query values (empty values dropped). */
export function href(parts: string[], query: Record<string, string | number | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const qs = q.toString();
  return `#/${parts.map(encodeURIComponent).join("/")}${qs ? `?${qs}` : ""}`;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

// Links to the console's pages, in one place.
export const to = {
  dag: (p: string, q: { node?: string; gid?: string } = {}) => href(["p", p, "dag"], q),
  repo: (p: string, repo: string) => href(["p", p, "repos", repo]),
  commit: (p: string, repo: string, id: string, q: { tab?: string; path?: string; file?: string } = {}) =>
    href(["p", p, "repos", repo, "commits", id], q),
  pipeline: (p: string, name: string) => href(["p", p, "pipelines", name]),
  jobs: (p: string, q: { gid?: string; pipeline?: string } = {}) => href(["p", p, "jobs"], q),
  job: (p: string, pipeline: string, id: string, q: { state?: string } = {}) =>
    href(["p", p, "pipelines", pipeline, "jobs", id], q),
  datum: (p: string, pipeline: string, job: string, datum: string) =>
    href(["p", p, "pipelines", pipeline, "jobs", job, "datums", datum]),
  logs: (p: string, q: { pipeline?: string; job?: string; datum?: string } = {}) => href(["p", p, "logs"], q),
};
