/**
 * One `LogOutputChannel` ("Nexus") for the extension and the language client: the client writes the
 * server's stderr and `window/logMessage` into it, and its level follows "Developer: Set Log Level".
 */

import * as vscode from "vscode";

let channel: vscode.LogOutputChannel | undefined;

export function getLog(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel("Nexus", { log: true });
  return channel;
}

/** For errors the user must act on: logged, and shown with a button to open the log. */
export async function showError(message: string): Promise<void> {
  getLog().error(message);
  const choice = await vscode.window.showErrorMessage(message, "Show Logs");
  if (choice === "Show Logs") getLog().show(true);
}
