/** Nexus: Ask and Nexus: Explain Selection: a `nexus/chat` request streamed into an answer view. */

import * as vscode from "vscode";

import { openAnswerView } from "../answerView";
import { AnswerTranscript } from "../common/answer";
import { describeError, isCancellation } from "../common/errors";
import { type ChatDelta, type ChatParams, type ChatResult, Methods } from "../common/protocol";
import { getLog } from "../logging";
import type { ServerController } from "../server";

export async function ask(server: ServerController): Promise<void> {
  const prompt = await vscode.window.showInputBox({
    title: "Nexus: Ask",
    prompt: "Ask about your code. The open file and the workspace index supply the context.",
    placeHolder: "How does the indexer decide which files to skip?",
    ignoreFocusOut: true,
  });
  if (!prompt?.trim()) return;
  const editor = vscode.window.activeTextEditor;
  const params: ChatParams = { prompt: prompt.trim() };
  if (editor && editor.document.uri.scheme !== "output") {
    params.textDocument = { uri: editor.document.uri.toString() };
    params.position = editor.selection.active;
    if (!editor.selection.isEmpty) params.range = editor.selection;
  }
  await streamAnswer(server, "Nexus: Ask", params);
}

export async function explainSelection(server: ServerController): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage("Nexus: Explain Selection needs an editor with a selection.");
    return;
  }
  const selection = editor.selection.isEmpty ? editor.document.lineAt(editor.selection.active.line).range : editor.selection;
  const code = editor.document.getText(selection);
  if (!code.trim()) {
    void vscode.window.showInformationMessage("Nexus: Explain Selection: select some code first.");
    return;
  }
  const where = `${vscode.workspace.asRelativePath(editor.document.uri)}:${selection.start.line + 1}`;
  await streamAnswer(server, `Nexus: Explain ${where}`, {
    prompt: "Explain what this code does and why, in the context of this workspace.",
    textDocument: { uri: editor.document.uri.toString() },
    position: selection.start,
    range: { start: selection.start, end: selection.end },
  });
}

/** Shows a chat-shaped result that arrived without streaming (the server's `nexus.explain` command). */
export async function showAnswer(server: ServerController, title: string, result: unknown): Promise<void> {
  const transcript = new AnswerTranscript(title, "Explain");
  transcript.finish(result as ChatResult);
  const view = await openAnswerView(server.current.ask.output, transcript, new vscode.CancellationTokenSource());
  await view.finish();
}

async function streamAnswer(server: ServerController, title: string, params: ChatParams): Promise<void> {
  const transcript = new AnswerTranscript(title, params.prompt);
  const cancel = new vscode.CancellationTokenSource();
  const view = await openAnswerView(server.current.ask.output, transcript, cancel);
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: "Nexus is answering…", cancellable: true },
    async (_progress, token) => {
      token.onCancellationRequested(() => cancel.cancel());
      try {
        const result = await server.request<ChatResult, ChatDelta>(Methods.chat, params, cancel.token, (partial) => {
          if (typeof partial?.delta === "string") {
            transcript.append(partial.delta);
            view.update();
          }
        });
        transcript.finish(result);
      } catch (error) {
        if (isCancellation(error) || cancel.token.isCancellationRequested) {
          transcript.cancel();
        } else {
          const message = describeError("Nexus: Ask", error);
          getLog().error(message);
          transcript.fail(message);
        }
      } finally {
        cancel.dispose();
        await view.finish();
      }
    },
  );
}
