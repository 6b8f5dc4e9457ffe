"""An operation: one use case, declared once, served by every face.

    @operation("search", params=SearchParams, result=SearchResult, role=Role.VIEWER, rate="query",
               message="search:query")
    async def search(call: Call, p: SearchParams) -> SearchResult:
        ...

A streaming operation is an async generator that yields :class:`Event` items (``ai:delta``,
``ide:output``, ``context:chunk``) and yields its result last. The declaration is everything a face needs:
the name (``nexus api schema``, MCP tools, LSP ``nexus/<name>``), the gateway's message type (a contract
kept from the first version), the parameter and result classes (validation and JSON Schema), the role,
the rate-limit class, whether it streams and whether cancelling it is meaningful.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .identity import Role
from .permission import Permission

if TYPE_CHECKING:
    from .call import Call

P = TypeVar("P")
R = TypeVar("R")

NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\Z")
RATE_CLASSES = ("none", "query", "read", "execute", "ai", "context", "index")


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One streamed item before the result: ``kind`` is its message type on the gateway (``ai:delta``)."""

    kind: str
    data: Any


Runner = Callable[["Call", Any], Awaitable[Any]] | Callable[["Call", Any], AsyncIterator[Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class Operation:
    name: str
    summary: str
    params: type[Any]
    result: type[Any]
    role: Role
    rate: str
    message: str  # the gateway message type of the request
    result_message: str  # ... and of the last reply
    events: tuple[tuple[str, type[Any]], ...]  # the streamed items' kinds and data classes
    cancellable: bool
    run: Runner
    permission: Permission = Permission.READ

    @property
    def streams(self) -> bool:
        return bool(self.events)


_DECLARED: list[Operation] = []


def operation(name: str, *, params: type[Any], result: type[Any], role: Role, rate: str, message: str,
              result_message: str | None = None, events: tuple[tuple[str, type[Any]], ...] = (),
              cancellable: bool = True, permission: Permission | None = None) -> Callable[[Runner], Runner]:
    """Declare the decorated coroutine (or async generator, when ``events``) as operation ``name``;
    ``permission`` (default: from the role) is what a tool-calling client must be allowed to call it."""
    if NAME.match(name) is None:
        raise ValueError(f"operation name {name!r} is not like 'area.verb'")
    if rate not in RATE_CLASSES:
        raise ValueError(f"rate class {rate!r} is not one of {', '.join(RATE_CLASSES)}")

    def declare(run: Runner) -> Runner:
        if bool(events) != inspect.isasyncgenfunction(run):
            raise TypeError(f"{name}: an operation with events is an async generator, and only such one is")
        doc = inspect.getdoc(run) or ""
        _DECLARED.append(Operation(name, doc.split("\n\n")[0].replace("\n", " "), params, result, role, rate,
                                   message, result_message or message, events, cancellable, run,
                                   permission or Permission.default_for(role)))
        return run

    return declare


def declared() -> list[Operation]:
    """Every operation declared so far (importing ``nexus.services.ops`` declares them all)."""
    return list(_DECLARED)
