// Builds the extension bundle (dist/extension.js) or, with --tests, transpiles the unit and protocol
// tests with the modules they import into out/ for `node --test`.
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

import * as esbuild from "esbuild";

const production = process.argv.includes("--production");
const tests = process.argv.includes("--tests");

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

if (tests) {
  rmSync("out", { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [...tsFiles("src/common"), ...tsFiles("test"), ...tsFiles("protocol"), ...tsFiles("collab-test")],
    outdir: "out",
    outbase: ".",
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: "inline",
    logLevel: "warning",
  });
} else {
  await esbuild.build({
    entryPoints: ["src/extension.ts"],
    bundle: true,
    outfile: "dist/extension.js",
    external: ["vscode", "bufferutil", "utf-8-validate"], // ws loads these optional speed-ups only if present
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: production,
    sourcemap: !production,
    metafile: true,
    logLevel: "warning",
  });
}
