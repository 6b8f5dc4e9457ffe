"""``code.definition``, ``code.references``, ``code.hover``: what the language server answers at a
position, for clients without one (the agent, MCP): from the file's syntax tree and the index
(``nexus.engine.navigation``), on the file as saved. Lines are 1-based, columns 1-based UTF-8 bytes
(the same as characters for ASCII)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from nexus.engine.errors import NexusError
from nexus.engine.paths import read_text_inside

from ..call import Call
from ..codec import WIRE, Bool, Int, PathText
from ..identity import Role
from ..operation import operation

if TYPE_CHECKING:
    from nexus.engine import Workspace
    from nexus.engine.model import Span
    from nexus.engine.navigation import Navigator

MAX_LOCATIONS = 200


@dataclasses.dataclass(frozen=True, slots=True)
class PositionParams:
    __pydantic_config__ = WIRE
    path: PathText
    line: Annotated[Int, Field(ge=1)]
    column: Annotated[Int, Field(ge=1)]


@dataclasses.dataclass(frozen=True, slots=True)
class ReferencesParams:
    __pydantic_config__ = WIRE
    path: PathText
    line: Annotated[Int, Field(ge=1)]
    column: Annotated[Int, Field(ge=1)]
    include_declaration: Bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class Location:
    __pydantic_config__ = WIRE
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str  # the location's line
    is_definition: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Locations:
    __pydantic_config__ = WIRE
    locations: tuple[Location, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class HoverResult:
    __pydantic_config__ = WIRE
    name: str
    kind: str
    signature: str
    doc: str
    definition: Location | None


@operation("code.definition", params=PositionParams, result=Locations, role=Role.VIEWER, rate="query",
           message="code:definition")
async def definition(call: Call, p: PositionParams) -> Locations:
    """Where the name at a position is defined (locals from the syntax tree, the rest from the index)."""
    ws, nav, rel = await _navigator(call, p.path)
    targets = await asyncio.to_thread(nav.definitions, p.line - 1, p.column - 1)
    return Locations(tuple(_location(ws, t.path, t.span, True) for t in targets[:MAX_LOCATIONS]))


@operation("code.references", params=ReferencesParams, result=Locations, role=Role.VIEWER, rate="query",
           message="code:references")
async def references(call: Call, p: ReferencesParams) -> Locations:
    """Every use of the name at a position, in this file and across the index."""
    ws, nav, rel = await _navigator(call, p.path)
    found = await asyncio.to_thread(nav.references, p.line - 1, p.column - 1, p.include_declaration)
    return Locations(tuple(_location(ws, o.path, o.span, o.is_definition) for o in found[:MAX_LOCATIONS]))


@operation("code.hover", params=PositionParams, result=HoverResult, role=Role.VIEWER, rate="query",
           message="code:hover")
async def hover(call: Call, p: PositionParams) -> HoverResult:
    """The name at a position: its kind, signature and documentation, and where it is defined."""
    ws, nav, rel = await _navigator(call, p.path)
    targets = await asyncio.to_thread(nav.definitions, p.line - 1, p.column - 1)
    if not targets:
        return HoverResult("", "", "", "", None)
    target = targets[0]
    where = _location(ws, target.path, target.span, True)
    symbol = target.symbol
    if symbol is None:
        return HoverResult(where.text.strip(), "", target.line_text.strip() or where.text.strip(), "", where)
    return HoverResult(symbol.name, symbol.kind, symbol.signature, symbol.doc, where)


async def _navigator(call: Call, path: str) -> tuple[Workspace | None, Navigator, str]:
    from nexus.engine.navigation import Navigator
    from nexus.engine.source import SourceFile

    root = call.backends.workspace.root.resolve()
    real, text = await asyncio.to_thread(read_text_inside, root, path)
    rel = real.relative_to(root).as_posix()
    handle = call.backends.workspace
    ws = await handle.get()
    indexed = await asyncio.to_thread(handle.fresh, ws)
    return (ws if indexed else None), Navigator(ws if indexed else None, SourceFile(rel, text)), rel


def _location(ws: Workspace | None, path: str, span: Span, is_definition: bool) -> Location:
    line = ""
    if ws is not None:
        try:  # a file that vanished or shrank since it was indexed shows no line; it does not fail the request
            line = read_text_inside(ws.root, path)[1].splitlines()[span.start_line]
        except (NexusError, OSError, IndexError):
            line = ""
    return Location(path, span.start_line + 1, span.start_col + 1, span.end_line + 1, span.end_col + 1, line,
                    is_definition)
