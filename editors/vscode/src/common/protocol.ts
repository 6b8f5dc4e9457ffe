/**
 * The Nexus LSP extensions (docs/lsp-extensions.md) as TypeScript types and method names.
 *
 * This module imports nothing from `vscode`, so the unit tests and the protocol test (which drives the
 * real `nexus lsp` with Microsoft's node client) share it with the extension.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextDocumentIdentifier {
  uri: string;
}

export type ProgressToken = string | number;

export const Methods = {
  search: "nexus/search",
  reindex: "nexus/reindex",
  status: "nexus/status",
  chat: "nexus/chat",
  run: "nexus/run",
  commitMessage: "nexus/ai.commit_message",
} as const;

/** `nexus/ai.commit_message`: streamed `{kind: "ai:delta", data: {text}}` partials, then this. */
export interface CommitMessageResult {
  message: string;
  files: string[];
}

/** Commands the server runs through `workspace/executeCommand` (code actions). */
export const ServerCommands = {
  explain: "nexus.explain",
  fixDiagnostic: "nexus.fixDiagnostic",
  addDocstring: "nexus.addDocstring",
  writeTests: "nexus.writeTests",
  refactor: "nexus.refactor",
} as const;

export type SearchMode = "text" | "symbols" | "files";

export interface SearchParams {
  query: string;
  mode?: SearchMode;
  limit?: number;
  languages?: string[];
}

export interface SearchHit {
  uri: string;
  range: Range;
  name?: string;
  kind?: string;
  preview?: string;
  score: number;
}

/**
 * One folder in `nexus/status`: the `nexus status --json` shape, either flat or under `index`
 * (the server adds its live state: `state`, `filesDone`, `filesTotal`, `error`).
 */
export interface FolderStatus {
  root?: string;
  uri?: string;
  files?: number;
  symbols?: number;
  pending?: number;
  state?: string;
  error?: string | null;
  index?: { files?: number; symbols?: number; pending?: number; writer?: number | null; interrupted?: boolean; error?: string };
  [key: string]: unknown;
}

export interface StatusResult {
  version?: string;
  server?: { name?: string; version?: string };
  folders: FolderStatus[];
  providers?: Record<string, unknown>;
  kernels?: Record<string, unknown>;
}

/** Either the summaries of a finished run (`folders`) or the folders whose background run started. */
export interface ReindexResult {
  folders?: Array<Record<string, unknown>>;
  started?: string[];
}

export interface ChatParams {
  prompt: string;
  textDocument?: TextDocumentIdentifier;
  position?: Position;
  range?: Range;
  provider?: string;
  model?: string;
  partialResultToken?: ProgressToken;
}

export interface ChatDelta {
  delta: string;
}

export interface ReceiptEntry {
  uri: string;
  path: string;
  startLine: number;
  endLine: number;
  reason: string;
}

export interface ChatResult {
  text: string;
  provider: string;
  model: string;
  usage: Record<string, unknown>;
  receipt: ReceiptEntry[];
  generated: boolean;
}

export interface RunParams {
  language?: string;
  code?: string;
  textDocument?: TextDocumentIdentifier;
  range?: Range;
  cell?: boolean;
  position?: Position;
  sessionId?: string;
  timeout?: number;
  partialResultToken?: ProgressToken;
}

/** A Jupyter output, as the server forwards it (nbformat output shapes). */
export interface OutputItem {
  output_type: "stream" | "execute_result" | "display_data" | "error" | string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  [key: string]: unknown;
}

export interface RunPartial {
  output: OutputItem;
}

export interface RunResult {
  output: string;
  exitCode: number;
  executionTime: number;
  outputs: OutputItem[];
}

/** JSON-RPC error codes the clients react to. */
export const ErrorCodes = {
  MethodNotFound: -32601,
  InvalidParams: -32602,
  RequestCancelled: -32800,
  ServerCancelled: -32802,
} as const;
