// The project's DAG as plain data: a node per repo and per pipeline, an edge per input (repo ->
// pipeline) and from each pipeline to its output repo; laid out by dagre.
import { Graph, layout } from "@dagrejs/dagre";
import type { PipelineInfo, RepoInfo } from "./types";

export interface DagNode {
  id: string; // "repo:<name>" or "pipeline:<name>"
  kind: "repo" | "pipeline";
  name: string;
  project: string;
  repo?: RepoInfo;
  pipeline?: PipelineInfo;
}

export interface DagEdge {
  from: string;
  to: string;
}

export interface Placed<T> {
  item: T;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  width: number;
  height: number;
  nodes: Placed<DagNode>[];
  edges: { edge: DagEdge; points: { x: number; y: number }[] }[];
}

export const NODE_W = 172;
export const NODE_H = 54;

/** "proj/repo@branch" or "repo" -> [project, repo]. */
export function parseInput(input: string, project: string): [string, string] {
  const noBranch = input.split("@")[0];
  const slash = noBranch.indexOf("/");
  return slash >= 0 ? [noBranch.slice(0, slash), noBranch.slice(slash + 1)] : [project, noBranch];
}

/** The repos a pipeline spec's `input` reads (pfs inputs, nested in cross/union/join/group). */
export function specInputRepos(input: unknown, project: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    const o = node as Record<string, unknown>;
    const pfs = o.pfs as Record<string, unknown> | undefined;
    if (pfs && typeof pfs.repo === "string") {
      const proj = pfs.project;
      const projName =
        typeof proj === "string" ? proj : (proj as { name?: string } | undefined)?.name ?? project;
      out.push([projName, pfs.repo]);
    }
    for (const key of ["cross", "union", "join", "group"]) {
      const list = o[key];
      if (Array.isArray(list)) list.forEach(walk);
    }
  };
  walk(input);
  return out;
}

export function pipelineInputs(p: PipelineInfo): [string, string][] {
  if (p.inputs && p.inputs.length) return p.inputs.map((i) => parseInput(i, p.project));
  return specInputRepos((p.spec as { input?: unknown }).input, p.project);
}

const repoId = (project: string, name: string, here: string) =>
  `repo:${project === here ? name : `${project}/${name}`}`;

export function buildDag(project: string, repos: RepoInfo[], pipelines: PipelineInfo[]) {
  const nodes = new Map<string, DagNode>();
  const edges: DagEdge[] = [];
  const addRepo = (proj: string, name: string, info?: RepoInfo) => {
    const id = repoId(proj, name, project);
    const old = nodes.get(id);
    if (!old || (!old.repo && info)) {
      nodes.set(id, { id, kind: "repo", name: proj === project ? name : `${proj}/${name}`, project: proj, repo: info });
    }
    return id;
  };
  for (const r of repos) if (r.type === "user" || r.type === "" || !r.type || r.type === "output") addRepo(r.project, r.name, r);
  for (const p of pipelines) {
    const pid = `pipeline:${p.name}`;
    nodes.set(pid, { id: pid, kind: "pipeline", name: p.name, project: p.project, pipeline: p });
    for (const [proj, name] of pipelineInputs(p)) edges.push({ from: addRepo(proj, name), to: pid });
    edges.push({ from: pid, to: addRepo(p.project, p.name) });
  }
  return { nodes: [...nodes.values()], edges };
}

export function layoutDag(nodes: DagNode[], edges: DagEdge[], vertical: boolean): Layout {
  const g = new Graph();
  g.setGraph({ rankdir: vertical ? "TB" : "LR", nodesep: vertical ? 24 : 28, ranksep: vertical ? 36 : 56, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_W, height: NODE_H });
  for (const e of edges) g.setEdge(e.from, e.to);
  layout(g);
  const graph = g.graph() as { width?: number; height?: number };
  return {
    width: graph.width ?? 0,
    height: graph.height ?? 0,
    nodes: nodes.map((n) => {
      const p = g.node(n.id) as { x: number; y: number; width: number; height: number };
      return { item: n, x: p.x, y: p.y, width: p.width, height: p.height };
    }),
    edges: edges.map((e) => ({ edge: e, points: (g.edge(e.from, e.to) as { points: { x: number; y: number }[] }).points })),
  };
}
