/** Nexus: Run Cell / Run File / Run Selection: `nexus/run` with outputs streamed as they arrive. */

import * as path from "node:path";

import * as vscode from "vscode";

import { cellAt } from "../common/cells";
import { describeError, isCancellation } from "../common/errors";
import { outputText, runSummary } from "../common/output";
import { Methods, type RunParams, type RunPartial, type RunResult } from "../common/protocol";
import { getLog } from "../logging";
import type { RunOutputs } from "../runOutput";
import type { ServerController } from "../server";

export type RunScope = "cell" | "file" | "selection";

export async function run(server: ServerController, outputs: RunOutputs, scope: RunScope, at?: vscode.Position): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage("Nexus: Run needs an open editor.");
    return;
  }
  const document = editor.document;
  const name = path.basename(document.uri.path);
  const params: RunParams = { textDocument: { uri: document.uri.toString() }, language: document.languageId };
  let title = name;
  if (scope === "cell") {
    const position = at ?? editor.selection.active;
    const lines = document.getText().split(/\r?\n/);
    const cell = cellAt(lines, position.line, document.languageId);
    if (cell?.kind === "markdown") {
      void vscode.window.showInformationMessage("Nexus: Run Cell: this is a Markdown cell; nothing to run.");
      return;
    }
    params.cell = true;
    params.position = { line: position.line, character: position.character };
    title = `${name}, cell at line ${(cell?.startLine ?? position.line) + 1}${cell?.title ? ` (${cell.title})` : ""}`;
  } else if (scope === "selection") {
    if (editor.selection.isEmpty) {
      void vscode.window.showInformationMessage("Nexus: Run Selection: select some code first.");
      return;
    }
    params.range = { start: editor.selection.start, end: editor.selection.end };
    title = `${name}:${editor.selection.start.line + 1}-${editor.selection.end.line + 1}`;
  }
  const timeout = server.current.run.timeout;
  if (timeout > 0) params.timeout = timeout;

  const sink = outputs.sink(server.current.run.output);
  sink.begin(title);
  let streamed = 0;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Nexus: running ${title}`, cancellable: true },
    async (_progress, token) => {
      try {
        const result = await server.request<RunResult, RunPartial>(Methods.run, params, token, (partial) => {
          if (partial?.output) {
            streamed += 1;
            sink.write(outputText(partial.output));
          }
        });
        // A server that streamed nothing sends everything in the final result.
        if (streamed === 0) {
          for (const item of result.outputs ?? []) sink.write(outputText(item));
          if (!result.outputs?.length && result.output) sink.write(result.output.endsWith("\n") ? result.output : `${result.output}\n`);
        }
        sink.end(runSummary(result));
      } catch (error) {
        if (isCancellation(error) || token.isCancellationRequested) {
          sink.end("[cancelled]");
          return;
        }
        const message = describeError("Nexus: Run", error);
        getLog().error(message);
        sink.end(`[error] ${message}`);
        void vscode.window.showErrorMessage(message);
      }
    },
  );
}
