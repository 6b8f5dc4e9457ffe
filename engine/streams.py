"""A stream of text deltas that ends with one final value (usage record, finished answer).

Providers and the assistant both hand out such streams; the mechanics (stop after the final value,
close the source on the way out so the upstream request stops) live here once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Generic, Self, TypeVar

F = TypeVar("F")


class DeltaStream(Generic[F]):
    """Iterate for text deltas; when iteration ends, :attr:`final` holds the closing value.

    Closing it (``aclose()``, leaving ``async with``, or cancelling the task iterating it) closes the
    source generator, which is what stops an upstream request.
    """

    def __init__(self, source: AsyncGenerator[str | F, None], final_type: type[F]) -> None:
        self._source = source
        self._final_type = final_type
        self._parts: list[str] = []
        self._done = False
        self.final: F | None = None

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str:
        if self._done:
            raise StopAsyncIteration
        try:
            item = await self._source.__anext__()
        except BaseException:
            self._done = True
            raise
        if isinstance(item, self._final_type):
            self.final = item
            self._done = True
            await self._source.aclose()
            raise StopAsyncIteration
        assert isinstance(item, str)
        self._parts.append(item)
        return item

    async def aclose(self) -> None:
        self._done = True
        await self._source.aclose()

    async def drain(self) -> F | None:
        """Read the rest; the final value, or None if the stream was closed before it."""
        async for _ in self:
            pass
        return self.final

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
