/**
 * Starting, stopping and talking to `nexus lsp`.
 *
 * `ServerController` owns the `LanguageClient`: it resolves the command from the settings, passes the
 * AI settings to the server as environment variables, feeds the status bar, and offers `request()`,
 * which handles the partial-result streaming of the Nexus extensions (docs/lsp-extensions.md).
 */

import { randomUUID } from "node:crypto";

import * as vscode from "vscode";
import {
  type CancellationToken,
  type Executable,
  LanguageClient,
  type LanguageClientOptions,
  ProgressType,
  State,
} from "vscode-languageclient/node";

import { type NexusSettings, serverEnv } from "./common/config";
import { describeError } from "./common/errors";
import { Methods, type StatusResult } from "./common/protocol";
import type { Progress } from "./common/status";
import { describeCommand, resolveServerCommand, ServerNotFoundError, whichOnPath } from "./common/serverCommand";
import { sleepUnlessCancelled } from "./common/timing";
import { getLog, showError } from "./logging";
import type { StatusBar } from "./statusBar";

export const LANGUAGES = [
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "java", "c", "cpp",
] as const;

/** Files, unsaved buffers and notebook cells of every language the engine indexes. */
export const DOCUMENT_SELECTOR = LANGUAGES.flatMap((language) =>
  ["file", "untitled", "vscode-notebook-cell"].map((scheme) => ({ scheme, language })),
);

export type ExplainHandler = (result: unknown) => void;

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private settings: NexusSettings;
  private readonly disposables: vscode.Disposable[] = [];
  private starting: Promise<void> | undefined;
  private readonly progress = new Map<string | number, Progress>();
  /** Called with the result of the server's `nexus.explain` command (a chat-shaped answer). */
  onExplainResult: ExplainHandler | undefined;

  constructor(settings: NexusSettings, private readonly statusBar: StatusBar) {
    this.settings = settings;
  }

  get isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  get current(): NexusSettings {
    return this.settings;
  }

  /** Applies new settings; the caller decides whether they need a restart (`needsRestart`). */
  set current(settings: NexusSettings) {
    this.settings = settings;
  }

  async start(): Promise<void> {
    if (this.client) return this.starting;
    const log = getLog();
    let executable: Executable;
    try {
      const cmd = resolveServerCommand(this.settings, (name) => whichOnPath(name));
      log.info(`starting the server: ${describeCommand(cmd)} (from ${cmd.source})`);
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      executable = {
        command: cmd.command,
        args: cmd.args,
        options: { cwd: folder, env: serverEnv(this.settings, process.env) },
      };
    } catch (error) {
      const message = error instanceof ServerNotFoundError ? error.message : describeError("Starting Nexus", error);
      this.statusBar.update({ state: "failed", error: message });
      void showError(message);
      return;
    }

    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: log,
      traceOutputChannel: log,
      synchronize: { configurationSection: "nexus" },
      initializationOptions: {
        client: "vscode",
        ai: this.settings.ai,
        inlineCompletion: this.settings.inlineCompletion,
      },
      markdown: { isTrusted: false, supportHtml: false },
      middleware: {
        provideInlineCompletionItems: async (document, position, context, token, next) => {
          const { enabled, debounceMs } = this.settings.inlineCompletion;
          if (!enabled) return null;
          // VS Code asks on every keystroke; waiting lets a fast typist's request be cancelled unsent.
          if (debounceMs > 0 && !(await sleepUnlessCancelled(debounceMs, token))) return null;
          return next(document, position, context, token);
        },
        handleWorkDoneProgress: (token, params, next) => {
          // Several folders may index at once: the status bar shows the latest still running.
          if (params.kind === "begin") {
            this.progress.set(token, { title: params.title, message: params.message, percentage: params.percentage });
          } else if (params.kind === "report") {
            const before = this.progress.get(token);
            this.progress.set(token, {
              title: before?.title ?? "Nexus", message: params.message ?? before?.message, percentage: params.percentage,
            });
          } else {
            this.progress.delete(token);
            void this.refreshStatus();
          }
          this.statusBar.update({ progress: [...this.progress.values()].pop() });
          next(token, params);
        },
        executeCommand: async (command, args, next) => {
          const result = await next(command, args);
          if (command === "nexus.explain" && result && this.onExplainResult) this.onExplainResult(result);
          return result;
        },
      },
    };

    const client = new LanguageClient("nexus", "Nexus", { run: executable, debug: executable }, clientOptions);
    this.client = client;
    this.disposables.push(
      client.onDidChangeState((event) => {
        if (event.newState === State.Running) this.statusBar.update({ state: "running", error: undefined });
        else if (event.newState === State.Starting) this.statusBar.update({ state: "starting" });
        else if (this.client === client) this.statusBar.update({ state: "stopped", progress: undefined });
      }),
    );
    this.statusBar.update({ state: "starting", error: undefined });
    this.starting = client.start().then(
      () => this.refreshStatus(),
      (error: unknown) => {
        const message = describeError("Starting the Nexus server", error);
        this.statusBar.update({ state: "failed", error: message });
        void showError(`${message}. Check nexus.server.command / nexus.server.pythonPath.`);
      },
    );
    return this.starting;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.starting = undefined;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(5000);
      } catch (error) {
        getLog().warn(describeError("Stopping the server", error));
      }
    }
    this.progress.clear();
    this.statusBar.update({ state: "stopped", progress: undefined });
  }

  async restart(): Promise<void> {
    getLog().info("restarting the server");
    await this.stop();
    await this.start();
  }

  /**
   * Sends a Nexus request. With `onPartial`, passes a `partialResultToken` and calls `onPartial` for
   * each `$/progress` value the server streams before the final result. Raises the JSON-RPC error.
   */
  async request<R, P = unknown>(
    method: string,
    params: object,
    token?: CancellationToken,
    onPartial?: (value: P) => void,
  ): Promise<R> {
    const client = await this.ready();
    if (!onPartial) return client.sendRequest<R>(method, params, token);
    const partialResultToken = `nexus-${randomUUID()}`;
    const subscription = client.onProgress(new ProgressType<P>(), partialResultToken, onPartial);
    try {
      return await client.sendRequest<R>(method, { ...params, partialResultToken }, token);
    } finally {
      subscription.dispose();
    }
  }

  /** Sends a request with a work-done token and reports its progress to `progress`. */
  async requestWithProgress<R>(
    method: string,
    params: object,
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    token?: CancellationToken,
  ): Promise<R> {
    const client = await this.ready();
    const workDoneToken = `nexus-${randomUUID()}`;
    let last = 0;
    const subscription = client.onProgress(
      new ProgressType<{ kind: string; message?: string; percentage?: number; title?: string }>(),
      workDoneToken,
      (value) => {
        const increment = typeof value.percentage === "number" ? Math.max(value.percentage - last, 0) : undefined;
        if (typeof value.percentage === "number") last = value.percentage;
        progress.report({ message: value.message ?? value.title, increment });
      },
    );
    try {
      return await client.sendRequest<R>(method, { ...params, workDoneToken }, token);
    } finally {
      subscription.dispose();
    }
  }

  async refreshStatus(): Promise<void> {
    if (!this.isRunning) return;
    try {
      const status = await this.request<StatusResult>(Methods.status, {});
      this.statusBar.update({ status });
    } catch (error) {
      getLog().warn(describeError("nexus/status", error));
    }
  }

  private async ready(): Promise<LanguageClient> {
    if (!this.client) await this.start();
    await this.starting;
    const client = this.client;
    if (!client || client.state !== State.Running) {
      throw new Error("the Nexus server is not running (see Nexus: Show Logs)");
    }
    return client;
  }

  dispose(): void {
    void this.stop();
    for (const d of this.disposables) d.dispose();
  }
}
