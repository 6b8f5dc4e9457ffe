/**
 * What the status bar item says. The extension feeds it the client's state, work-done progress from
 * the server (indexing) and the last `nexus/status` reply; this module decides the text, tooltip and
 * colour, so the decisions are unit-tested without VS Code.
 */

import type { FolderStatus, StatusResult } from "./protocol";

export type ServerState = "starting" | "running" | "stopped" | "failed";

export interface Progress {
  title: string;
  message?: string;
  percentage?: number;
}

export interface StatusModel {
  state: ServerState;
  progress?: Progress;
  status?: StatusResult;
  error?: string;
}

export interface StatusView {
  text: string;
  tooltip: string;
  severity: "normal" | "warning" | "error";
}

/** The provider answering chat, from `nexus/status`'s `providers` (a list of provider records). */
export function providerLabel(providers: unknown): string | undefined {
  const list: unknown = Array.isArray(providers) ? providers : (providers as { providers?: unknown } | undefined)?.providers;
  if (Array.isArray(list)) {
    for (const p of list as Array<Record<string, unknown>>) {
      if (p && p.configured !== false && typeof p.name === "string") {
        const models = p.models as Record<string, unknown> | undefined;
        const chat = models && typeof models.chat === "string" ? models.chat : undefined;
        return chat ? `${p.name} (${chat})` : p.name;
      }
    }
    return undefined;
  }
  if (providers && typeof providers === "object") {
    const chat = (providers as Record<string, unknown>).chat;
    if (typeof chat === "string" && chat) return chat;
  }
  return undefined;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Counts of a `nexus/status` folder, flat or under `index`. `interrupted`: the last index writer was
 * cut short (servers before it was reported: anything pending counts as interrupted). */
export function folderCounts(folder: FolderStatus): { files: number; symbols: number; pending: number; interrupted: boolean } {
  const pick = (key: "files" | "symbols" | "pending") => num(folder[key] ?? folder.index?.[key]);
  const pending = pick("pending");
  const reported = folder.interrupted ?? folder.index?.interrupted;
  const interrupted = typeof reported === "boolean" ? reported : pending > 0;
  return { files: pick("files"), symbols: pick("symbols"), pending, interrupted };
}

export function serverVersion(status: StatusResult | undefined): string | undefined {
  return status?.version ?? status?.server?.version;
}

export function statusView(model: StatusModel): StatusView {
  if (model.state === "failed") {
    return {
      text: "$(error) Nexus",
      tooltip: `Nexus server failed: ${model.error ?? "see the log"}\nClick to show the log.`,
      severity: "error",
    };
  }
  if (model.state === "stopped") {
    return { text: "$(circle-slash) Nexus", tooltip: "Nexus server stopped. Click to show the log.", severity: "warning" };
  }
  if (model.state === "starting") {
    return { text: "$(sync~spin) Nexus", tooltip: "Nexus server starting…", severity: "normal" };
  }
  if (model.progress) {
    const p = model.progress;
    const pct = typeof p.percentage === "number" ? ` ${Math.round(p.percentage)}%` : "";
    return {
      text: `$(sync~spin) Nexus${pct}`,
      tooltip: [p.title, p.message].filter(Boolean).join(": "),
      severity: "normal",
    };
  }
  const lines: string[] = [];
  let files = 0;
  let pending = 0; // left uncommitted by interrupted runs
  let interrupted = 0;
  let committing = 0;
  const errors: string[] = [];
  for (const folder of model.status?.folders ?? []) {
    const counts = folderCounts(folder);
    files += counts.files;
    if (counts.interrupted) {
      interrupted += 1;
      pending += counts.pending;
    } else committing += counts.pending;
    const name = typeof folder.root === "string" ? folder.root : "workspace";
    lines.push(`${name}: ${counts.files.toLocaleString("en")} files, ${counts.symbols.toLocaleString("en")} symbols`);
    const error = folder.error ?? folder.index?.error;
    if (error) errors.push(`${name}: ${error}`);
  }
  const provider = providerLabel(model.status?.providers);
  lines.push(provider ? `AI: ${provider}` : "AI: no provider configured (answers show the relevant code only)");
  const version = serverVersion(model.status);
  if (version) lines.unshift(`nexus ${version}`);
  lines.push(...errors);
  if (committing) lines.push(`${committing} file(s) being committed to the index (searches show their previous versions)`);
  if (interrupted) {
    lines.push(pending ? `${pending} file(s) left uncommitted by an interrupted index run: run Nexus: Rebuild Index`
      : "The last index run was cut short: run Nexus: Rebuild Index");
  }
  if (model.error) lines.push(`Last error: ${model.error}`);
  const text = model.status ? `$(check) Nexus ${files.toLocaleString("en")} files` : "$(check) Nexus";
  return {
    text: model.error ? `$(warning) Nexus` : text,
    tooltip: lines.join("\n"),
    severity: model.error || interrupted || errors.length ? "warning" : "normal",
  };
}
