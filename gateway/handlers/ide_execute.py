"""``ide:execute`` ``{code, language?, timeout?, sessionId?, kernelId?}`` -> ``ide:output``* then
``ide:result`` (the seed's ``/api/ide/execute``): code run in a Jupyter kernel, its output streamed.

``timeout`` is in milliseconds, as in the seed (``30000``); the kernels layer counts seconds. Each output
item becomes one ``ide:output`` ``{stream, text, output}`` (``stream`` is ``"stdout"``/``"stderr"`` for
printed text and null for values, displays and errors; ``output`` is the nbformat output), and the last
reply is ``ide:result`` ``{output, exitCode, executionTime, outputs, truncated, reason?, sessionId?}``
(``ExecutionResult.to_json()``). Faults of the code (an exception, a timeout, a limit, a dying kernel) are
the result, not an error: exit codes 1, 124, 137.

Who runs the code is an :class:`Executor`: the gateway's is the ``nexus.kernels`` execution service
(``sessionId`` keeps one kernel per user and id; without it a fresh kernel from the warm pool), the
Jupyter extension's is jupyter-server's own kernel manager (``kernelId`` runs in a notebook's kernel).
Both share this module, so the payload rules and reply shapes cannot drift apart. Cancelling the request
closes the generator, which interrupts the kernel.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

from ..protocol import Context, Handler, Registry, Reply, Request, Role

if TYPE_CHECKING:
    from nexus.kernels import OutputItem, StreamEvent

    from . import Services

TYPE = "ide:execute"
MIN_ROLE = Role.DEVELOPER
FEATURE = "code execution (the nexus.kernels execution service)"
MAX_CODE_CHARS = 1_000_000
ID_PATTERN = re.compile(r"[A-Za-z0-9._:@/-]{1,128}\Z")


@dataclasses.dataclass(frozen=True, slots=True)
class ExecuteRequest:
    """A validated ``ide:execute`` payload (also the body of the Jupyter extension's ``POST execute``)."""

    code: str
    language: str | None = None  # None: the kernel's own language (with kernel_id), else Python
    timeout: float | None = None  # seconds; None: the executor's default
    session_id: str | None = None
    kernel_id: str | None = None
    user: str = ""  # who asked (sessions are kept per user)


class Executor(Protocol):
    """Runs an :class:`ExecuteRequest` somewhere; the gateway and the Jupyter extension each have one."""

    @property
    def max_timeout(self) -> float:
        """The longest ``timeout`` a request may ask for, in seconds."""

    def stream(self, request: ExecuteRequest) -> AsyncIterator[StreamEvent]:
        """Yield each output item as it arrives, then the ``ExecutionResult``; closing the iterator early
        interrupts the run. Raises NexusError subclasses (UnknownLanguageError, NotFoundError for an
        unknown kernel, ToolchainMissingError, KernelError) or GatewayError(bad_request)."""


def parse_execute(request: Request, user: str, max_timeout: float) -> ExecuteRequest:
    """The payload as an :class:`ExecuteRequest`; raises GatewayError(bad_request) naming the field."""
    code = request.text("code", max_length=MAX_CODE_CHARS, allow_empty=True)
    language = request.text("language", max_length=64) if request.payload.get("language") is not None else None
    timeout = None
    raw = request.payload.get("timeout")
    if raw is not None:
        limit_ms = round(max_timeout * 1000)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise request.invalid("payload.timeout must be a number of milliseconds")
        if not 1 <= raw <= limit_ms:
            raise request.invalid(f"payload.timeout must be between 1 and {limit_ms} milliseconds")
        timeout = raw / 1000
    ids: dict[str, str | None] = {}
    for key in ("sessionId", "kernelId"):
        value = request.payload.get(key)
        if value is not None and (not isinstance(value, str) or ID_PATTERN.match(value) is None):
            raise request.invalid(f"payload.{key} must be 1-128 letters, digits or ._:@/-")
        ids[key] = value
    if ids["sessionId"] is not None and ids["kernelId"] is not None:
        raise request.invalid("payload.sessionId and payload.kernelId cannot be used together")
    return ExecuteRequest(code, language, timeout, ids["sessionId"], ids["kernelId"], user)


def output_json(item: OutputItem) -> dict[str, Any]:
    """One ``ide:output`` message's data."""
    from nexus.kernels import Stream

    stream = item.name if isinstance(item, Stream) else None
    return {"stream": stream, "text": item.text, "output": item.to_json()}


def make_handler(executor: Executor) -> Handler:
    async def execute(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        from nexus.kernels import ExecutionResult, UnknownLanguageError

        user = ctx.identity.user if ctx.identity is not None else ""
        events = executor.stream(parse_execute(request, user, executor.max_timeout))
        try:
            async for event in events:
                if isinstance(event, ExecutionResult):
                    yield Reply("ide:result", event.to_json())
                else:
                    yield Reply("ide:output", output_json(event))
        except UnknownLanguageError as exc:  # a payload field naming something that does not exist
            raise request.invalid(f"payload.language: {exc}") from exc
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    return execute


def register(registry: Registry, services: Services) -> None:
    if services.kernels is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE, reason=services.kernels_problem)
        return
    registry.register(TYPE, make_handler(services.kernels), min_role=MIN_ROLE)


__all__ = ["MIN_ROLE", "TYPE", "ExecuteRequest", "Executor", "make_handler", "output_json", "parse_execute",
           "register"]
