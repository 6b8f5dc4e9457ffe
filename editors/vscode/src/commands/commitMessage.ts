/**
 * Nexus: Write Commit Message: asks `nexus/ai.commit_message` for a message describing the staged
 * changes and puts it in the Source Control input box as it streams (or, without VS Code's Git
 * extension, in a new editor). Nexus never commits.
 */

import * as vscode from "vscode";

import { describeError } from "../common/errors";
import { type CommitMessageResult, Methods } from "../common/protocol";
import type { ServerController } from "../server";

interface InputBox {
  value: string;
}

/** The SCM input box of the repository holding `folder` (VS Code's built-in Git extension). */
function gitInputBox(folder: vscode.Uri | undefined): InputBox | undefined {
  const git = vscode.extensions.getExtension("vscode.git");
  if (!git?.isActive) return undefined;
  const api = git.exports?.getAPI?.(1) as
    | { repositories: { rootUri: vscode.Uri; inputBox: InputBox }[] }
    | undefined;
  const repos = api?.repositories ?? [];
  const match = folder ? repos.find((r) => folder.fsPath.startsWith(r.rootUri.fsPath)) : undefined;
  return (match ?? repos[0])?.inputBox;
}

export async function writeCommitMessage(server: ServerController): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const box = gitInputBox(folder);
  let text = "";
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.SourceControl, title: "Nexus: writing a commit message" },
      () =>
        server.request<CommitMessageResult, { kind: string; data: { text?: string } }>(
          Methods.commitMessage,
          folder ? { folder: folder.toString() } : {},
          undefined,
          (partial) => {
            if (partial.kind !== "ai:delta") return;
            text += partial.data.text ?? "";
            if (box) box.value = text;
          },
        ),
    );
    if (box) {
      box.value = result.message;
    } else {
      const doc = await vscode.workspace.openTextDocument({ content: result.message, language: "git-commit" });
      await vscode.window.showTextDocument(doc);
    }
  } catch (error) {
    void vscode.window.showErrorMessage(describeError("Commit message", error));
  }
}
