/** Nexus: Rebuild Index: `nexus/reindex` with the server's progress in a notification. */

import * as vscode from "vscode";

import { describeError, isCancellation } from "../common/errors";
import { Methods, type ReindexResult } from "../common/protocol";
import { getLog } from "../logging";
import type { ServerController } from "../server";

function count(folders: NonNullable<ReindexResult["folders"]>, key: string): number {
  return folders.reduce((sum, f) => sum + (typeof f[key] === "number" ? (f[key] as number) : 0), 0);
}

export async function rebuildIndex(server: ServerController): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "Nexus: indexing", cancellable: true },
    async (progress, token) => {
      try {
        const result = await server.requestWithProgress<ReindexResult>(Methods.reindex, {}, progress, token);
        if (result?.started) {
          // This server indexes in the background; its own progress shows in the status bar.
          const message = `Nexus: indexing ${result.started.length} folder(s) in the background.`;
          getLog().info(message);
          void vscode.window.setStatusBarMessage(message, 5000);
          return;
        }
        const folders = result?.folders ?? [];
        const summary = `Nexus: indexed ${count(folders, "files")} file(s) in ${folders.length} folder(s): ` +
          `${count(folders, "parsed")} parsed, ${count(folders, "unchanged")} unchanged, ${count(folders, "removed")} removed.`;
        getLog().info(summary);
        void vscode.window.showInformationMessage(summary);
        await server.refreshStatus();
      } catch (error) {
        if (isCancellation(error)) return;
        const message = describeError("Nexus: Rebuild Index", error);
        getLog().error(message);
        void vscode.window.showErrorMessage(message);
      }
    },
  );
}
