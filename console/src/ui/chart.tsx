// Job durations over time, drawn by uPlot: one point per finished job (x: when it started,
// y: how long it ran), coloured by the page's theme.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { JobInfo } from "../types";

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function DurationChart({ jobs }: { jobs: JobInfo[] }) {
  const box = useRef<HTMLDivElement>(null);
  const done = jobs
    .filter((j) => j.started && j.finished)
    .sort((a, b) => (a.started ?? 0) - (b.started ?? 0));
  const xs = done.map((j) => j.started as number);
  const ok = done.map((j) => (j.state === "SUCCESS" ? (j.finished as number) - (j.started as number) : null));
  const bad = done.map((j) => (j.state !== "SUCCESS" ? (j.finished as number) - (j.started as number) : null));
  const key = JSON.stringify([xs, ok, bad]);

  useEffect(() => {
    const el = box.current;
    if (!el || !xs.length) return;
    const fg = cssVar("--fg", "#222");
    const grid = cssVar("--border", "#ccc");
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const point = (color: string) => ({ show: true, size: 8, fill: color, stroke: color });
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(max * 1.15, 0.1)] } },
        axes: [axis, { ...axis, label: "seconds", values: (_u, vals) => vals.map((v) => `${+v.toFixed(2)}`) }],
        series: [
          {},
          { label: "succeeded", stroke: cssVar("--ok", "#1a7f37"), width: 1, points: point(cssVar("--ok", "#1a7f37")) },
          { label: "failed / killed", stroke: cssVar("--bad", "#cf222e"), width: 0, points: point(cssVar("--bad", "#cf222e")) },
        ],
        legend: { show: true },
      },
      [xs, ok, bad] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height: 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  if (!xs.length) return <p class="muted">No finished job yet.</p>;
  return (
    <figure class="chart">
      <div ref={box} class="chart-box" />
      <figcaption class="muted small">
        Durations of the last {done.length} finished jobs (start time → seconds). Longest{" "}
        {Math.max(...done.map((j) => (j.finished as number) - (j.started as number))).toFixed(2)} s.
      </figcaption>
    </figure>
  );
}
