"""``files:read`` ``{path}`` -> ``files:read`` ``{path, content}`` (the seed's shape): a workspace text file.

The path is relative to the gateway's ``--root`` (an absolute path is accepted only inside it); ``../``,
absolute paths elsewhere and symlinks leading out are refused with ``invalid_path`` by
``nexus.engine.paths``, the one place every adapter checks paths (it opens beneath the root's descriptor,
so a symlink swapped in during the read cannot lead out either). A path no file can have (a NUL byte,
a lone surrogate) is a malformed request: ``bad_request``. The read runs in a worker thread so a large
file never stalls other connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from nexus.engine.errors import BadPathError
from nexus.engine.paths import read_text_inside

from ..protocol import Context, Handler, Registry, Reply, Request, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "files:read"


def make_handler(root: Path) -> Handler:
    real_root = root.resolve()

    async def read_file(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        path = request.text("path")
        try:
            real, content = await asyncio.to_thread(read_text_inside, real_root, path)
        except BadPathError as exc:
            raise request.invalid(f"payload.path: {exc}") from exc
        relative = real.relative_to(real_root).as_posix()
        yield Reply(TYPE, {"path": relative, "content": content})

    return read_file


def register(registry: Registry, services: Services) -> None:
    registry.register(TYPE, make_handler(services.root), min_role=Role.VIEWER)
