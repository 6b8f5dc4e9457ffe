"""One shared document and the clients editing it.

Everything a room does happens in one task, in batches: take every message waiting (up to a bound),
apply them to the document, journal the updates among them in one LMDB transaction (in a worker
thread), and only then send what the batch produced (the updates to the other clients, sync replies,
acknowledgements). So no client ever sees state that is not on disk, whoever asks and in whatever
order, and a crash at any moment loses only what nobody has been told about.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import pycrdt

from .journal import Journal, JournalError
from .protocol import (
    AWARENESS,
    EMPTY_UPDATE,
    QUERY_AWARENESS,
    STEP1,
    STEP2,
    UPDATE,
    AwarenessEntry,
    ProtocolError,
    ack_message,
    awareness_message,
    encode_awareness,
    parse,
    parse_awareness,
    sync_message,
)

log = logging.getLogger(__name__)

TEXT = "source"  # the shared text's name: jupyter_ydoc's YUnicode (JupyterLab's file documents) uses it too
CLOSE_INVALID = 1007
CLOSE_POLICY = 1008
CLOSE_ERROR = 1011
MAX_BATCH = 512


class Peer(Protocol):
    """One client connection, as a room sees it (the gateway's WebSocket adapter implements it)."""

    user: str
    can_edit: bool
    wants_ack: bool

    def send(self, message: bytes) -> None:
        """Queue ``message`` for the client without waiting (a client too slow to take it is dropped)."""

    def close(self, code: int, reason: str) -> None: ...


class ReadOnly(ProtocolError):
    pass


@dataclasses.dataclass(slots=True)
class _Member:
    clients: set[int] = dataclasses.field(default_factory=set)  # awareness client ids it speaks for
    acked: int = 0


_JOIN = b"join"
_LEAVE = b"leave"


class Room:
    def __init__(self, name: str, journal: Journal, doc: pycrdt.Doc[Any], next_seq: int, snapshot_seq: int, *,
                 compact_every: int = 500, on_idle: Callable[[Room], None] | None = None) -> None:
        self.name = name
        self.journal = journal
        self.doc = doc
        self.text = doc.get(TEXT, type=pycrdt.Text)
        self.next_seq = next_seq
        self.snapshot_seq = snapshot_seq
        self.compact_every = compact_every
        self.members: dict[Peer, _Member] = {}
        self.failed: str | None = None
        self.updated = time.monotonic()
        self._awareness: dict[int, tuple[int, dict[str, object] | None, Peer | None]] = {}
        self._inbox: asyncio.Queue[tuple[Peer, bytes]] = asyncio.Queue(maxsize=4096)
        self._on_idle = on_idle
        self._task: asyncio.Task[None] | None = None
        self.journaled = 0  # updates written since the room opened

    @classmethod
    def load(cls, name: str, journal: Journal, **kwargs: object) -> Room:
        """The room as journaled. Raises JournalError when what is stored cannot be applied."""
        stored = journal.load(name)
        doc: pycrdt.Doc[Any] = pycrdt.Doc()
        try:
            if stored.snapshot is not None:
                doc.apply_update(stored.snapshot)
            for update in stored.updates:
                doc.apply_update(update)
        except Exception as exc:  # pycrdt raises plain exceptions for undecodable updates
            raise JournalError(f"the journal of room {name!r} does not decode ({exc})") from exc
        return cls(name, journal, doc, stored.next_seq, stored.snapshot_seq, **kwargs)  # type: ignore[arg-type]

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"collab room {self.name}")

    async def stop(self) -> None:
        """Finish the batch under way, compact, and stop (the peers are the caller's to close)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self.failed is None and self.next_seq - 1 > self.snapshot_seq:
            await self._compact()

    async def join(self, peer: Peer) -> None:
        await self._inbox.put((peer, _JOIN))

    async def leave(self, peer: Peer) -> None:
        await self._inbox.put((peer, _LEAVE))

    async def receive(self, peer: Peer, message: bytes) -> None:
        """Queue a client's message; waits while the room is this far behind (backpressure)."""
        await self._inbox.put((peer, message))

    @property
    def source(self) -> str:
        return str(self.text)

    async def _run(self) -> None:
        while True:
            batch = [await self._inbox.get()]
            while len(batch) < MAX_BATCH and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            out: list[tuple[Peer | None, Peer | None, bytes]] = []  # (only to, all except, message)
            records: list[bytes] = []
            acks: set[Peer] = set()
            for peer, message in batch:
                try:
                    self._handle(peer, message, out, records, acks)
                except ReadOnly as exc:
                    peer.close(CLOSE_POLICY, str(exc))
                except ProtocolError as exc:
                    log.info("room %s: closing %s's connection: %s", self.name, peer.user, exc)
                    peer.close(CLOSE_INVALID, f"malformed message: {exc}"[:120])
                except Exception:  # a bug: that client goes, the room and everyone else stay
                    log.exception("room %s: failed on a message from %s", self.name, peer.user)
                    peer.close(CLOSE_ERROR, "internal error; reconnect to resync")
            if records:
                try:
                    await asyncio.to_thread(self.journal.append, self.name, self.next_seq, records)
                except JournalError as exc:
                    self._fail(str(exc))
                    return
                self.next_seq += len(records)
                self.journaled += len(records)
                self.updated = time.monotonic()
            for only, excluded, message in out:
                if only is not None:
                    if only in self.members:
                        only.send(message)
                    continue
                for other in self.members:
                    if other is not excluded:
                        other.send(message)
            for peer in acks:
                member = self.members.get(peer)
                if member is not None and peer.wants_ack:
                    peer.send(ack_message(member.acked))
            if self.next_seq - 1 - self.snapshot_seq >= self.compact_every:
                await self._compact()
            if not self.members and self._inbox.empty() and self._on_idle is not None:
                self._on_idle(self)

    def _handle(self, peer: Peer, message: bytes, out: list[tuple[Peer | None, Peer | None, bytes]],
                records: list[bytes], acks: set[Peer]) -> None:
        if message is _JOIN:
            self.members[peer] = _Member()
            out.append((peer, None, sync_message(STEP1, self.doc.get_state())))
            states = self._awareness_entries(None)
            if states:
                out.append((peer, None, awareness_message(encode_awareness(states))))
            return
        if message is _LEAVE:
            member = self.members.pop(peer, None)
            if member is not None and member.clients:
                gone = []
                for client in member.clients:
                    clock, _state, _owner = self._awareness.pop(client, (0, None, None))
                    gone.append(AwarenessEntry(client, clock + 1, None))
                out.append((None, peer, awareness_message(encode_awareness(gone))))
            return
        member = self.members.get(peer)
        if member is None:
            return  # a message that was queued before its sender left
        kind, step, body = parse(message)
        if kind == AWARENESS:
            accepted = self._apply_awareness(peer, member, parse_awareness(body))
            if accepted:
                out.append((None, peer, awareness_message(encode_awareness(accepted))))
            return
        if kind == QUERY_AWARENESS:
            out.append((peer, None, awareness_message(encode_awareness(self._awareness_entries(None)))))
            return
        if step == STEP1:
            try:
                diff = self.doc.get_update(body)
            except Exception as exc:  # a state vector pycrdt cannot decode
                raise ProtocolError(f"invalid state vector ({exc})") from exc
            out.append((peer, None, sync_message(STEP2, diff)))
            return
        if body == EMPTY_UPDATE:
            if step == UPDATE:
                member.acked += 1
                acks.add(peer)
            return
        if not peer.can_edit:
            raise ReadOnly(f"{peer.user} may watch this session but not edit it (viewer role)")
        try:
            self.doc.apply_update(body)
        except Exception as exc:  # pycrdt: "Cannot decode update" and the like
            raise ProtocolError(f"invalid update ({exc})") from exc
        records.append(body)
        out.append((None, peer, sync_message(UPDATE, body)))
        if step == UPDATE:  # an ack counts update messages; a sync reply is covered by the next one
            member.acked += 1
            acks.add(peer)

    def _apply_awareness(self, peer: Peer, member: _Member, entries: list[AwarenessEntry]) -> list[AwarenessEntry]:
        """The entries that stand: a client id already spoken for by another connection is refused (no
        one moves someone else's cursor), and the state's ``user.name`` is the authenticated user's."""
        accepted = []
        for entry in entries:
            known = self._awareness.get(entry.client)
            if known is not None and known[2] is not None and known[2] is not peer:
                continue
            if known is not None and entry.clock < known[0]:
                continue
            state = entry.state
            if state is not None:
                user = state.get("user")
                state = {**state, "user": {**(user if isinstance(user, dict) else {}), "name": peer.user,
                                           "readOnly": not peer.can_edit}}
                member.clients.add(entry.client)
                self._awareness[entry.client] = (entry.clock, state, peer)
            else:
                member.clients.discard(entry.client)
                self._awareness.pop(entry.client, None)
            accepted.append(AwarenessEntry(entry.client, entry.clock, state))
        return accepted

    def _awareness_entries(self, exclude: Peer | None) -> list[AwarenessEntry]:
        return [AwarenessEntry(client, clock, state) for client, (clock, state, owner) in self._awareness.items()
                if owner is not exclude and state is not None]

    def presence(self) -> list[dict[str, object]]:
        """Who is in: one entry per awareness client (user, and whatever cursor state it published)."""
        return [{"client": client, **(state or {})} for client, (_clock, state, _owner) in self._awareness.items()]

    async def _compact(self) -> None:
        seq = self.next_seq - 1
        snapshot = self.doc.get_update()
        try:
            await asyncio.to_thread(self.journal.compact, self.name, seq, snapshot)
        except JournalError as exc:
            log.error("room %s: compaction failed (the journal still holds every update): %s", self.name, exc)
            return
        self.snapshot_seq = seq

    def _fail(self, reason: str) -> None:
        """The journal refused a batch: nothing of it was acknowledged. Close everyone; the room reloads
        from the journal on the next join, and clients resend what it lacks when they resync."""
        log.error("room %s: %s; closing the room", self.name, reason)
        self.failed = reason
        for peer in list(self.members):
            peer.close(CLOSE_ERROR, "the session could not be saved; reconnect to resync")
        self.members.clear()
        if self._on_idle is not None:
            self._on_idle(self)
