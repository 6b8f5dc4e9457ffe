/**
 * The extension's live-session client (src/common/collab.ts) under Node against a real `nexus gateway`
 * that tests/collab/test_vscode_client.py starts; it passes the address and tokens in the environment
 * and checks afterwards, with pycrdt, what these clients left in the rooms.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import WebSocket from "ws";

import { CollabSession, SocketLike, TextEdit, diff, login, request, roomUrl } from "../src/common/collab";

const gateway = process.env.NEXUS_COLLAB_GATEWAY ?? "";
const developer = process.env.NEXUS_COLLAB_TOKEN ?? "";
const viewer = process.env.NEXUS_COLLAB_VIEWER_TOKEN ?? "";
const factory = (url: string) => new WebSocket(url) as unknown as SocketLike;

const run = Math.random().toString(36).slice(2, 8); // fresh rooms on every run against a long-lived gateway

function session(room: string, token = developer): CollabSession {
  const name = room === "interop" ? (process.env.NEXUS_COLLAB_INTEROP_ROOM ?? room) : `${room}-${run}`;
  return new CollabSession(roomUrl(gateway, name, token), factory);
}

/** What an editor buffer does with the remote edits: apply them in order to its own text. */
function applyEdits(text: string, edits: readonly TextEdit[]): string {
  for (const e of [...edits].sort((x, y) => y.offset - x.offset)) {
    text = text.slice(0, e.offset) + e.insert + text.slice(e.offset + e.deleteLength);
  }
  return text;
}

test("login over /ws/gateway gives a token that opens a room", async () => {
  const token = await login(gateway, "dave", "dave-password", factory);
  const s = new CollabSession(roomUrl(gateway, "login-room", token), factory);
  await s.connect();
  s.dispose();
  await assert.rejects(login(gateway, "dave", "wrong-password", factory), /password|credentials/i);
});

test("two yjs clients converge, and the remote edits rebuild the other buffer", async () => {
  const a = session("converge");
  const b = session("converge");
  await a.connect();
  await b.connect();
  let buffer = b.source;
  b.onRemote = (edits) => {
    buffer = applyEdits(buffer, edits);
  };
  a.applyLocal([{ offset: 0, deleteLength: 0, insert: "def greet(name):\n    return name\n" }]);
  await a.waitAcked();
  await b.waitFor(() => b.source.includes("return name"));
  a.applyLocal([{ offset: 4, deleteLength: 5, insert: "hello 😀" }]);
  const mine = [{ offset: 0, deleteLength: 0, insert: "# shared\n" }];
  buffer = applyEdits(buffer, mine); // the editor's own keystrokes are in its buffer already
  b.applyLocal(mine);
  await a.waitAcked();
  await b.waitAcked();
  await a.waitFor(() => a.source === b.source && a.source.startsWith("# shared"));
  await b.waitFor(() => b.source.includes("hello 😀"));
  assert.equal(a.source, "# shared\ndef hello 😀(name):\n    return name\n");
  assert.equal(buffer, b.source);
  a.applyLocal([
    { offset: 0, deleteLength: 2, insert: "##" },
    { offset: 9, deleteLength: 3, insert: "async def" },
  ]);
  await a.waitAcked();
  await b.waitFor(() => b.source.includes("async def"));
  assert.equal(buffer, b.source, "the remote edits, applied as an editor applies them, rebuild the text");
  b.onRemote = undefined;
  assert.equal(applyEdits("", diff("", b.source)), b.source);
  const saved = await request(gateway, developer, "collab:save", { room: `converge-${run}` }, factory).catch((e: Error) => e);
  assert.match(String(saved), /not bound to a workspace file/);
  a.dispose();
  b.dispose();
});

test("remote cursors arrive with the authenticated user name and follow edits", async () => {
  const a = session("cursors");
  const b = session("cursors");
  await a.connect();
  await b.connect();
  a.applyLocal([{ offset: 0, deleteLength: 0, insert: "abcdef" }]);
  await a.waitAcked();
  await b.waitFor(() => b.source === "abcdef");
  a.setCursor(2, 4, { name: "someone else" });
  await b.waitFor(() => b.remoteCursors().length === 1);
  const [cursor] = b.remoteCursors();
  assert.deepEqual([cursor?.user, cursor?.anchor, cursor?.head, cursor?.readOnly], ["dave", 2, 4, false]);
  b.applyLocal([{ offset: 0, deleteLength: 0, insert: "XY" }]);
  await b.waitAcked();
  await a.waitFor(() => a.source === "XYabcdef");
  const [moved] = b.remoteCursors();
  assert.deepEqual([moved?.anchor, moved?.head], [4, 6]);
  a.dispose();
  await b.waitFor(() => b.remoteCursors().length === 0);
  b.dispose();
});

test("a viewer follows the session but is closed when it edits", async () => {
  const a = session("watch");
  const v = session("watch", viewer);
  await a.connect();
  await v.connect();
  a.applyLocal([{ offset: 0, deleteLength: 0, insert: "read me" }]);
  await v.waitFor(() => v.source === "read me");
  const closed = new Promise<number>((resolve) => {
    v.onClose = (code) => resolve(code);
  });
  v.applyLocal([{ offset: 0, deleteLength: 0, insert: "no " }]);
  assert.equal(await closed, 1008);
  v.dispose();
  a.dispose();
});

test("a room the Python client wrote is read and extended", async () => {
  const s = session("interop");
  await s.connect();
  assert.equal(s.source, "from python é😀\n");
  s.applyLocal([{ offset: s.source.length, deleteLength: 0, insert: "from node 😀\n" }]);
  s.applyLocal([{ offset: "from python é".length, deleteLength: 2, insert: "!" }]);
  await s.waitAcked();
  s.dispose();
});
