/**
 * Nexus: Search Workspace: a QuickPick that asks `nexus/search` as you type. A leading `#` searches
 * symbols, a leading `/` file names, anything else the text.
 */

import * as vscode from "vscode";

import { describeError } from "../common/errors";
import { Methods, type SearchHit } from "../common/protocol";
import { parseQuery, pickRows, relativeTo } from "../common/search";
import type { ServerController } from "../server";

type Item = vscode.QuickPickItem & { hit?: SearchHit };

export async function searchWorkspace(server: ServerController): Promise<void> {
  const pick = vscode.window.createQuickPick<Item>();
  pick.title = "Nexus: Search Workspace";
  pick.placeholder = "Search text; #symbol for symbols; /name for files";
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  const editor = vscode.window.activeTextEditor;
  if (editor && !editor.selection.isEmpty) pick.value = editor.document.getText(editor.selection).slice(0, 200);

  const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  let generation = 0;
  let cancel: vscode.CancellationTokenSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const query = async (raw: string): Promise<void> => {
    const mine = ++generation;
    cancel?.cancel();
    cancel = new vscode.CancellationTokenSource();
    const { query: text, mode } = parseQuery(raw);
    if (!text) {
      pick.items = [];
      return;
    }
    pick.busy = true;
    try {
      const hits = await server.request<SearchHit[]>(
        Methods.search,
        { query: text, mode, limit: server.current.search.limit },
        cancel.token,
      );
      if (mine !== generation) return;
      pick.items = pickRows(hits ?? [], (uri) => relativeTo(roots, uri)).map((row) => ({
        label: row.label,
        description: row.description,
        detail: row.detail,
        hit: row.hit,
        alwaysShow: true,
      }));
    } catch (error) {
      if (mine !== generation) return;
      pick.items = [{ label: "$(error) " + describeError("Search", error), alwaysShow: true }];
    } finally {
      if (mine === generation) pick.busy = false;
    }
  };

  pick.onDidChangeValue((value) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void query(value), 120);
  });
  pick.onDidAccept(async () => {
    const hit = pick.selectedItems[0]?.hit;
    if (!hit) return;
    pick.hide();
    const start = new vscode.Position(hit.range.start.line, hit.range.start.character);
    const end = new vscode.Position(hit.range.end.line, hit.range.end.character);
    await vscode.window.showTextDocument(vscode.Uri.parse(hit.uri), { selection: new vscode.Range(start, end) });
  });
  pick.onDidHide(() => {
    if (timer) clearTimeout(timer);
    cancel?.cancel();
    pick.dispose();
  });
  pick.show();
  if (pick.value) void query(pick.value);
}
