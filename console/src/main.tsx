// loxo console: the shell (header, project choice, navigation, live status) and the router
// that picks a view from the URL hash. Everything it shows comes from loxo serve's public
// HTTP API under /api/v1; live updates come from its server-sent events.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, UNAUTHENTICATED } from "./api";
import { useLiveStatus } from "./events";
import { useAsync } from "./hooks";
import { navigate, to, useRoute, type Route } from "./router";
import "./style.css";
import { TokenForm } from "./ui/token";
import { CommitView } from "./views/commit";
import { DagView } from "./views/dag";
import { DatumView } from "./views/datum";
import { JobView } from "./views/job";
import { JobsView } from "./views/jobs";
import { PipelinesView, ReposView } from "./views/lists";
import { LogsView } from "./views/logs";
import { PipelineView } from "./views/pipeline";
import { RepoView } from "./views/repo";

function View({ route }: { route: Route }) {
  const [p0, project = "default", section = "dag", a, b, c, d, e] = route.parts;
  const q = (k: string) => route.query.get(k) ?? undefined;
  if (p0 !== "p") return <DagView project="default" />;
  switch (section) {
    case "dag":
      return <DagView project={project} node={q("node")} gid={q("gid")} />;
    case "repos":
      if (!a) return <ReposView project={project} />;
      if (b === "commits" && c)
        return <CommitView project={project} repo={a} id={c} tab={q("tab") ?? "files"} path={q("path") ?? "/"} file={q("file")} />;
      return <RepoView project={project} repo={a} />;
    case "pipelines":
      if (!a) return <PipelinesView project={project} />;
      if (b === "jobs" && c && d === "datums" && e) return <DatumView project={project} pipeline={a} job={c} id={e} />;
      if (b === "jobs" && c) return <JobView project={project} pipeline={a} id={c} state={q("state") ?? ""} />;
      return <PipelineView project={project} name={a} />;
    case "jobs":
      return <JobsView project={project} pipeline={q("pipeline")} gid={q("gid")} />;
    case "logs":
      return <LogsView project={project} pipeline={q("pipeline")} job={q("job")} datum={q("datum")} follow={q("follow") !== "0"} />;
    default:
      return <p>Unknown page. <a href={to.dag(project)}>Back to the DAG</a>.</p>;
  }
}

const SECTIONS: [string, string][] = [
  ["dag", "DAG"],
  ["repos", "Repos"],
  ["pipelines", "Pipelines"],
  ["jobs", "Jobs"],
  ["logs", "Logs"],
];

function App() {
  const route = useRoute();
  const project = route.parts[0] === "p" && route.parts[1] ? route.parts[1] : "default";
  const section = route.parts[0] === "p" ? route.parts[2] ?? "dag" : "dag";
  const projects = useAsync(() => api.projects(), []);
  const version = useAsync(() => api.version(), []);
  const live = useLiveStatus();
  const main = useRef<HTMLElement>(null);
  const routeKey = route.parts.join("/");
  const [needToken, setNeedToken] = useState(false);
  useEffect(() => {
    const on = () => setNeedToken(true);
    window.addEventListener(UNAUTHENTICATED, on);
    return () => window.removeEventListener(UNAUTHENTICATED, on);
  }, []);

  useEffect(() => {
    document.title = `${route.parts.slice(2).join(" / ") || "DAG"} · ${project} · loxo`;
    window.scrollTo(0, 0);
  }, [routeKey, project]);

  return (
    <>
      <a class="skip" href="#main" onClick={(ev) => { ev.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={to.dag(project)} aria-label="loxo console home">
          loxo
        </a>
        <nav aria-label="sections" class="sections">
          {SECTIONS.map(([id, label]) => (
            <a key={id} href={id === "dag" ? to.dag(project) : `#/p/${encodeURIComponent(project)}/${id}`} aria-current={section === id ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div class="top-right">
          <label class="project">
            <span class="visually-hidden">Project</span>
            <select value={project} onChange={(ev) => navigate(to.dag((ev.target as HTMLSelectElement).value))} aria-label="project">
              {(projects.data ?? [project]).map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <span class={`live-dot ${live ? "on" : ""}`} role="status" aria-label={live ? "live updates on" : "live updates off"} title={live ? "live updates on" : "live updates off"} />
          {version.data ? <span class="muted small version">v{String(version.data.version)}</span> : null}
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {needToken ? <TokenForm /> : <View route={route} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
