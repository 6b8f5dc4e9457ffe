"""``repo.map``: the files and signatures that matter most, cut to a token budget (the map the context
builder gives the model), for a client that wants the lay of the land before it asks: MCP's ``repo_map``
prompt, the agent's first look.

``focus`` names workspace files to rank around (personalised PageRank over the import and call graph);
without it the map shows the most central files.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Int, PathText
from ..identity import Role
from ..operation import operation
from ._index import indexed_workspace

if TYPE_CHECKING:
    from nexus.engine import Workspace


@dataclasses.dataclass(frozen=True, slots=True)
class RepoMapParams:
    __pydantic_config__ = WIRE
    focus: Annotated[tuple[PathText, ...], Field(max_length=100)] = ()
    budget: Annotated[Int, Field(ge=50, le=200_000)] = 4000  # tokens


@dataclasses.dataclass(frozen=True, slots=True)
class MappedFile:
    __pydantic_config__ = WIRE
    path: str
    start_line: int  # 1-based: the first and last definitions shown
    end_line: int


@dataclasses.dataclass(frozen=True, slots=True)
class RepoMapResult:
    __pydantic_config__ = WIRE
    text: str
    tokens: int
    files: tuple[MappedFile, ...]


@operation("repo.map", params=RepoMapParams, result=RepoMapResult, role=Role.VIEWER, rate="query",
           message="repo:map")
async def repo_map(call: Call, p: RepoMapParams) -> RepoMapResult:
    """The workspace's most relevant files and their signatures, ranked by the code graph, to a token budget."""
    ws = await indexed_workspace(call)
    return await asyncio.to_thread(_build, ws, p)


def _build(ws: Workspace, p: RepoMapParams) -> RepoMapResult:
    from nexus.engine.context import counter_for
    from nexus.engine.graph.queries import CodeGraph
    from nexus.engine.graph.repomap import build_repo_map

    known = {info.path for info in ws.files()}
    focus = {path: 1.0 for path in (f.strip("/") for f in p.focus) if path in known}
    found = build_repo_map(ws, CodeGraph(ws), focus, p.budget, counter_for(None).count)
    return RepoMapResult(found.text, found.tokens,
                         tuple(MappedFile(path, first + 1, last + 1) for path, first, last in found.files))
