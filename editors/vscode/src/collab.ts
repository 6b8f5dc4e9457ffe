/**
 * Nexus: Share Session / Join Session / Save Shared File / Leave Session. One shared editor per room:
 * the document's text is bound to the room's Yjs text (src/common/collab.ts), the others' cursors
 * and selections are decorations labelled with their names.
 *
 * The Yjs document is the truth. Local changes go into it synchronously from
 * onDidChangeTextDocument; remote changes come back as one WorkspaceEdit each, and after each the
 * buffer is compared with the shared text and, should a keystroke have raced the edit, replaced by the
 * difference, so the buffer never drifts from the session.
 */
import * as vscode from "vscode";
import WebSocket from "ws";

import { CollabSession, RemoteCursor, SocketLike, TextEdit, diff, login, request, roomUrl } from "./common/collab";
import { getLog } from "./logging";
import { readSettings } from "./settings";

const factory = (url: string) => new WebSocket(url) as unknown as SocketLike;

class SharedEditor implements vscode.Disposable {
  private applying = 0;
  private queue: TextEdit[][] = [];
  private flushing = false;
  private readonly decorations = new Map<string, vscode.TextEditorDecorationType>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    readonly room: string,
    readonly document: vscode.TextDocument,
    readonly session: CollabSession,
    private readonly gateway: string,
    private readonly token: string,
  ) {
    session.onRemote = (edits) => {
      this.queue.push(edits);
      void this.flush();
    };
    session.onPresence = () => this.paintCursors();
    session.onClose = (code, reason) => {
      if (code !== 1000) void vscode.window.showWarningMessage(`Nexus: the live session ${room} ended (${code} ${reason}).`);
    };
    this.subscriptions.push(
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document !== this.document || this.applying > 0 || event.contentChanges.length === 0) return;
        session.applyLocal(event.contentChanges.map((c) => ({ offset: c.rangeOffset, deleteLength: c.rangeLength, insert: c.text })));
      }),
      vscode.window.onDidChangeTextEditorSelection((event) => {
        if (event.textEditor.document !== this.document) return;
        const selection = event.selections[0];
        if (selection) session.setCursor(this.document.offsetAt(selection.anchor), this.document.offsetAt(selection.active));
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.paintCursors()),
    );
  }

  /** Make the buffer the shared text (after joining). */
  async adopt(): Promise<void> {
    this.queue.push([]);
    await this.flush();
  }

  async save(force = false): Promise<string> {
    const saved = await request(this.gateway, this.token, "collab:save", { room: this.room, force }, factory);
    return `${String(saved.path)} (${String(saved.bytes)} bytes)`;
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const edits = this.queue.shift() ?? [];
        await this.apply(edits);
        const fix = diff(this.document.getText(), this.session.source);
        if (fix.length > 0 && this.queue.length === 0) await this.apply(fix);
      }
    } finally {
      this.flushing = false;
    }
    this.paintCursors();
  }

  private async apply(edits: readonly TextEdit[]): Promise<void> {
    if (edits.length === 0) return;
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) {
      const range = new vscode.Range(this.document.positionAt(e.offset), this.document.positionAt(e.offset + e.deleteLength));
      edit.replace(this.document.uri, range, e.insert);
    }
    this.applying++;
    try {
      await vscode.workspace.applyEdit(edit);
    } finally {
      this.applying--;
    }
  }

  private paintCursors(): void {
    const byColor = new Map<string, { cursors: vscode.DecorationOptions[]; selections: vscode.DecorationOptions[] }>();
    for (const cursor of this.session.remoteCursors()) {
      const entry = byColor.get(cursor.color) ?? { cursors: [], selections: [] };
      byColor.set(cursor.color, entry);
      const head = this.document.positionAt(cursor.head);
      entry.cursors.push({ range: new vscode.Range(head, head), hoverMessage: label(cursor), renderOptions: { after: { contentText: ` ${cursor.user}` } } });
      if (cursor.anchor !== cursor.head) {
        const anchor = this.document.positionAt(cursor.anchor);
        entry.selections.push({ range: new vscode.Range(anchor, head), hoverMessage: label(cursor) });
      }
    }
    for (const editor of vscode.window.visibleTextEditors.filter((e) => e.document === this.document)) {
      for (const [key, type] of this.decorations) {
        const [color, kind] = key.split("|");
        const found = byColor.get(color ?? "");
        editor.setDecorations(type, found ? (kind === "cursor" ? found.cursors : found.selections) : []);
      }
      for (const [color, found] of byColor) {
        editor.setDecorations(this.decoration(color, "cursor"), found.cursors);
        editor.setDecorations(this.decoration(color, "selection"), found.selections);
      }
    }
  }

  private decoration(color: string, kind: "cursor" | "selection"): vscode.TextEditorDecorationType {
    const key = `${color}|${kind}`;
    let type = this.decorations.get(key);
    if (!type) {
      type = kind === "cursor"
        ? vscode.window.createTextEditorDecorationType({
            borderStyle: "solid", borderColor: color, borderWidth: "0 0 0 2px",
            after: { color, fontStyle: "italic", margin: "0 0 0 2px" },
          })
        : vscode.window.createTextEditorDecorationType({ backgroundColor: `${color}33` });
      this.decorations.set(key, type);
    }
    return type;
  }

  dispose(): void {
    this.session.dispose();
    for (const type of this.decorations.values()) type.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

function label(cursor: RemoteCursor): string {
  return `${cursor.user}${cursor.readOnly ? " (viewer)" : ""}`;
}

export class Sessions implements vscode.Disposable {
  private readonly shared = new Map<string, SharedEditor>();

  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** Share the active file: the room is its workspace path, so collaborators and the language server agree on it. */
  async share(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage("Nexus: open the file to share first.");
      return;
    }
    const room = vscode.workspace.asRelativePath(editor.document.uri, false);
    const entry = await this.connect(room, editor.document);
    if (!entry) return;
    if (entry.session.source !== editor.document.getText()) {
      // Unsaved changes in the sharer's buffer win over the disk copy the room started from.
      entry.session.applyLocal(diff(entry.session.source, editor.document.getText()));
    }
    await vscode.env.clipboard.writeText(room);
    void vscode.window.showInformationMessage(`Nexus: sharing ${room} (room name copied: others run Nexus: Join Session).`);
  }

  async join(given?: string): Promise<void> {
    const room = given ?? (await vscode.window.showInputBox({ prompt: "Room to join (usually the file's workspace path)", ignoreFocusOut: true }));
    if (!room) return;
    const folder = vscode.workspace.workspaceFolders?.[0];
    let document: vscode.TextDocument;
    try {
      document = folder ? await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, room)) : await vscode.workspace.openTextDocument({ content: "" });
    } catch {
      document = await vscode.workspace.openTextDocument({ content: "" }); // no such file here: an untitled buffer
    }
    await vscode.window.showTextDocument(document);
    const entry = await this.connect(room, document);
    await entry?.adopt();
  }

  async save(): Promise<void> {
    const entry = this.active();
    if (!entry) return;
    try {
      void vscode.window.showInformationMessage(`Nexus: saved ${await entry.save()}.`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!/changed on disk/.test(message)) throw err;
      const choice = await vscode.window.showWarningMessage(`Nexus: ${message}`, { modal: true }, "Overwrite");
      if (choice === "Overwrite") void vscode.window.showInformationMessage(`Nexus: saved ${await entry.save(true)}.`);
    }
  }

  leave(): void {
    const entry = this.active();
    if (!entry) return;
    entry.dispose();
    this.shared.delete(entry.room);
  }

  private active(): SharedEditor | undefined {
    const document = vscode.window.activeTextEditor?.document;
    const entry = [...this.shared.values()].find((e) => e.document === document);
    if (!entry) void vscode.window.showInformationMessage("Nexus: the active editor is not in a live session.");
    return entry;
  }

  private async connect(room: string, document: vscode.TextDocument): Promise<SharedEditor | undefined> {
    this.shared.get(room)?.dispose();
    const { gateway, user } = readSettings().collab;
    try {
      const token = await this.token(gateway, user);
      if (!token) return undefined;
      const session = new CollabSession(roomUrl(gateway, room, token), factory);
      await session.connect();
      const entry = new SharedEditor(room, document, session, gateway, token);
      this.shared.set(room, entry);
      getLog().info(`joined live session ${room} on ${gateway}`);
      return entry;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      getLog().error(`live session ${room}: ${message}`);
      void vscode.window.showErrorMessage(`Nexus: could not join ${room}: ${message}`);
      return undefined;
    }
  }

  /** A gateway token: kept in the secret storage; asked for (user and password) when missing. */
  private async token(gateway: string, configuredUser: string): Promise<string | undefined> {
    const key = `nexus.collab.token:${gateway}`;
    const stored = await this.secrets.get(key);
    if (stored) return stored;
    const user = configuredUser || (await vscode.window.showInputBox({ prompt: `Nexus gateway user (${gateway})`, ignoreFocusOut: true }));
    if (!user) return undefined;
    const password = await vscode.window.showInputBox({ prompt: `Password for ${user}`, password: true, ignoreFocusOut: true });
    if (!password) return undefined;
    const token = await login(gateway, user, password, factory);
    await this.secrets.store(key, token);
    return token;
  }

  dispose(): void {
    for (const entry of this.shared.values()) entry.dispose();
    this.shared.clear();
  }
}
