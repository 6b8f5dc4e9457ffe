"""Name -> operation, and the one way a face calls one: :meth:`Registry.call`.

The registry checks the caller's role, decodes and validates the parameters, runs the operation and
encodes what it yields, so a face only moves JSON between its transport and this call. Every item comes
out as a :class:`Emitted` (the gateway sends each as a message; REST and the CLI keep the last; the LSP
turns events into progress notifications).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from nexus.engine.errors import NexusError

from . import codec
from .call import Call
from .errors import ErrorCode, OperationError, translate
from .operation import Event, Operation, declared

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Emitted:
    kind: str  # the gateway message type of this item
    data: Any  # plain JSON data
    final: bool


class Registry:
    def __init__(self, operations: list[Operation]) -> None:
        self._ops = {op.name: op for op in operations}
        self._by_message = {op.message: op for op in operations}
        if len(self._ops) != len(operations) or len(self._by_message) != len(operations):
            raise ValueError("two operations share a name or a message type")

    @classmethod
    def default(cls) -> Registry:
        """Every operation in ``nexus.services.ops``."""
        from . import ops  # noqa: F401  (declares them)

        return cls(declared())

    def __iter__(self) -> Iterator[Operation]:
        return iter(sorted(self._ops.values(), key=lambda op: op.name))

    def __contains__(self, name: object) -> bool:
        return name in self._ops

    def get(self, name: str) -> Operation | None:
        return self._ops.get(name)

    def by_message(self, message: str) -> Operation | None:
        return self._by_message.get(message)

    def require(self, name: str) -> Operation:
        op = self._ops.get(name)
        if op is None:
            raise OperationError(ErrorCode.UNKNOWN_TYPE, f"unknown operation {name!r}; known: "
                                 + ", ".join(sorted(self._ops)))
        return op

    def call(self, name: str, payload: Any, call: Call) -> AsyncIterator[Emitted]:
        """Run operation ``name`` for ``call.identity``; yields its events, then its result (``final``).

        Raises OperationError: ``unknown_type``, ``forbidden`` for a role below the operation's,
        ``bad_request`` for invalid parameters, and whatever the operation raises. Closing the iterator
        early cancels the operation (its ``finally`` blocks run).
        """
        op = self.require(name)
        if call.identity.role < op.role:
            raise OperationError(ErrorCode.FORBIDDEN, f"{op.message} needs the {op.role.label} role; "
                                 f"{call.identity.user} is a {call.identity.role.label}")
        params = codec.decode(op.params, payload, where=op.message)
        return _run(op, params, call)

    async def result(self, name: str, payload: Any, call: Call) -> Any:
        """The encoded result of a one-shot call (events are dropped)."""
        final: Any = None
        stream = self.call(name, payload, call)
        try:
            async for item in stream:
                if item.final:
                    final = item.data
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return final

    def schema(self) -> dict[str, Any]:
        """Every operation's declaration and the JSON Schema of its parameters, events and result."""
        out: dict[str, Any] = {}
        for op in self:
            out[op.name] = {
                "summary": op.summary, "message": op.message, "resultMessage": op.result_message,
                "role": op.role.label, "permission": op.permission.label, "rate": op.rate, "streams": op.streams, "cancellable": op.cancellable,
                "params": codec.schema(op.params), "result": codec.schema(op.result),
                "events": {kind: codec.schema(data) for kind, data in op.events},
            }
        return out


async def _run(op: Operation, params: Any, call: Call) -> AsyncIterator[Emitted]:
    """Run ``op``; deliberate engine and kernel errors come out as OperationError, with the cause chained."""
    try:
        if not op.streams:
            result = await op.run(call, params)  # type: ignore[misc]
            yield Emitted(op.result_message, codec.encode(result), True)
            return
        items = op.run(call, params)
        try:
            async for item in items:  # type: ignore[union-attr]
                if isinstance(item, Event):
                    yield Emitted(item.kind, codec.encode(item.data), False)
                else:
                    yield Emitted(op.result_message, codec.encode(item), True)
        finally:
            await items.aclose()  # type: ignore[union-attr]
    except NexusError as exc:
        translated = translate(exc)
        if translated is exc or translated is None:
            raise
        raise translated from exc
