/**
 * Where an AI answer streams: a webview panel (rendered Markdown, receipt links open the files) or an
 * untitled Markdown document (`nexus.ask.output`). Both redraw from an `AnswerTranscript` at most every
 * 80 ms; closing the panel cancels the request, which stops the upstream model request.
 */

import { randomBytes } from "node:crypto";

import * as vscode from "vscode";

import type { AnswerTranscript, ReceiptLinks } from "./common/answer";
import type { AskOutput } from "./common/config";
import type { ReceiptEntry } from "./common/protocol";
import { Coalescer } from "./common/timing";
import { getLog } from "./logging";

export interface AnswerView {
  /** Redraws soon (coalesced). */
  update(): void;
  /** Redraws now; the answer is complete, failed or cancelled. */
  finish(): Promise<void>;
}

const relative = (entry: ReceiptEntry): string => {
  try {
    return vscode.workspace.asRelativePath(vscode.Uri.parse(entry.uri), false);
  } catch {
    return entry.path;
  }
};

export async function openAnswerView(
  kind: AskOutput,
  transcript: AnswerTranscript,
  cancel: vscode.CancellationTokenSource,
): Promise<AnswerView> {
  return kind === "document" ? DocumentView.open(transcript) : PanelView.open(transcript, cancel);
}

class PanelView implements AnswerView {
  private static readonly viewType = "nexus.answer";
  private readonly coalescer: Coalescer;
  private rendering: Promise<void> = Promise.resolve();
  /** Messages posted before the webview's script runs are lost: render once it says it is ready. */
  private ready = false;

  private constructor(private readonly panel: vscode.WebviewPanel, private readonly transcript: AnswerTranscript) {
    this.coalescer = new Coalescer(() => void this.render(), 80);
    panel.webview.onDidReceiveMessage((message: { type?: string }) => {
      if (message?.type === "ready") {
        this.ready = true;
        void this.render();
      }
    });
  }

  static async open(transcript: AnswerTranscript, cancel: vscode.CancellationTokenSource): Promise<PanelView> {
    const panel = vscode.window.createWebviewPanel(
      PanelView.viewType,
      transcript.title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableCommandUris: ["vscode.open"], localResourceRoots: [] },
    );
    const nonce = randomBytes(16).toString("hex");
    panel.webview.html = shell(panel.webview.cspSource, nonce);
    panel.onDidDispose(() => {
      if (transcript.state === "streaming") cancel.cancel();
    });
    return new PanelView(panel, transcript);
  }

  update(): void {
    this.coalescer.schedule();
  }

  async finish(): Promise<void> {
    this.coalescer.dispose();
    await this.render();
  }

  private render(): Promise<void> {
    // Keep renders in order: markdown.api.render is asynchronous.
    this.rendering = this.rendering.then(async () => {
      if (!this.ready) return;
      const links: ReceiptLinks = { relative, link: openCommandLink };
      const html = await renderMarkdown(this.transcript.markdown(links));
      await this.panel.webview.postMessage({ html });
    });
    return this.rendering;
  }
}

class DocumentView implements AnswerView {
  private readonly coalescer: Coalescer;
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(private readonly document: vscode.TextDocument, private readonly transcript: AnswerTranscript) {
    this.coalescer = new Coalescer(() => void this.write(), 80);
  }

  static async open(transcript: AnswerTranscript): Promise<DocumentView> {
    const document = await vscode.workspace.openTextDocument({
      language: "markdown",
      content: transcript.markdown({ relative }),
    });
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true });
    return new DocumentView(document, transcript);
  }

  update(): void {
    this.coalescer.schedule();
  }

  async finish(): Promise<void> {
    this.coalescer.dispose();
    await this.write();
  }

  private write(): Promise<unknown> {
    this.writing = this.writing.then(async () => {
      if (this.document.isClosed) return;
      const edit = new vscode.WorkspaceEdit();
      const whole = new vscode.Range(0, 0, this.document.lineCount, 0);
      edit.replace(this.document.uri, whole, this.transcript.markdown({ relative }));
      await vscode.workspace.applyEdit(edit);
    });
    return this.writing;
  }
}

function openCommandLink(entry: ReceiptEntry): string {
  const start = new vscode.Position(entry.startLine, 0);
  const args = [vscode.Uri.parse(entry.uri), { selection: new vscode.Range(start, start) }];
  return `command:vscode.open?${encodeURIComponent(JSON.stringify(args))}`;
}

async function renderMarkdown(markdown: string): Promise<string> {
  try {
    // The built-in Markdown extension's renderer: the same output as VS Code's own preview.
    const html = await vscode.commands.executeCommand<string>("markdown.api.render", markdown);
    if (typeof html === "string") return html;
  } catch (error) {
    getLog().debug(`markdown.api.render unavailable: ${String(error)}`);
  }
  return `<pre>${escapeHtml(markdown)}</pre>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function shell(cspSource: string, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; img-src ${cspSource} https: data:; style-src ${cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 1em; }
  pre, code { font-family: var(--vscode-editor-font-family); }
  pre { background: var(--vscode-textCodeBlock-background); padding: .5em; overflow-x: auto; }
  blockquote { border-left: 3px solid var(--vscode-textBlockQuote-border); margin: 0; padding-left: .8em; }
</style>
</head>
<body><div id="answer"></div>
<script nonce="${nonce}">
  const answer = document.getElementById("answer");
  const vscode = acquireVsCodeApi();
  window.addEventListener("message", (event) => { answer.innerHTML = event.data.html; });
  vscode.postMessage({ type: "ready" });
</script>
</body>
</html>`;
}
