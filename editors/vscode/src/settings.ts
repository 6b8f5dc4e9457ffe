/** Reads the `nexus.*` settings through `common/config` and reports invalid values once each. */

import * as vscode from "vscode";

import { type NexusSettings, parseSettings } from "./common/config";
import { getLog } from "./logging";

const reported = new Set<string>();

export function readSettings(scope?: vscode.ConfigurationScope): NexusSettings {
  const config = vscode.workspace.getConfiguration("nexus", scope);
  const { settings, problems } = parseSettings((key) => config.get(key));
  for (const problem of problems) {
    getLog().warn(problem);
    if (!reported.has(problem)) {
      reported.add(problem);
      void vscode.window.showWarningMessage(problem, "Open Settings").then((choice) => {
        if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "nexus.");
      });
    }
  }
  return settings;
}
