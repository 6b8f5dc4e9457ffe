"""The rooms of one workspace: opened on the first join, seeded from the file a room is named after,
unloaded (compacted) when the last client leaves, and saved back to disk only when asked.

A room named like a workspace file (``src/app.py``) starts with that file's text the first time it is
opened; the disk copy's hash at that moment is remembered, so :meth:`Rooms.save` can tell when someone
changed the file outside the session and refuse to overwrite it unless told to (``force``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import os
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pycrdt

from nexus.engine.errors import NexusError, NotFoundError, WorkspaceError
from nexus.engine.paths import read_text_inside, resolve_inside

from .journal import Journal
from .room import TEXT, Peer, Room

log = logging.getLogger(__name__)

MAX_ROOM_NAME = 300  # bytes of UTF-8: LMDB keys are at most 511 bytes with the sequence number


class RoomError(NexusError):
    """A room name that cannot be used, or a room that is full or not bound to a file."""


class SaveConflict(NexusError):
    """The file changed on disk since the session loaded or last saved it."""


@dataclasses.dataclass(frozen=True, slots=True)
class CollabSettings:
    """The ``[collab]`` settings section."""

    rate: float = 200.0            # updates per second per connection, sustained (then the reader waits)
    burst: int = 400               # updates a connection may send at once before it is paced
    max_rooms: int = 1000          # rooms open at once in one gateway
    max_peers: int = 200           # connections per room
    compact_every: int = 500       # journaled updates between snapshots
    unload_after: float = 30.0     # seconds a room with nobody in stays loaded
    outbox_bytes: int = 16 * 1024 * 1024  # unsent bytes per connection before a slow reader is dropped


@dataclasses.dataclass(frozen=True, slots=True)
class Saved:
    room: str
    path: str
    bytes: int
    overwrote_changes: bool


def check_name(name: str) -> str:
    """The room name, normalised (NFC, no leading ``/``). Raises RoomError saying what is wrong."""
    name = unicodedata.normalize("NFC", name).lstrip("/")
    if not name:
        raise RoomError("a room needs a name: /ws/collab/<room>, e.g. the file's workspace path")
    if len(name.encode("utf-8")) > MAX_ROOM_NAME:
        raise RoomError(f"a room name is at most {MAX_ROOM_NAME} bytes")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise RoomError("a room name cannot contain control characters")
    return name


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Rooms:
    def __init__(self, journal: Journal, root: Path | None, settings: CollabSettings | None = None) -> None:
        self.journal = journal
        self.root = root.resolve() if root is not None else None
        self.settings = settings or CollabSettings()
        self._rooms: dict[str, Room] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._unloads: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def open_rooms(self) -> dict[str, Room]:
        return dict(self._rooms)

    async def join(self, name: str, peer: Peer) -> Room:
        """Add ``peer`` to room ``name`` (opened, or loaded from the journal, as needed).

        Raises RoomError (bad name, too many rooms or clients) or JournalError."""
        name = check_name(name)
        lock = self._opening.setdefault(name, asyncio.Lock())
        async with lock:
            room = self._rooms.get(name)
            if room is None:
                if self._closed:
                    raise RoomError("the collaboration service is shutting down")
                if len(self._rooms) >= self.settings.max_rooms:
                    raise RoomError(f"{self.settings.max_rooms} rooms are open already; try again later")
                room = await self._open(name)
            if len(room.members) >= self.settings.max_peers:
                raise RoomError(f"room {name} has {self.settings.max_peers} clients already")
            handle = self._unloads.pop(name, None)
            if handle is not None:
                handle.cancel()
            await room.join(peer)
            return room

    async def _open(self, name: str) -> Room:
        room = await asyncio.to_thread(Room.load, name, self.journal, compact_every=self.settings.compact_every,
                                       on_idle=self._idle)
        if room.next_seq == 1 and room.snapshot_seq == 0:
            await self._seed(room)
        room.start()
        self._rooms[name] = room
        log.info("room %s opened (%d characters)", name, len(room.source))
        return room

    async def _seed(self, room: Room) -> None:
        """A new room named after a workspace file starts with the file's text (journaled as update 1)."""
        path = self._file_for(room.name)
        if path is None or self.journal.meta(room.name):
            return
        try:
            real, content = await asyncio.to_thread(read_text_inside, self.root or Path("."), path)
            raw = await asyncio.to_thread(real.read_bytes)
        except (WorkspaceError, NotFoundError, OSError) as exc:
            log.info("room %s starts empty: %s", room.name, exc)
            return
        if content:
            with room.doc.transaction():
                room.text += content
            update = room.doc.get_update()
            await asyncio.to_thread(self.journal.append, room.name, 1, [update])
            room.next_seq = 2
        await asyncio.to_thread(self.journal.set_meta, room.name, {"path": path, "disk_sha256": _sha(raw)})

    def _file_for(self, name: str) -> str | None:
        """The workspace-relative path a room is named after, if it names a file inside the workspace."""
        if self.root is None:
            return None
        try:
            real = resolve_inside(self.root, name)
        except WorkspaceError:
            return None
        return real.relative_to(self.root).as_posix() if real.is_file() else None

    async def leave(self, room: Room, peer: Peer) -> None:
        await room.leave(peer)

    def _idle(self, room: Room) -> None:
        if self._rooms.get(room.name) is not room:
            return
        if room.failed is not None:
            self._rooms.pop(room.name, None)
            return
        if room.name not in self._unloads:
            loop = asyncio.get_running_loop()
            self._unloads[room.name] = loop.call_later(self.settings.unload_after, self._start_unload, room)

    def _start_unload(self, room: Room) -> None:
        task = asyncio.get_running_loop().create_task(self._unload(room))
        self._tasks.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    async def _unload(self, room: Room) -> None:
        self._unloads.pop(room.name, None)
        async with self._opening.setdefault(room.name, asyncio.Lock()):
            if room.members or self._rooms.get(room.name) is not room:
                return
            del self._rooms[room.name]
            await room.stop()
            log.info("room %s unloaded", room.name)

    def text(self, name: str) -> str | None:
        """The current shared text of an open room (None when it is not open)."""
        room = self._rooms.get(name)
        return room.source if room is not None else None

    def shared_text(self, path: str) -> str | None:
        """The live text of a workspace file that is being edited in an open room, for the LSP and AI."""
        for room in self._rooms.values():
            if room.members and self._bound_path(room.name) == path:
                return room.source
        return None

    def _bound_path(self, name: str) -> str | None:
        meta = self.journal.meta(name)
        value = meta.get("path")
        return str(value) if isinstance(value, str) else None

    async def save(self, name: str, *, force: bool = False) -> Saved:
        """Write the shared text of room ``name`` to the file it was seeded from.

        Raises RoomError (unknown room, or not bound to a file) and SaveConflict when the file changed
        on disk since the session loaded or last saved it (``force`` overwrites it)."""
        name = check_name(name)
        path = self._bound_path(name)
        if path is None or self.root is None:
            raise RoomError(f"room {name} is not bound to a workspace file: only a room named after an existing "
                            "file (its workspace path) can be saved")
        room = self._rooms.get(name)
        if room is not None:
            text = room.source
        else:
            loaded = await asyncio.to_thread(Room.load, name, self.journal)
            text = loaded.source
        real = resolve_inside(self.root, path)
        meta = self.journal.meta(name)
        try:
            current = await asyncio.to_thread(real.read_bytes)
        except FileNotFoundError:
            current = None
        changed = current is not None and _sha(current) != meta.get("disk_sha256")
        if changed and not force:
            raise SaveConflict(f"{path} changed on disk since this session loaded or last saved it; nothing was "
                               "written. Save with force to overwrite the disk copy with the shared text, or "
                               "copy the shared text elsewhere first")
        data = text.encode("utf-8")
        await asyncio.to_thread(_write_atomic, real, data)
        await asyncio.to_thread(self.journal.set_meta, name, {**meta, "disk_sha256": _sha(data)})
        log.info("room %s saved to %s (%d bytes%s)", name, path, len(data), ", over disk changes" if changed else "")
        return Saved(name, path, len(data), changed)

    async def close(self) -> None:
        """Stop every room (each compacts what it journaled); the connections are the caller's to close."""
        self._closed = True
        for handle in self._unloads.values():
            handle.cancel()
        self._unloads.clear()
        rooms, self._rooms = list(self._rooms.values()), {}
        for room in rooms:
            await room.stop()
        self.journal.close()


def _write_atomic(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".nexus-save")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def text_of(update: bytes) -> str:
    """The shared text in a whole-document update (a snapshot)."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(update)
    return str(doc.get(TEXT, type=pycrdt.Text))


def journal_dir_for(root: Path, settings: object) -> Path:
    """Where the collaboration journal of ``root`` lives: next to its index (``<index dir>-collab``)."""
    from nexus.engine.config import Settings
    from nexus.engine.settings import IndexSettings
    from nexus.engine.workspace import index_dir_for

    index = settings.section("index", IndexSettings) if isinstance(settings, Settings) else IndexSettings()
    index_dir = index_dir_for(root.resolve(), index)
    return index_dir.with_name(index_dir.name + "-collab")
