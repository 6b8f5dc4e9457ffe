/**
 * The Nexus API under the Jupyter server's base_url: REST `nexus/api/*` through ServerConnection (which
 * sends Jupyter's token and XSRF header), and the WebSocket `nexus/api/ws` speaking the operations'
 * messages (`{type, id, payload}` in; `{type, id, data}` out, streamed items before the final reply).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IReceiptPiece {
  path: string;
  startLine: number;
  endLine: number;
  kind: string;
  reason: string;
  tokens: number;
}

export interface IAnswer {
  response: string;
  generated: boolean;
  provider: string;
  model: string;
  receipt: { pieces: IReceiptPiece[]; tokenCount: number; note?: string };
  edit?: string | null;
}

export interface IStatus {
  index?: { files?: number; state?: string; [key: string]: unknown } | null;
  providers?: { available: boolean; problem?: string | null; [key: string]: unknown };
  [key: string]: unknown;
}

/** An error reply of the API: `code` is the protocol's error code (`unavailable`, `bad_request`, ...). */
export class NexusError extends Error {
  constructor(
    readonly code: string,
    message: string
  ) {
    super(message);
  }
}

interface IReply {
  type: string;
  id: number | string;
  data: any;
}

interface IPending {
  onItem: (reply: IReply) => void;
  resolve: (reply: IReply) => void;
  reject: (error: Error) => void;
  streamed: string[];
}

export class NexusClient {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** GET or POST `nexus/api/<path>`; rejects with NexusError carrying the server's message. */
  async rest<T>(path: string, init: RequestInit = {}): Promise<T> {
    const url = URLExt.join(this.settings.baseUrl, 'nexus/api', path);
    const response = await ServerConnection.makeRequest(url, init, this.settings);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new NexusError(body.code ?? String(response.status), body.message ?? response.statusText);
    }
    return body as T;
  }

  status(): Promise<IStatus> {
    return this.rest<IStatus>('status');
  }

  /**
   * Send one request over the WebSocket. `onItem` gets each streamed item (`ai:delta`, ...); the promise
   * resolves with the final reply's data, or rejects with NexusError. `signal` cancels it on the server.
   */
  async call(
    type: string,
    payload: Record<string, unknown>,
    onItem: (type: string, data: any) => void = () => undefined,
    signal?: AbortSignal
  ): Promise<any> {
    const socket = await this._connect();
    const id = ++this._ids;
    return new Promise((resolve, reject) => {
      const pending: IPending = {
        onItem: reply => onItem(reply.type, reply.data),
        resolve: reply => resolve(reply.data),
        reject,
        streamed: []
      };
      this._pending.set(id, pending);
      const abort = () => {
        if (this._pending.has(id) && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: 'cancel', id: ++this._ids, payload: { id } }));
        }
        this._pending.delete(id);
        reject(new NexusError('cancelled', 'cancelled'));
      };
      if (signal) {
        if (signal.aborted) {
          abort();
          return;
        }
        signal.addEventListener('abort', abort, { once: true });
      }
      socket.send(JSON.stringify({ type, id, payload }));
    });
  }

  /** The message types whose replies are streamed items rather than a request's final reply. */
  static readonly ITEMS = new Set(['ai:delta', 'ide:output', 'context:chunk']);

  dispose(): void {
    this._socket?.close();
    this._socket = null;
  }

  private _connect(): Promise<WebSocket> {
    if (this._opening) {
      return this._opening;
    }
    this._opening = new Promise((resolve, reject) => {
      let url = URLExt.join(this.settings.wsUrl, 'nexus/api/ws');
      if (this.settings.token && this.settings.appendToken) {
        url += '?token=' + encodeURIComponent(this.settings.token);
      }
      const socket = new this.settings.WebSocket(url);
      socket.onopen = () => {
        this._socket = socket;
        resolve(socket);
      };
      socket.onerror = () => reject(new NexusError('unavailable', 'cannot reach the Nexus API socket'));
      socket.onclose = () => {
        this._opening = null;
        this._socket = null;
        for (const pending of this._pending.values()) {
          pending.reject(new NexusError('unavailable', 'the Nexus API socket closed'));
        }
        this._pending.clear();
      };
      socket.onmessage = event => this._receive(String(event.data));
    });
    return this._opening;
  }

  private _receive(text: string): void {
    let reply: IReply;
    try {
      reply = JSON.parse(text);
    } catch {
      return;
    }
    const pending = this._pending.get(reply.id as number);
    if (!pending) {
      return;
    }
    if (NexusClient.ITEMS.has(reply.type)) {
      pending.onItem(reply);
      return;
    }
    this._pending.delete(reply.id as number);
    if (reply.type === 'error') {
      pending.reject(new NexusError(reply.data?.code ?? 'error', reply.data?.message ?? 'error'));
    } else {
      pending.resolve(reply);
    }
  }

  private _ids = 0;
  private _opening: Promise<WebSocket> | null = null;
  private _socket: WebSocket | null = null;
  private _pending = new Map<number, IPending>();
}
