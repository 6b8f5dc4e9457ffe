/**
 * An AI answer as Markdown while it streams: the question, the text so far, and once the request
 * ends, the context receipt (which files and lines the answer was grounded in, and why) and who
 * answered. Both editors' UIs only display what this renders.
 */

import type { ChatResult, ReceiptEntry } from "./protocol";

export type AnswerState = "streaming" | "done" | "failed" | "cancelled";

export class AnswerTranscript {
  private parts: string[] = [];
  private result: ChatResult | undefined;
  private problem: string | undefined;
  state: AnswerState = "streaming";

  constructor(readonly title: string, readonly prompt: string) {}

  append(delta: string): void {
    if (this.state === "streaming") this.parts.push(delta);
  }

  /** The final response is authoritative: it replaces the streamed text (a server may send none). */
  finish(result: ChatResult): void {
    this.result = result;
    this.parts = [result.text];
    this.state = "done";
  }

  fail(message: string): void {
    this.problem = message;
    this.state = "failed";
  }

  cancel(): void {
    this.state = "cancelled";
  }

  get text(): string {
    return this.parts.join("");
  }

  get receipt(): ReceiptEntry[] {
    return this.result?.receipt ?? [];
  }

  markdown(links: ReceiptLinks = {}): string {
    const lines = [`# ${this.title}`, "", quote(this.prompt), "", this.text || (this.state === "streaming" ? "_…_" : "")];
    if (this.state === "streaming") lines.push("", "_streaming…_");
    if (this.state === "cancelled") lines.push("", "_cancelled_");
    if (this.state === "failed") lines.push("", `**Error:** ${this.problem ?? "unknown error"}`);
    if (this.result) {
      lines.push("", renderReceipt(this.result.receipt, links), "", footer(this.result));
    }
    return lines.join("\n").replace(/\n{3,}/g, "\n\n") + "\n";
  }
}

function quote(text: string): string {
  return text.split("\n").map((l) => `> ${l}`).join("\n");
}

/** `startLine`/`endLine` are 0-based like LSP positions; people read 1-based line numbers. */
export function receiptLabel(entry: ReceiptEntry, path: string): string {
  const first = entry.startLine + 1;
  const last = entry.endLine + 1;
  return last > first ? `${path}:${first}-${last}` : `${path}:${first}`;
}

/** How receipt entries are named and linked (an editor may link to a command instead of a URI). */
export interface ReceiptLinks {
  relative?: (entry: ReceiptEntry) => string;
  link?: (entry: ReceiptEntry) => string;
}

export function renderReceipt(receipt: readonly ReceiptEntry[], links: ReceiptLinks = {}): string {
  if (receipt.length === 0) return "**Context used:** none";
  const items = receipt.map((e) => {
    const label = receiptLabel(e, links.relative ? links.relative(e) : e.path);
    const target = links.link ? links.link(e) : `${e.uri}#L${e.startLine + 1}`;
    return `- [${escapeBrackets(label)}](${target})${e.reason ? ` — ${e.reason}` : ""}`;
  });
  return [`**Context used** (${receipt.length}):`, "", ...items].join("\n");
}

export function footer(result: ChatResult): string {
  if (!result.generated) {
    return "_No AI provider is configured: this answer is the relevant code only. " +
      "Set one up as docs/providers.md shows (e.g. ANTHROPIC_API_KEY, or `nexus.ai.provider`)._";
  }
  const usage = result.usage ?? {};
  const tokens = ["inputTokens", "outputTokens"]
    .filter((k) => typeof usage[k] === "number")
    .map((k) => `${usage[k]} ${k === "inputTokens" ? "in" : "out"}`);
  return `_${result.provider} · ${result.model}${tokens.length ? ` · ${tokens.join(" / ")} tokens` : ""}_`;
}

function escapeBrackets(text: string): string {
  return text.replace(/([[\]])/g, "\\$1");
}
