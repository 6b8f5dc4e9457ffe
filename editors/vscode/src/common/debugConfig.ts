/**
 * The `nexus` debugger without VS Code: which process is the debug adapter, what F5 launches when
 * there is no launch.json, and the kernel sessions an attach configuration can name.
 *
 * The adapter is `nexus dap`, found the way the language server is (`nexus.server.command` with its
 * `lsp` argument replaced by `dap`, `nexus.server.pythonPath -m nexus.cli dap`, `nexus` on PATH,
 * `python3 -m nexus.cli dap`). `nexus.server.extraArgs` belong to the language server and are not
 * passed on.
 */

import { resolveServerCommand, type ServerCommand, type Which } from "./serverCommand";
import type { NexusSettings } from "./config";

export const DEBUG_TYPE = "nexus";

/** The process VS Code starts as the debug adapter (stdio). */
export function resolveDapCommand(settings: NexusSettings, which: Which): ServerCommand {
  const [head, ...rest] = settings.server.command;
  if (head) {
    const at = rest.lastIndexOf("lsp");
    if (at >= 0) {
      return { command: head, args: [...rest.slice(0, at), "dap", ...rest.slice(at + 1)], source: "nexus.server.command" };
    }
    // a custom command (a wrapper script) we cannot rewrite: find nexus the other ways
  }
  const lsp = resolveServerCommand({ ...settings, server: { ...settings.server, command: [], extraArgs: [] } }, which);
  const args = lsp.args.map((arg, i) => (i === lsp.args.length - 1 && arg === "lsp" ? "dap" : arg));
  return { ...lsp, args };
}

/** One advertised kernel session, as `nexus dap --list-sessions` prints it. */
export interface KernelSession {
  sessionId: string;
  kernelId: string;
  language: string;
  ownerPid: number;
  cwd: string;
}

/** Parses `nexus dap --list-sessions`; throws with a readable message on anything else. */
export function parseSessions(stdout: string): KernelSession[] {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new Error(`nexus dap --list-sessions printed something that is not JSON: ${stdout.slice(0, 200)}`);
  }
  if (!Array.isArray(data)) throw new Error("nexus dap --list-sessions did not print a list");
  return data.map((item: Record<string, unknown>) => ({
    sessionId: String(item.sessionId ?? ""),
    kernelId: String(item.kernelId ?? ""),
    language: String(item.language ?? ""),
    ownerPid: Number(item.ownerPid ?? 0),
    cwd: String(item.cwd ?? ""),
  }));
}

/** Python sessions first (only they have a debugger), newest last as listed. */
export function attachableSessions(sessions: KernelSession[]): KernelSession[] {
  return sessions.filter((s) => s.language === "python");
}

export function describeSession(session: KernelSession): { label: string; description: string; detail: string } {
  return {
    label: session.sessionId,
    description: `${session.language} kernel ${session.kernelId}`,
    detail: `process ${session.ownerPid}${session.cwd ? ` in ${session.cwd}` : ""}`,
  };
}

/** A debug configuration as VS Code hands it to a configuration provider. */
export type DebugConfig = Record<string, unknown> & { type?: string; request?: string; name?: string };

/** What F5 runs in a Python file when the workspace has no launch.json. */
export function defaultLaunchConfig(file: string): DebugConfig {
  return { type: DEBUG_TYPE, request: "launch", name: "Nexus: Python file", program: file, justMyCode: true };
}

/** Whether an attach configuration already names its kernel. */
export function namesKernel(config: DebugConfig): boolean {
  return ["sessionId", "kernelId", "connectionFile"].some((key) => typeof config[key] === "string" && config[key] !== "");
}

/** A problem with a configuration that VS Code should show before starting anything, or undefined. */
export function configProblem(config: DebugConfig): string | undefined {
  if (config.request === "launch") {
    const targets = ["program", "module", "code"].filter((key) => config[key] !== undefined && config[key] !== "");
    if (targets.length === 0) return 'A "nexus" launch configuration needs "program", "module" or "code".';
    if (targets.length > 1) return `"program", "module" and "code" exclude each other (got ${targets.join(", ")}).`;
    return undefined;
  }
  if (config.request === "attach") return undefined;
  return `A "nexus" configuration's "request" must be "launch" or "attach", not ${JSON.stringify(config.request)}.`;
}
