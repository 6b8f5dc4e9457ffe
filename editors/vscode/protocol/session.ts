/**
 * A real `nexus lsp` process driven by Microsoft's node LSP client library
 * (`vscode-languageserver-protocol` over `vscode-jsonrpc` streams), the same protocol stack the
 * VS Code extension uses. Waits are on events, each with a timeout.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import {
  createProtocolConnection,
  InitializeRequest,
  type InitializeResult,
  InitializedNotification,
  type ProtocolConnection,
  ShutdownRequest,
  ExitNotification,
  StreamMessageReader,
  StreamMessageWriter,
  WorkDoneProgressCreateRequest,
  DidOpenTextDocumentNotification,
  ConfigurationRequest,
  RegistrationRequest,
  ShowMessageRequest,
} from "vscode-languageserver-protocol/node";

export interface ProgressEvent {
  token: string | number;
  value: { kind?: string; [key: string]: unknown };
}

/** Rejects with `what` after `ms` unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class ServerSession {
  readonly connection: ProtocolConnection;
  readonly stderr: string[] = [];
  readonly progress: ProgressEvent[] = [];
  readonly logMessages: string[] = [];
  capabilities: InitializeResult["capabilities"] | undefined;
  serverInfo: InitializeResult["serverInfo"];
  private exited: Promise<number | null>;
  private progressListeners: Array<(event: ProgressEvent) => void> = [];

  private constructor(readonly process: ChildProcess, readonly root: string) {
    this.connection = createProtocolConnection(
      new StreamMessageReader(process.stdout!),
      new StreamMessageWriter(process.stdin!),
    );
    process.stderr!.setEncoding("utf8");
    process.stderr!.on("data", (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => process.on("exit", (code) => resolve(code)));
    this.connection.onRequest(WorkDoneProgressCreateRequest.type, () => {});
    this.connection.onRequest(RegistrationRequest.type, () => undefined);
    this.connection.onRequest(ConfigurationRequest.type, (params) => params.items.map(() => null));
    this.connection.onRequest(ShowMessageRequest.type, () => null);
    this.connection.onNotification("window/logMessage", (params: { message: string }) => {
      this.logMessages.push(params.message);
    });
    this.connection.onNotification("$/progress", (params: ProgressEvent) => {
      this.progress.push(params);
      for (const listener of this.progressListeners) listener(params);
    });
    this.connection.listen();
  }

  /** Starts `command` in `root` and completes the initialize handshake. */
  static async start(command: string[], root: string, env: NodeJS.ProcessEnv): Promise<ServerSession> {
    const child = spawn(command[0]!, command.slice(1), { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] });
    const session = new ServerSession(child, root);
    const spawnError = new Promise<never>((_, reject) => child.on("error", reject));
    const early = session.exited.then((code) => {
      throw new Error(`the server exited (code ${code}) before answering initialize: ${session.stderr.join("").trim()}`);
    });
    const uri = pathToFileURL(root).href;
    const init = session.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      clientInfo: { name: "nexus-protocol-test", version: "0" },
      rootUri: uri,
      workspaceFolders: [{ uri, name: "workspace" }],
      capabilities: {
        general: { positionEncodings: ["utf-16"] },
        window: { workDoneProgress: true },
        workspace: { configuration: true, workspaceFolders: true },
        textDocument: {
          synchronization: { dynamicRegistration: false, didSave: true },
          completion: { completionItem: { snippetSupport: false, documentationFormat: ["markdown", "plaintext"] } },
          definition: { linkSupport: false },
          hover: { contentFormat: ["markdown", "plaintext"] },
          inlineCompletion: { dynamicRegistration: false },
        },
      },
      initializationOptions: { client: "protocol-test", budgets: Object.fromEntries(["completion", "definition", "hover", "signatureHelp", "references", "highlight", "rename"].map((k) => [k, 60_000])) },
    });
    const result = await within(Promise.race([init, spawnError, early]), 60_000, "the initialize response");
    session.capabilities = result.capabilities;
    session.serverInfo = result.serverInfo;
    await session.connection.sendNotification(InitializedNotification.type, {});
    return session;
  }

  uri(relative: string): string {
    return pathToFileURL(join(this.root, relative)).href;
  }

  /** Opens a workspace file with `append` added at its end; returns its URI and line count. */
  async open(relative: string, languageId: string, append = ""): Promise<{ uri: string; text: string; lines: string[] }> {
    const text = readFileSync(join(this.root, relative), "utf8") + append;
    const uri = this.uri(relative);
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId, version: 1, text },
    });
    return { uri, text, lines: text.split("\n") };
  }

  /** Resolves when a work-done progress with this kind has been seen (before or after the call). */
  waitForProgress(predicate: (event: ProgressEvent) => boolean, ms: number, what: string): Promise<ProgressEvent> {
    const seen = this.progress.find(predicate);
    if (seen) return Promise.resolve(seen);
    return within(new Promise((resolve) => {
      const listener = (event: ProgressEvent) => {
        if (predicate(event)) {
          this.progressListeners = this.progressListeners.filter((l) => l !== listener);
          resolve(event);
        }
      };
      this.progressListeners.push(listener);
    }), ms, what);
  }

  /** Collects the `$/progress` values sent with `token` (partial results) from now on. */
  collect<T>(token: string): { values: T[]; first: Promise<T>; dispose(): void } {
    const values: T[] = [];
    let resolveFirst: (value: T) => void = () => undefined;
    const first = new Promise<T>((resolve) => (resolveFirst = resolve));
    const listener = (event: ProgressEvent) => {
      if (event.token === token) {
        values.push(event.value as T);
        if (values.length === 1) resolveFirst(event.value as T);
      }
    };
    this.progressListeners.push(listener);
    return { values, first, dispose: () => (this.progressListeners = this.progressListeners.filter((l) => l !== listener)) };
  }

  async stop(): Promise<void> {
    try {
      await within(this.connection.sendRequest(ShutdownRequest.type), 10_000, "shutdown");
      await this.connection.sendNotification(ExitNotification.type);
      await within(this.exited, 10_000, "the server to exit");
    } catch {
      this.process.kill("SIGKILL");
    } finally {
      this.connection.dispose();
    }
  }
}
