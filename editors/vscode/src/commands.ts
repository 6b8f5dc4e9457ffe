/** Registers the Nexus commands; each lives in its own module under commands/. */

import * as vscode from "vscode";

import type { Sessions } from "./collab";
import { ask, explainSelection, showAnswer } from "./commands/ask";
import { writeCommitMessage } from "./commands/commitMessage";
import { rebuildIndex } from "./commands/reindex";
import { run } from "./commands/run";
import { searchWorkspace } from "./commands/search";
import { getLog } from "./logging";
import type { RunOutputs } from "./runOutput";
import type { ServerController } from "./server";

export function registerCommands(server: ServerController, outputs: RunOutputs, sessions: Sessions): vscode.Disposable[] {
  server.onExplainResult = (result) => void showAnswer(server, "Nexus: Explain", result);
  const runCell = async (uri?: vscode.Uri, at?: vscode.Position): Promise<void> => {
    // From a code lens: the lens's document may not be the active editor yet.
    if (uri instanceof vscode.Uri && vscode.window.activeTextEditor?.document.uri.toString() !== uri.toString()) {
      await vscode.window.showTextDocument(uri);
    }
    await run(server, outputs, "cell", at instanceof vscode.Position ? at : undefined);
  };
  return [
    vscode.commands.registerCommand("nexus.ask", () => ask(server)),
    vscode.commands.registerCommand("nexus.explainSelection", () => explainSelection(server)),
    vscode.commands.registerCommand("nexus.runCell", runCell),
    vscode.commands.registerCommand("nexus.runFile", () => run(server, outputs, "file")),
    vscode.commands.registerCommand("nexus.runSelection", () => run(server, outputs, "selection")),
    vscode.commands.registerCommand("nexus.searchWorkspace", () => searchWorkspace(server)),
    vscode.commands.registerCommand("nexus.rebuildIndex", () => rebuildIndex(server)),
    vscode.commands.registerCommand("nexus.restartServer", () => server.restart()),
    vscode.commands.registerCommand("nexus.showLogs", () => getLog().show(true)),
    vscode.commands.registerCommand("nexus.commitMessage", () => writeCommitMessage(server)),
    vscode.commands.registerCommand("nexus.shareSession", () => sessions.share()),
    vscode.commands.registerCommand("nexus.joinSession", (room?: string) => sessions.join(room)),
    vscode.commands.registerCommand("nexus.saveSession", () => sessions.save()),
    vscode.commands.registerCommand("nexus.leaveSession", () => sessions.leave()),
  ];
}
