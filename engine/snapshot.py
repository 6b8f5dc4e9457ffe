"""One LMDB snapshot and one Tantivy searcher that agree: what every index reader queries.

A writer stages a version in LMDB, adds its documents to Tantivy, commits Tantivy, and only then
promotes the version in LMDB (dropping the data of the versions it replaced) and moves the store's
``generation``. So an LMDB snapshot holds the data of every version a Tantivy searcher can return,
provided no promotion fell between taking the searcher and opening the snapshot, and the searcher is
no older than the snapshot's last promotion. :meth:`Snapshots.open` ensures both: it reads the
generation, reloads the searcher if the generation moved since the last reload, takes the searcher,
opens the snapshot, and retries if the snapshot's generation is not the one read first.

Readers in other processes need no lock and never wait for the writer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import tantivy

from .search.index import SearchIndex
from .store import Reader, Store

log = logging.getLogger(__name__)

ATTEMPTS = 20  # each failed attempt means a promotion landed within microseconds: a handful is plenty


@dataclass(frozen=True, slots=True)
class Snapshot:
    reader: Reader
    searcher: tantivy.Searcher


class Snapshots:
    def __init__(self, store: Store, search: SearchIndex) -> None:
        self.store = store
        self.search = search
        self._seen: int | None = None  # the generation the searcher was last reloaded for
        self._lock = threading.Lock()

    def _searcher(self, generation: int) -> tantivy.Searcher:
        with self._lock:
            if self._seen != generation:
                self.search.reload()
                self._seen = generation
            return self.search.searcher()

    @contextmanager
    def open(self) -> Iterator[Snapshot]:
        for _attempt in range(ATTEMPTS):
            with self.store.read() as first:
                generation = first.generation()
            searcher = self._searcher(generation)
            txn = self.store.env.begin()
            reader = Reader(self.store, txn)
            if reader.generation() == generation:
                break
            txn.abort()
        else:
            # Promotions without pause: take the snapshot first and a searcher at least as new, and
            # accept that versions staged after the snapshot began cannot be resolved in it.
            log.warning("index snapshot: %d promotions raced this read", ATTEMPTS)
            txn = self.store.env.begin()
            reader = Reader(self.store, txn)
            searcher = self._searcher(reader.generation())
        try:
            yield Snapshot(reader, searcher)
        finally:
            txn.abort()
