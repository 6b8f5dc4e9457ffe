"""A face's handle on the engine's workspace index, opened on first use.

Opening a :class:`~nexus.engine.Workspace` imports tree-sitter, LMDB and Tantivy and may create an
index folder, so a gateway that never searches never pays for it. The index is usually written by
another process (``nexus index``, the language server); Tantivy only sees another writer's commits after
a reload, so the handle reloads when the store's ``updated_at`` has moved since the last query.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus.engine.config import Settings

if TYPE_CHECKING:
    from nexus.engine import Workspace
    from nexus.engine.context import ContextStore

log = logging.getLogger(__name__)


class WorkspaceHandle:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self._workspace: Workspace | None = None
        self._opening = asyncio.Lock()
        self._seen_update: Any = None
        self._contexts: ContextStore | None = None
        self.writing = asyncio.Lock()  # one index run at a time from this process
        self._owned = True

    @classmethod
    def attached(cls, ws: Workspace) -> WorkspaceHandle:
        """A handle on a workspace its owner already opened (the language server's folders): LMDB must not
        be opened twice in one process. Closing the handle leaves ``ws`` open."""
        handle = cls(ws.root, ws.settings)
        handle._workspace = ws
        handle._owned = False
        return handle

    @property
    def opened(self) -> Workspace | None:
        """The workspace if it is open already (never opens it)."""
        return self._workspace

    async def get(self) -> Workspace:
        """The open workspace. Raises WorkspaceError if the root cannot be opened."""
        if self._workspace is None:
            async with self._opening:
                if self._workspace is None:
                    from nexus.engine import Workspace

                    self._workspace = await asyncio.to_thread(Workspace.open, self.root, self.settings)
                    log.info("opened the index of %s at %s", self.root, self._workspace.index_dir)
        return self._workspace

    async def contexts(self) -> ContextStore:
        """The workspace's context store (``[context] store_dir``, else next to the index), opened once."""
        if self._contexts is None:
            from nexus.engine.context import store_for

            ws = await self.get()
            async with self._opening:
                if self._contexts is None:
                    self._contexts = await asyncio.to_thread(store_for, ws)
        return self._contexts

    def fresh(self, ws: Workspace) -> bool:
        """Reload the search index if someone committed since the last call (blocking: call it in a
        worker thread). Returns False when the workspace has never been indexed."""
        updated = ws.store.meta("updated_at")
        if updated is None:
            return False
        if updated != self._seen_update:
            ws.search_index.reload()
            self._seen_update = updated
        return True

    def close(self) -> None:
        if self._contexts is not None:
            self._contexts.close()
            self._contexts = None
        if self._workspace is not None and self._owned:
            self._workspace.close()
        self._workspace = None
