/**
 * The `nexus` debugger type: VS Code starts `nexus dap` (a `DebugAdapterExecutable`) for each debug
 * session. F5 in a Python file without a launch.json launches that file; an attach configuration that
 * names no kernel session offers the running ones in a quick pick.
 */

import { execFile } from "node:child_process";

import * as vscode from "vscode";

import { serverEnv } from "./common/config";
import {
  attachableSessions,
  configProblem,
  DEBUG_TYPE,
  type DebugConfig,
  defaultLaunchConfig,
  describeSession,
  type KernelSession,
  namesKernel,
  parseSessions,
  resolveDapCommand,
} from "./common/debugConfig";
import { describeCommand, whichOnPath } from "./common/serverCommand";
import { getLog, showError } from "./logging";
import { readSettings } from "./settings";

const LIST_TIMEOUT_MS = 20_000;

function dapCommand() {
  const settings = readSettings();
  return { cmd: resolveDapCommand(settings, (name) => whichOnPath(name)), env: serverEnv(settings, process.env) };
}

class AdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.DebugAdapterDescriptor {
    const { cmd, env } = dapCommand();
    getLog().info(`debug session "${session.name}": starting ${describeCommand(cmd)} (from ${cmd.source})`);
    const cwd = session.workspaceFolder?.uri.fsPath;
    return new vscode.DebugAdapterExecutable(cmd.command, cmd.args, cwd ? { env, cwd } : { env });
  }
}

/** Runs `nexus dap --list-sessions`: the kernel sessions Nexus processes advertise. */
function listSessions(): Promise<KernelSession[]> {
  const { cmd, env } = dapCommand();
  return new Promise((resolve, reject) => {
    execFile(cmd.command, [...cmd.args, "--list-sessions"], { env, timeout: LIST_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${describeCommand(cmd)} --list-sessions failed: ${stderr.trim() || error.message}`));
        return;
      }
      try {
        resolve(parseSessions(stdout));
      } catch (parseError) {
        reject(parseError);
      }
    });
  });
}

class ConfigurationProvider implements vscode.DebugConfigurationProvider {
  async resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): Promise<vscode.DebugConfiguration | undefined> {
    let resolved = config as DebugConfig;
    if (!resolved.type && !resolved.request && !resolved.name) {
      const editor = vscode.window.activeTextEditor;
      if (editor?.document.languageId !== "python" || editor.document.isUntitled) {
        await showError("Open a saved Python file to debug it, or add a \"nexus\" configuration to launch.json.");
        return undefined;
      }
      resolved = defaultLaunchConfig(editor.document.uri.fsPath);
    }
    const problem = configProblem(resolved);
    if (problem) {
      await showError(problem);
      return undefined;
    }
    if (resolved.request === "attach" && !namesKernel(resolved)) {
      const sessionId = await this.pickSession();
      if (sessionId === undefined) return undefined;
      resolved = { ...resolved, sessionId };
    }
    return resolved as vscode.DebugConfiguration;
  }

  private async pickSession(): Promise<string | undefined> {
    let sessions: KernelSession[];
    try {
      sessions = attachableSessions(await listSessions());
    } catch (error) {
      await showError(error instanceof Error ? error.message : String(error));
      return undefined;
    }
    if (sessions.length === 0) {
      await showError("No Python kernel session is running to attach to. Run a cell first (Nexus: Run Cell).");
      return undefined;
    }
    if (sessions.length === 1) return sessions[0]!.sessionId;
    const picked = await vscode.window.showQuickPick(
      sessions.map((s) => ({ ...describeSession(s), session: s })),
      { title: "Attach the debugger to a kernel session", matchOnDescription: true },
    );
    return picked?.session.sessionId;
  }
}

export function registerDebugger(): vscode.Disposable[] {
  return [
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new AdapterFactory()),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new ConfigurationProvider()),
  ];
}
