"""``nexus collab helper``: a live session for an editor that has no Yjs of its own (Neovim), as JSON
lines on stdin/stdout.

Why a helper process rather than a Lua client: the sync protocol is easy, but applying and merging
Yjs updates means implementing the YATA CRDT and its binary encoding, which would be a second
implementation to keep identical to yjs/yrs; the helper uses pycrdt, the same engine as the gateway.

The editor is authoritative for its buffer and sends it whole after each change (``buffer``); the
helper keeps a *shadow* document equal to what the editor shows. A local change is diffed against
the shadow, applied there, and merged into the connected document as a CRDT update (so it merges
correctly with remote edits the editor has not seen yet). A remote change goes to the editor as one
byte-range replacement against the buffer version it was computed for (``base``); the editor applies
it only if it has not changed the buffer since (``applied``), else refuses (``rejected``) and gets a
fresh one after its own change has been merged. Offsets are UTF-8 bytes, as Neovim counts them.

    editor -> helper   {"id", "method": "login"|"join"|"save"|"leave", "params"}   (requests)
                       {"method": "buffer", "params": {"tick", "text"}}
                       {"method": "cursor", "params": {"tick", "anchor", "head"}}
                       {"method": "applied", "params": {"tick"}}, {"method": "rejected"}
    helper -> editor   {"id", "result"} | {"id", "error"}
                       {"method": "remote", "params": {"base", "start", "old", "text"}}
                       {"method": "cursors", "params": {"cursors": [{user, color, readOnly, anchor, head}]}}
                       {"method": "closed", "params": {"code", "reason"}}
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

import pycrdt

from nexus.services.collab.room import TEXT

from .collab_client import CollabClient

log = logging.getLogger(__name__)

COLORS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c")


def replacement(before: str, after: str) -> tuple[int, int, str] | None:
    """(start byte, old byte length, new text) turning ``before`` into ``after``; None if equal."""
    if before == after:
        return None
    start, limit = 0, min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[-1 - end] == after[-1 - end]:
        end += 1
    prefix = len(before[:start].encode("utf-8"))
    old = len(before[start:len(before) - end].encode("utf-8"))
    return prefix, old, after[start:len(after) - end]


def _guard(call: Any, *args: Any) -> Any:
    """pycrdt panics (a BaseException) on some sticky-index inputs: turn that into None."""
    try:
        return call(*args)
    except (KeyboardInterrupt, SystemExit, asyncio.CancelledError):
        raise
    except BaseException:  # pyo3's PanicException is not an Exception
        return None


class Helper:
    def __init__(self, write: Any) -> None:
        self._write = write
        self.client: CollabClient | None = None
        self.shadow: pycrdt.Doc[Any] = pycrdt.Doc()
        self.shadow_text = self.shadow.get(TEXT, type=pycrdt.Text)
        self.tick = 0
        self.pending: bytes | None = None  # the update a sent ``remote`` brings the shadow to
        self.gateway = ""
        self.token = ""
        self.room = ""

    def send(self, message: dict[str, Any]) -> None:
        self._write(json.dumps(message, ensure_ascii=False) + "\n")

    async def handle(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        params = message.get("params") or {}
        request = message.get("id")
        try:
            result = await self._dispatch(str(method), params)
        except Exception as exc:  # every failure goes back to the editor as the request's error
            log.debug("request %s failed", method, exc_info=True)
            if request is not None:
                self.send({"id": request, "error": str(exc) or type(exc).__name__})
            return
        if request is not None:
            self.send({"id": request, "result": result})

    async def _dispatch(self, method: str, p: dict[str, Any]) -> Any:
        if method == "login":
            return {"token": await login(str(p["gateway"]), str(p["user"]), str(p["password"]))}
        if method == "join":
            return await self._join(str(p["gateway"]), str(p["token"]), str(p["room"]), str(p.get("text", "")),
                                    bool(p.get("share")), int(p.get("tick", 0)))
        if method == "buffer":
            self._local(int(p["tick"]), str(p["text"]))
        elif method == "cursor":
            self._cursor(int(p["tick"]), int(p["anchor"]), int(p["head"]))
        elif method == "applied":
            if self.pending is not None:
                self.shadow.apply_update(self.pending)
                self.pending = None
                self.tick = int(p["tick"])
            self._push()
            self._cursors()
        elif method == "rejected":
            self.pending = None
            self._push()
        elif method == "save":
            return await request(self.gateway, self.token, "collab:save", {"room": self.room,
                                                                         "force": bool(p.get("force"))})
        elif method == "leave":
            if self.client is not None:
                await self.client.close()
                self.client = None
            return {}
        else:
            raise ValueError(f"unknown method {method!r}")
        return None

    async def _join(self, gateway: str, token: str, room: str, text: str, share: bool, tick: int) -> dict[str, Any]:
        from .collab_client import room_url

        self.gateway, self.token, self.room = gateway, token, room
        client = CollabClient(room_url(gateway, room, token))
        client.on_remote.append(self._push)
        client.on_presence.append(self._cursors)
        await client.connect()
        self.client = client
        asyncio.get_running_loop().create_task(self._watch(client))
        # The shadow starts as the room's document (the same items, so sticky positions agree).
        self.shadow = pycrdt.Doc()
        self.shadow_text = self.shadow.get(TEXT, type=pycrdt.Text)
        self.shadow.apply_update(client.doc.get_update())
        self.tick = tick
        if share and text != client.source:
            self._local(tick, text)  # the sharer's buffer wins over the copy the room started from
            return {"text": text, "shared": True}
        return {"text": client.source, "shared": False}

    async def _watch(self, client: CollabClient) -> None:
        await client.closed.wait()
        if self.client is client:
            self.send({"method": "closed", "params": {"code": client.close_code, "reason": client.close_reason}})

    def _local(self, tick: int, text: str) -> None:
        change = replacement(str(self.shadow_text), text)
        self.tick = tick
        if change is None or self.client is None:
            return
        start, old, new = change
        before = self.shadow.get_state()
        with self.shadow.transaction():
            if old:
                del self.shadow_text[start:start + old]
            if new:
                self.shadow_text.insert(start, new)
        self.client.doc.apply_update(self.shadow.get_update(before))  # merged with unseen remote edits
        self._push()

    def _push(self) -> None:
        """Send the editor the difference between what it shows and the room, one at a time."""
        if self.client is None or self.pending is not None:
            return
        change = replacement(str(self.shadow_text), self.client.source)
        if change is None:
            return
        self.pending = self.client.doc.get_update(self.shadow.get_state())
        start, old, new = change
        self.send({"method": "remote", "params": {"base": self.tick, "start": start, "old": old, "text": new}})

    def _cursor(self, tick: int, anchor: int, head: int) -> None:
        if self.client is None or tick != self.tick:
            return
        self.client.set_presence({"user": {"color": COLORS[self.client.doc.client_id % len(COLORS)]},
                                  "cursor": {"anchor": self._relative(anchor), "head": self._relative(head)}})

    def _relative(self, offset: int) -> dict[str, Any]:
        """A Yjs relative position (y-codemirror's cursor format) for a byte offset of the buffer."""
        size = len(str(self.shadow_text).encode("utf-8"))
        if 0 <= offset < size:
            sticky = _guard(self.shadow_text.sticky_index, offset)
            if sticky is not None:
                return {"tname": TEXT, **sticky.to_json()}
        return {"tname": TEXT, "assoc": 0}  # the end of the text

    def _cursors(self) -> None:
        """Remote cursors in byte offsets of the buffer, sent only while it shows the room's text."""
        if self.client is None or self.pending is not None or str(self.shadow_text) != self.client.source:
            return
        cursors = []
        size = len(self.client.source.encode("utf-8"))
        for client_id, state in self.client.peers.items():
            cursor = state.get("cursor")
            user = state.get("user") or {}
            if not isinstance(cursor, dict) or not isinstance(user, dict):
                continue
            anchor, head = (self._absolute(cursor.get("anchor"), size), self._absolute(cursor.get("head"), size))
            if anchor is None or head is None:
                continue
            cursors.append({"user": user.get("name", "?"), "color": user.get("color") or COLORS[client_id % 8],
                            "readOnly": bool(user.get("readOnly")), "anchor": anchor, "head": head})
        self.send({"method": "cursors", "params": {"cursors": cursors}})

    def _absolute(self, position: Any, size: int) -> int | None:
        if not isinstance(position, dict):
            return None
        item = position.get("item")
        if item is None:
            return size if position.get("tname") or position.get("type") else None
        if not isinstance(item, dict) or not {"client", "clock"} <= item.keys():
            return None
        assert self.client is not None
        sticky = _guard(pycrdt.StickyIndex.from_json, {"item": item, "assoc": position.get("assoc", 0)},
                        self.client.text)
        index = _guard(sticky.get_index) if sticky is not None else None
        return index if isinstance(index, int) else None


async def login(gateway: str, user: str, password: str) -> str:
    """A token from ``auth:login``. Raises ValueError with the gateway's message."""
    data = await _call(gateway, "", "auth:login", {"username": user, "password": password})
    return str(data["token"])


async def request(gateway: str, token: str, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
    return await _call(gateway, token, type_, payload)


async def _call(gateway: str, token: str, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
    from urllib.parse import urlencode

    from websockets.asyncio.client import connect

    scheme, _, rest = gateway.partition("://")
    url = f"{scheme}://{rest.split('/', 1)[0]}/ws/gateway" + (f"?{urlencode({'token': token})}" if token else "")
    async with connect(url, open_timeout=15) as ws:
        await ws.send(json.dumps({"type": type_, "id": 1, "payload": payload}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
    if reply.get("type") == "error":
        raise ValueError(reply.get("data", {}).get("message", f"{type_} failed"))
    return dict(reply.get("data") or {})


async def serve() -> None:
    """Read requests from stdin until it closes; answer on stdout (logs go to stderr)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def write(line: str) -> None:
        sys.stdout.write(line)
        sys.stdout.flush()

    helper = Helper(write)
    while line := await reader.readline():
        try:
            message = json.loads(line)
        except ValueError:
            log.warning("ignoring a line that is not JSON")
            continue
        if isinstance(message, dict):
            await helper.handle(message)
    if helper.client is not None:
        await helper.client.close()
