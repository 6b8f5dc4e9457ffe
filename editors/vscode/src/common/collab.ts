/**
 * A live-session client of the Nexus gateway (`ws://HOST:PORT/ws/collab/<room>`): Yjs and the
 * y-websocket sync and awareness protocols of y-protocols, plus the gateway's acknowledgements.
 *
 * Nothing here imports `vscode`: the extension binds it to an editor (src/collab.ts), and the tests
 * drive it under Node against a real gateway. Offsets are UTF-16 code units, which is what both Yjs
 * and VS Code count, so an editor's `rangeOffset`/`rangeLength` apply as they are.
 */
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as awarenessProtocol from "y-protocols/awareness";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

export const TEXT = "source"; // the shared text's name (jupyter_ydoc's file documents use it too)
const SYNC = 0;
const AWARENESS = 1;
const QUERY_AWARENESS = 3;
const ACK = 0x4e;

/** The part of a WebSocket this client uses (the `ws` package's, or a browser's). */
export interface SocketLike {
  binaryType: string;
  readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string | Buffer }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export type SocketFactory = (url: string) => SocketLike;

/** One edit; a batch of them (onRemote, applyLocal) is in offsets of the text before the whole batch,
 * non-overlapping, the way VS Code reports `contentChanges` and applies a `WorkspaceEdit`. */
export interface TextEdit {
  offset: number;
  deleteLength: number;
  insert: string;
}

export interface RemoteCursor {
  clientId: number;
  user: string;
  color: string;
  readOnly: boolean;
  anchor: number;
  head: number;
}

export function roomUrl(gateway: string, room: string, token: string, ack = true): string {
  const match = /^(wss?):\/\/([^/]+)/.exec(gateway.trim());
  if (!match) throw new Error(`not a gateway address: ${gateway} (expected ws://host:port)`);
  const path = room.split("/").map(encodeURIComponent).join("/");
  return `${match[1]}://${match[2]}/ws/collab/${path}?token=${encodeURIComponent(token)}${ack ? "&ack=1" : ""}`;
}

const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c"];

export function colorFor(clientId: number): string {
  return COLORS[clientId % COLORS.length] ?? "#888888";
}

/** Edits (in offsets of `before`) that turn it into `after`: one replacement around the changed middle. */
export function diff(before: string, after: string): TextEdit[] {
  if (before === after) return [];
  let start = 0;
  const limit = Math.min(before.length, after.length);
  while (start < limit && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < limit - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  return [{ offset: start, deleteLength: before.length - start - end, insert: after.slice(start, after.length - end) }];
}

export class CollabSession {
  readonly doc = new Y.Doc();
  readonly text: Y.Text;
  readonly awareness: awarenessProtocol.Awareness;
  sent = 0;
  acked = 0;
  closeCode: number | undefined;
  closeReason = "";
  /** Remote edits, in offsets of the text before them (apply them all at once, or from the last back). */
  onRemote: ((edits: TextEdit[]) => void) | undefined;
  onPresence: (() => void) | undefined;
  onClose: ((code: number, reason: string) => void) | undefined;
  private socket: SocketLike | undefined;
  private synced = false;
  private waiters: (() => void)[] = [];
  private readonly remote = Symbol("remote");

  constructor(
    private url: string,
    private readonly factory: SocketFactory,
  ) {
    this.text = this.doc.getText(TEXT);
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.awareness.setLocalState(null);
    this.doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin === this.remote) return;
      this.sent++;
      this.sendSync((encoder) => syncProtocol.writeUpdate(encoder, update));
    });
    this.text.observe((event) => {
      if (event.transaction.origin !== this.remote || !this.onRemote) return;
      const edits: TextEdit[] = [];
      let offset = 0; // in the text before the change: retained and deleted text advance it, inserts do not
      for (const op of event.delta) {
        if (op.retain !== undefined) offset += op.retain;
        else if (op.delete !== undefined) {
          const last = edits[edits.length - 1];
          if (last && last.offset + last.deleteLength === offset) last.deleteLength += op.delete;
          else edits.push({ offset, deleteLength: op.delete, insert: "" });
          offset += op.delete;
        } else if (typeof op.insert === "string") {
          const last = edits[edits.length - 1];
          if (last && last.offset + last.deleteLength === offset) last.insert += op.insert;
          else edits.push({ offset, deleteLength: 0, insert: op.insert });
        }
      }
      this.onRemote(edits);
    });
    this.awareness.on("change", ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === "local") {
        const changed = added.concat(updated, removed);
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, AWARENESS);
        encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed));
        this.sendRaw(encoding.toUint8Array(encoder));
      }
      this.onPresence?.();
    });
  }

  get source(): string {
    return this.text.toString();
  }

  /** Connect (again, to `url` if given); resolves once the first sync is done, rejects if closed first. */
  connect(url?: string, timeoutMs = 10_000): Promise<void> {
    if (url) this.url = url;
    this.synced = false;
    this.sent = 0;
    this.acked = 0;
    return new Promise((resolve, reject) => {
      const socket = this.factory(this.url);
      this.socket = socket;
      socket.binaryType = "arraybuffer";
      const timer = setTimeout(() => reject(new Error(`no sync from the gateway within ${timeoutMs} ms`)), timeoutMs);
      socket.onopen = () => {
        this.sendSync((encoder) => syncProtocol.writeSyncStep1(encoder, this.doc));
        const state = this.awareness.getLocalState();
        if (state !== null) this.awareness.setLocalState(state);
      };
      socket.onmessage = (ev) => {
        this.handle(new Uint8Array(ev.data as ArrayBuffer));
        if (this.synced) {
          clearTimeout(timer);
          resolve();
        }
      };
      socket.onerror = () => undefined; // onclose follows with the code
      socket.onclose = (ev) => {
        clearTimeout(timer);
        this.closeCode = ev.code;
        this.closeReason = String(ev.reason ?? "");
        if (this.socket === socket) this.socket = undefined;
        awarenessProtocol.removeAwarenessStates(this.awareness, [...this.awareness.getStates().keys()].filter((c) => c !== this.doc.clientID), "closed");
        this.wake();
        this.onClose?.(ev.code, this.closeReason);
        reject(new Error(`the gateway closed the session (${ev.code} ${this.closeReason})`));
      };
    });
  }

  close(): void {
    this.socket?.close(1000, "bye");
  }

  /** Close for good: also stops the awareness timer (Node would otherwise stay alive for it). */
  dispose(): void {
    this.close();
    this.awareness.destroy();
    this.doc.destroy();
  }

  /** Apply an editor's changes (offsets of the text before them, as VS Code reports them) as one update. */
  applyLocal(edits: readonly TextEdit[]): void {
    const ordered = [...edits].sort((a, b) => b.offset - a.offset);
    this.doc.transact(() => {
      for (const edit of ordered) {
        if (edit.deleteLength > 0) this.text.delete(edit.offset, edit.deleteLength);
        if (edit.insert) this.text.insert(edit.offset, edit.insert);
      }
    });
  }

  /** Publish this client's cursor (UTF-16 offsets), as relative positions that survive others' edits. */
  setCursor(anchor: number, head: number, user?: { name?: string; color?: string }): void {
    const rel = (offset: number) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(this.text, offset));
    const current = (this.awareness.getLocalState() ?? {}) as Record<string, unknown>;
    this.awareness.setLocalState({
      ...current,
      user: { color: colorFor(this.doc.clientID), ...(current.user as object | undefined), ...user },
      cursor: { anchor: rel(anchor), head: rel(head) },
    });
  }

  remoteCursors(): RemoteCursor[] {
    const cursors: RemoteCursor[] = [];
    for (const [clientId, state] of this.awareness.getStates()) {
      if (clientId === this.doc.clientID) continue;
      const cursor = state.cursor as { anchor?: unknown; head?: unknown } | undefined;
      const user = (state.user ?? {}) as { name?: string; color?: string; readOnly?: boolean };
      const anchor = this.resolve(cursor?.anchor);
      const head = this.resolve(cursor?.head);
      if (anchor === undefined || head === undefined) continue;
      cursors.push({ clientId, user: user.name ?? "?", color: user.color ?? colorFor(clientId), readOnly: !!user.readOnly, anchor, head });
    }
    return cursors;
  }

  /** Until the gateway has journaled every update sent on this connection. */
  async waitAcked(timeoutMs = 10_000): Promise<void> {
    await this.waitFor(() => this.acked >= this.sent, timeoutMs);
  }

  waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error("timed out waiting for the session")), timeoutMs);
      const check = () => {
        if (predicate()) {
          clearTimeout(deadline);
          resolve();
        } else if (this.socket === undefined && this.closeCode !== undefined) {
          clearTimeout(deadline);
          reject(new Error(`the session closed (${this.closeCode} ${this.closeReason})`));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  private resolve(json: unknown): number | undefined {
    if (!json || typeof json !== "object") return undefined;
    try {
      const rel = Y.createRelativePositionFromJSON(json);
      const abs = Y.createAbsolutePositionFromRelativePosition(rel, this.doc);
      return abs?.index;
    } catch {
      return undefined; // a position from a client on another protocol version: no cursor rather than an error
    }
  }

  private handle(data: Uint8Array): void {
    const decoder = decoding.createDecoder(data);
    const kind = decoding.readVarUint(decoder);
    if (kind === SYNC) {
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, SYNC);
      const step = syncProtocol.readSyncMessage(decoder, encoder, this.doc, this.remote);
      if (encoding.length(encoder) > 1) this.sendRaw(encoding.toUint8Array(encoder));
      if (step === syncProtocol.messageYjsSyncStep2) this.synced = true;
    } else if (kind === AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(decoder), "remote");
    } else if (kind === ACK) {
      this.acked = Math.max(this.acked, decoding.readVarUint(decoder));
    } else if (kind === QUERY_AWARENESS) {
      // the gateway never asks
    }
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private sendSync(write: (encoder: encoding.Encoder) => void): void {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, SYNC);
    write(encoder);
    this.sendRaw(encoding.toUint8Array(encoder));
  }

  private sendRaw(message: Uint8Array): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(message);
  }
}

/** A token from the gateway's JSON protocol (`auth:login` on `/ws/gateway`). */
export function login(gateway: string, username: string, password: string, factory: SocketFactory, timeoutMs = 15_000): Promise<string> {
  const match = /^(wss?):\/\/([^/]+)/.exec(gateway.trim());
  if (!match) return Promise.reject(new Error(`not a gateway address: ${gateway} (expected ws://host:port)`));
  return new Promise((resolve, reject) => {
    const socket = factory(`${match[1]}://${match[2]}/ws/gateway`);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("the gateway did not answer the login"));
    }, timeoutMs);
    socket.onopen = () => {
      (socket as unknown as { send(data: string): void }).send(JSON.stringify({ type: "auth:login", id: 1, payload: { username, password } }));
    };
    socket.onmessage = (ev) => {
      clearTimeout(timer);
      socket.close(1000, "logged in");
      const reply = JSON.parse(String(ev.data)) as { type: string; data?: { token?: string; message?: string } };
      if (reply.type === "error" || !reply.data?.token) reject(new Error(reply.data?.message ?? "login failed"));
      else resolve(reply.data.token);
    };
    socket.onerror = () => undefined;
    socket.onclose = (ev) => {
      clearTimeout(timer);
      reject(new Error(`could not log in to ${gateway} (${ev.code} ${String(ev.reason ?? "")})`));
    };
  });
}

/** One request of the gateway's JSON protocol (`collab:save`, `collab:rooms`) with a token. */
export function request(gateway: string, token: string, type: string, payload: object, factory: SocketFactory,
                        timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const match = /^(wss?):\/\/([^/]+)/.exec(gateway.trim());
  if (!match) return Promise.reject(new Error(`not a gateway address: ${gateway} (expected ws://host:port)`));
  return new Promise((resolve, reject) => {
    const socket = factory(`${match[1]}://${match[2]}/ws/gateway?token=${encodeURIComponent(token)}`);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`the gateway did not answer ${type}`));
    }, timeoutMs);
    socket.onopen = () => {
      (socket as unknown as { send(data: string): void }).send(JSON.stringify({ type, id: 1, payload }));
    };
    socket.onmessage = (ev) => {
      clearTimeout(timer);
      socket.close(1000, "done");
      const reply = JSON.parse(String(ev.data)) as { type: string; data?: Record<string, unknown> };
      if (reply.type === "error") reject(new Error(String(reply.data?.message ?? `${type} failed`)));
      else resolve(reply.data ?? {});
    };
    socket.onerror = () => undefined;
    socket.onclose = (ev) => {
      clearTimeout(timer);
      reject(new Error(`${type}: the gateway closed the connection (${ev.code} ${String(ev.reason ?? "")})`));
    };
  });
}
