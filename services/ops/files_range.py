"""``files.range``: some lines of a workspace file, for a model or client that should not read it whole
(the same path rules as ``files.read``)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated

from pydantic import Field

from nexus.engine.paths import read_text_inside

from ..call import Call
from ..codec import WIRE, Int, PathText
from ..identity import Role
from ..operation import operation

MAX_LINES = 2000


@dataclasses.dataclass(frozen=True, slots=True)
class RangeParams:
    __pydantic_config__ = WIRE
    path: PathText
    start_line: Annotated[Int, Field(ge=1)] = 1  # 1-based, inclusive
    end_line: Annotated[Int, Field(ge=1)] | None = None  # default: start + 199, at most 2000 lines


@dataclasses.dataclass(frozen=True, slots=True)
class FileRange:
    __pydantic_config__ = WIRE
    path: str
    start_line: int
    end_line: int  # the last line returned (0 when the range is past the end)
    total_lines: int
    text: str


@operation("files.range", params=RangeParams, result=FileRange, role=Role.VIEWER, rate="read",
           message="files:range")
async def read_range(call: Call, p: RangeParams) -> FileRange:
    """Lines ``startLine``..``endLine`` (1-based, inclusive) of a workspace file, and how many it has."""
    root = call.backends.workspace.root.resolve()
    real, content = await asyncio.to_thread(read_text_inside, root, p.path)
    lines = content.splitlines(keepends=True)
    end = p.end_line if p.end_line is not None else p.start_line + 199
    end = min(end, p.start_line + MAX_LINES - 1, len(lines))
    shown = lines[p.start_line - 1:end]
    return FileRange(real.relative_to(root).as_posix(), p.start_line, end if shown else 0, len(lines), "".join(shown))
