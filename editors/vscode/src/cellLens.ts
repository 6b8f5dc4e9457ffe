/** "Run Cell" code lenses above each `# %%` marker, for the languages the kernels run. */

import * as vscode from "vscode";

import { findCells } from "./common/cells";

export const CELL_LANGUAGES = ["python", "javascript", "typescript", "java", "c", "cpp"];

export class CellLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lines = document.getText().split(/\r?\n/);
    return findCells(lines, document.languageId)
      .filter((cell) => cell.hasMarker && cell.kind === "code")
      .map((cell) => {
        const range = new vscode.Range(cell.startLine, 0, cell.startLine, 0);
        return new vscode.CodeLens(range, {
          title: "$(play) Run Cell",
          command: "nexus.runCell",
          arguments: [document.uri, new vscode.Position(cell.startLine, 0)],
        });
      });
  }
}

/**
 * Keeps the `nexus.hasCells` context key (Shift+Enter runs the cell only in files that have `# %%`
 * markers, so it does not take the key from other extensions elsewhere) and `nexus.languages`.
 */
export function trackCellContext(languages: readonly string[]): vscode.Disposable {
  void vscode.commands.executeCommand("setContext", "nexus.languages", languages);
  let last: boolean | undefined;
  const refresh = (): void => {
    const document = vscode.window.activeTextEditor?.document;
    const text = document && CELL_LANGUAGES.includes(document.languageId) ? document.getText() : "";
    // Runs on every keystroke: most files have no "%%" at all, which a plain search shows cheaply.
    const has = text.includes("%%") && findCells(text.split(/\r?\n/), document!.languageId).some((c) => c.hasMarker);
    if (has !== last) {
      last = has;
      void vscode.commands.executeCommand("setContext", "nexus.hasCells", has);
    }
  };
  refresh();
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(refresh),
    vscode.workspace.onDidSaveTextDocument(refresh),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) refresh();
    }),
  );
}
