"""``graph``: where a symbol is defined, who calls it, what it calls, and what its file imports.

``symbol`` is ``name``, ``Class.method``, ``ns::name`` or ``path:name``; in ``imports`` mode it may also
be a workspace path. Fields a mode does not ask for are absent (``callees`` when only callers were asked).
Lines are 1-based.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Int, PathText
from ..identity import Role
from ..operation import operation
from ._index import on_index

if TYPE_CHECKING:
    from nexus.engine import Workspace
    from nexus.engine.graph import CallEdge, Definition, ImportEdge


@dataclasses.dataclass(frozen=True, slots=True)
class GraphParams:
    __pydantic_config__ = WIRE
    symbol: PathText
    mode: Literal["callers", "callees", "imports"] | None = None  # None: definitions, callers and callees
    limit: Annotated[Int, Field(ge=1, le=100_000)] = 200


@dataclasses.dataclass(frozen=True, slots=True)
class GraphDefinition:
    __pydantic_config__ = WIRE
    path: str
    line: int
    end_line: int
    name: str
    qualified_name: str
    kind: str
    signature: str


@dataclasses.dataclass(frozen=True, slots=True)
class CallSite:
    __pydantic_config__ = WIRE
    path: str
    line: int
    caller: str  # the enclosing definition; "" at the top level
    callee: str
    targets: tuple[GraphDefinition, ...]  # empty: defined outside the workspace (or ambiguous)
    ambiguous: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ImportLink:
    __pydantic_config__ = WIRE
    path: str
    line: int
    module: str
    target: str | None  # the workspace file it resolves to; None outside the workspace


@dataclasses.dataclass(frozen=True, slots=True)
class FileImports:
    __pydantic_config__ = WIRE
    path: str
    imports: tuple[ImportLink, ...]
    importers: tuple[ImportLink, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class GraphResult:
    __pydantic_config__ = WIRE
    __wire_omit_none__ = True
    symbol: str
    definitions: tuple[GraphDefinition, ...] | None = None
    callers: tuple[CallSite, ...] | None = None
    callees: tuple[CallSite, ...] | None = None
    files: tuple[FileImports, ...] | None = None  # imports mode


@operation("graph", params=GraphParams, result=GraphResult, role=Role.VIEWER, rate="query", message="graph:query")
async def graph(call: Call, p: GraphParams) -> GraphResult:
    """The code graph around a symbol: definitions, callers, callees, or its file's imports and importers."""
    return await on_index(call, lambda ws: query_graph(ws, p))


def query_graph(ws: Workspace, p: GraphParams) -> GraphResult:
    """Raises NotFoundError for a symbol the graph does not know."""
    from nexus.engine.graph import CodeGraph

    code = CodeGraph(ws)
    if p.mode == "imports":
        paths = [ws.relative(p.symbol)] if ws.file_info(p.symbol) is not None else \
            list(dict.fromkeys(d.path for d in code.require(p.symbol)))
        return GraphResult(p.symbol, files=tuple(
            FileImports(path, tuple(_link(e) for e in code.imports(path)),
                        tuple(_link(e) for e in code.importers(path)[:p.limit])) for path in paths))
    definitions = tuple(_definition(d) for d in code.require(p.symbol))
    callers = tuple(_site(e) for e in code.callers(p.symbol, p.limit)) if p.mode in (None, "callers") else None
    callees = tuple(_site(e) for e in code.callees(p.symbol)[:p.limit]) if p.mode in (None, "callees") else None
    return GraphResult(p.symbol, definitions, callers, callees)


def _definition(d: Definition) -> GraphDefinition:
    s = d.symbol
    return GraphDefinition(d.path, s.span.start_line + 1, s.span.end_line + 1, s.name, s.qualified_name, s.kind,
                           s.signature)


def _site(e: CallEdge) -> CallSite:
    return CallSite(e.path, e.line + 1, e.caller, e.callee, tuple(_definition(t) for t in e.targets), e.ambiguous)


def _link(e: ImportEdge) -> ImportLink:
    return ImportLink(e.path, e.line + 1, e.module, e.target)
