"""``files.read``: a workspace text file, for a client that names it by path.

The path is relative to the workspace root (an absolute path is accepted only inside it); ``../``,
absolute paths elsewhere and symlinks leading out are refused by ``nexus.engine.paths``.
"""

from __future__ import annotations

import asyncio
import dataclasses

from nexus.engine.paths import read_text_inside

from ..call import Call
from ..codec import WIRE, PathText
from ..identity import Role
from ..operation import operation


@dataclasses.dataclass(frozen=True, slots=True)
class ReadParams:
    __pydantic_config__ = WIRE
    path: PathText


@dataclasses.dataclass(frozen=True, slots=True)
class FileText:
    __pydantic_config__ = WIRE
    path: str  # workspace-relative, POSIX
    content: str


@operation("files.read", params=ReadParams, result=FileText, role=Role.VIEWER, rate="read", message="files:read")
async def read(call: Call, p: ReadParams) -> FileText:
    """The text of a workspace file (invalid UTF-8 shown with replacement characters)."""
    root = call.backends.workspace.root.resolve()
    real, content = await asyncio.to_thread(read_text_inside, root, p.path)
    return FileText(real.relative_to(root).as_posix(), content)
