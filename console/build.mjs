// Builds the console into ../src/loxo/console/static (or --outdir DIR): index.html, app.js,
// app.css. The output is a pure function of the sources and the locked package versions, so
// tests/console/test_build.py can check that the committed assets equal a fresh build.
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const at = args.indexOf("--outdir");
const outdir = at >= 0 ? resolve(args[at + 1]) : join(here, "..", "src", "loxo", "console", "static");
const watch = args.includes("--watch");

const options = {
  absWorkingDir: here,
  entryPoints: { app: "src/main.tsx" },
  bundle: true,
  format: "iife",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: !watch,
  sourcemap: false,
  legalComments: "eof",
  charset: "utf8",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir,
  logLevel: "warning",
};

await mkdir(outdir, { recursive: true });
await copyFile(join(here, "src", "index.html"), join(outdir, "index.html"));
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log(`watching; writing to ${outdir}`);
} else {
  await esbuild.build(options);
}
