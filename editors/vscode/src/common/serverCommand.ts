/**
 * Which process to start as the language server.
 *
 * In order: `nexus.server.command` as given; `nexus.server.pythonPath -m nexus.cli lsp`; the `nexus`
 * console script on PATH; `python3 -m nexus.cli lsp`. `nexus.server.extraArgs` is appended to any of
 * them (e.g. `["--log-file", "/tmp/nexus.log"]`, or `-v` through `nexus.server.command`).
 */

import * as fs from "node:fs";
import * as path from "node:path";

import type { NexusSettings } from "./config";

export type CommandSource = "nexus.server.command" | "nexus.server.pythonPath" | "PATH";

export interface ServerCommand {
  command: string;
  args: string[];
  source: CommandSource;
}

export class ServerNotFoundError extends Error {}

export type Which = (name: string) => string | undefined;

export function resolveServerCommand(settings: NexusSettings, which: Which): ServerCommand {
  const extra = settings.server.extraArgs;
  const [head, ...rest] = settings.server.command;
  if (head) {
    return { command: head, args: [...rest, ...extra], source: "nexus.server.command" };
  }
  if (settings.server.pythonPath) {
    return {
      command: settings.server.pythonPath,
      args: ["-m", "nexus.cli", "lsp", ...extra],
      source: "nexus.server.pythonPath",
    };
  }
  const nexus = which("nexus");
  if (nexus) return { command: nexus, args: ["lsp", ...extra], source: "PATH" };
  for (const python of ["python3", "python"]) {
    const found = which(python);
    if (found) return { command: found, args: ["-m", "nexus.cli", "lsp", ...extra], source: "PATH" };
  }
  throw new ServerNotFoundError(
    "Cannot find the Nexus server: no `nexus` or `python3` on PATH. Install it (`pip install nexus-ide`) " +
      "and set `nexus.server.pythonPath` to that environment's Python, or `nexus.server.command`.",
  );
}

/** Finds an executable on PATH the way a shell would (PATHEXT on Windows). */
export function whichOnPath(
  name: string,
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? "").split(path.delimiter).filter(Boolean);
  const exts = platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      try {
        fs.accessSync(candidate, platform === "win32" ? fs.constants.F_OK : fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here: try the next folder
      }
    }
  }
  return undefined;
}

/** The command as a user would type it, for logs and error messages. */
export function describeCommand(cmd: ServerCommand): string {
  return [cmd.command, ...cmd.args].map((p) => (/[\s"']/.test(p) ? JSON.stringify(p) : p)).join(" ");
}
