"""The durable record of every shared document: an LMDB journal of Yjs updates, compacted into snapshots.

Why LMDB and a journal rather than saving the document now and then: an update is acknowledged (to
its sender, and by reaching any other client) only after the transaction that holds it has committed,
so ``kill -9`` at any moment loses nothing anyone was told about. A batch of updates goes in one
transaction (group commit), which keeps the cost per update small when many clients type at once.

Layout (one environment, three named databases):

    updates    room NUL seq(8 bytes, big-endian) -> one Yjs update (v1 encoding)
    snapshots  room -> seq(8) + the whole document as one update: it covers every update <= seq
    meta       room -> JSON (the file the room was seeded from, the disk copy's hash at load/save)

Loading a room is its snapshot plus the updates after it; :meth:`Journal.compact` writes a new
snapshot and deletes the updates it covers in one transaction, so a crash mid-compaction leaves either
the old snapshot and all its updates, or the new one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lmdb

from nexus.engine.errors import NexusError

log = logging.getLogger(__name__)

MAP_SIZE = 1 << 36  # 64 GiB of address space; the file grows only as used
_SEQ = 8


class JournalError(NexusError):
    """The journal cannot be opened or written (disk full, permissions, another version's file)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Stored:
    """A room as it is on disk: apply ``snapshot`` (if any), then ``updates`` in order."""

    snapshot: bytes | None
    snapshot_seq: int
    updates: tuple[bytes, ...]
    next_seq: int


def room_key(room: str) -> bytes:
    return room.encode("utf-8") + b"\x00"


class Journal:
    """Thread-safe: writes are serialised by LMDB's writer lock and a local one (the rooms write from a
    worker thread so that the event loop never waits on ``fsync``)."""

    def __init__(self, path: Path, *, map_size: int = MAP_SIZE, sync: bool = True) -> None:
        self.path = path
        try:
            path.mkdir(parents=True, exist_ok=True)
            self._env = lmdb.open(str(path), map_size=map_size, max_dbs=4, sync=sync, metasync=sync,
                                  readahead=False)
        except (OSError, lmdb.Error) as exc:
            raise JournalError(f"cannot open the collaboration journal {path}: {exc}") from exc
        self._updates = self._env.open_db(b"updates")
        self._snapshots = self._env.open_db(b"snapshots")
        self._meta = self._env.open_db(b"meta")
        self._write = threading.Lock()

    def close(self) -> None:
        self._env.close()

    def append(self, room: str, first_seq: int, updates: Sequence[bytes]) -> None:
        """Journal ``updates`` as seq ``first_seq``, ``first_seq + 1``, ... in one committed transaction.

        Raises JournalError; then none of them is stored."""
        prefix = room_key(room)
        try:
            with self._write, self._env.begin(write=True) as txn:
                for offset, update in enumerate(updates):
                    txn.put(prefix + (first_seq + offset).to_bytes(_SEQ, "big"), update, db=self._updates)
        except lmdb.Error as exc:
            raise JournalError(f"cannot journal {len(updates)} update(s) of room {room!r}: {exc}") from exc

    def load(self, room: str) -> Stored:
        prefix = room_key(room)
        with self._env.begin() as txn:
            raw = txn.get(prefix[:-1], db=self._snapshots)
            snapshot, snapshot_seq = (None, 0) if raw is None else (bytes(raw[_SEQ:]),
                                                                    int.from_bytes(raw[:_SEQ], "big"))
            updates: list[bytes] = []
            next_seq = snapshot_seq + 1
            cursor = txn.cursor(db=self._updates)
            if cursor.set_range(prefix + (snapshot_seq + 1).to_bytes(_SEQ, "big")):
                for key, value in cursor:
                    if not key.startswith(prefix):
                        break
                    updates.append(bytes(value))
                    next_seq = int.from_bytes(key[len(prefix):], "big") + 1
        return Stored(snapshot, snapshot_seq, tuple(updates), next_seq)

    def compact(self, room: str, seq: int, snapshot: bytes) -> int:
        """Store ``snapshot`` as covering every update <= ``seq`` and delete those; returns how many went."""
        prefix = room_key(room)
        deleted = 0
        try:
            with self._write, self._env.begin(write=True) as txn:
                txn.put(prefix[:-1], seq.to_bytes(_SEQ, "big") + snapshot, db=self._snapshots)
                cursor = txn.cursor(db=self._updates)
                if cursor.set_range(prefix):
                    while cursor.key().startswith(prefix) and int.from_bytes(cursor.key()[len(prefix):], "big") <= seq:
                        cursor.delete()
                        deleted += 1
                        if not cursor.key():
                            break
        except lmdb.Error as exc:
            raise JournalError(f"cannot compact room {room!r}: {exc}") from exc
        return deleted

    def meta(self, room: str) -> dict[str, Any]:
        with self._env.begin() as txn:
            raw = txn.get(room.encode("utf-8"), db=self._meta)
        return {} if raw is None else dict(json.loads(bytes(raw)))

    def set_meta(self, room: str, meta: dict[str, Any]) -> None:
        try:
            with self._write, self._env.begin(write=True) as txn:
                txn.put(room.encode("utf-8"), json.dumps(meta).encode(), db=self._meta)
        except lmdb.Error as exc:
            raise JournalError(f"cannot record the state of room {room!r}: {exc}") from exc

    def rooms(self) -> list[str]:
        """Every room with something stored."""
        names: set[str] = set()
        with self._env.begin() as txn:
            for key in txn.cursor(db=self._snapshots).iternext(values=False):
                names.add(bytes(key).decode("utf-8"))
            for key in txn.cursor(db=self._updates).iternext(values=False):
                names.add(bytes(key).split(b"\x00", 1)[0].decode("utf-8"))
        return sorted(names)

    def size(self) -> int:
        """Bytes in use on disk."""
        info = self._env.info()
        stat = self._env.stat()
        return int((info["last_pgno"] + 1) * stat["psize"])
