/**
 * Entry point: wires the log, settings, status bar, server and commands together.
 *
 * Everything with logic lives in a module of its own; what VS Code cannot run in a unit test is kept
 * thin, and what it can (src/common/) never imports `vscode`.
 */

import * as vscode from "vscode";

import { CELL_LANGUAGES, CellLensProvider, trackCellContext } from "./cellLens";
import { Sessions } from "./collab";
import { registerCommands } from "./commands";
import { needsRestart } from "./common/config";
import { registerDebugger } from "./debugger";
import { getLog } from "./logging";
import { RunOutputs } from "./runOutput";
import { LANGUAGES, ServerController } from "./server";
import { readSettings } from "./settings";
import { StatusBar } from "./statusBar";

/** What other extensions may use. */
export interface NexusApi {
  readonly server: ServerController;
}

let running: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<NexusApi> {
  const log = getLog();
  log.info(`Nexus ${String(context.extension.packageJSON.version)} activating`);
  const statusBar = new StatusBar();
  const server = new ServerController(readSettings(), statusBar);
  running = server;
  const outputs = new RunOutputs();
  const sessions = new Sessions(context.secrets);
  context.subscriptions.push(log, statusBar, server, outputs, sessions, ...registerCommands(server, outputs, sessions));
  context.subscriptions.push(
    vscode.languages.registerCodeLensProvider(
      CELL_LANGUAGES.map((language) => ({ language, scheme: "file" })),
      new CellLensProvider(),
    ),
    trackCellContext(LANGUAGES),
    ...registerDebugger(),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration("nexus")) return;
      const before = server.current;
      const after = readSettings();
      server.current = after;
      if (needsRestart(before, after)) {
        log.info("server settings changed: restarting the server");
        await server.restart();
      }
    }),
  );
  await server.start();
  return { server };
}

/** VS Code waits for this: the server gets its shutdown/exit instead of being killed. */
export function deactivate(): Promise<void> | undefined {
  const server = running;
  running = undefined;
  return server?.stop();
}
