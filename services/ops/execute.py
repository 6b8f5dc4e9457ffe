"""``execute``: code run in a Jupyter kernel, its output streamed (the seed's ``/api/ide/execute``).

``timeout`` is in milliseconds, as in the seed (``30000``); the kernels layer counts seconds. Each output
item is one ``ide:output`` ``{stream, text, output}`` (``stream`` is ``"stdout"``/``"stderr"`` for printed
text and null for values, displays and errors; ``output`` is the nbformat output), and the result is
``ide:result`` ``{output, exitCode, executionTime, outputs, truncated, reason?, sessionId?}``. Faults of the
code (an exception, a timeout, a limit, a dying kernel) are the result, not an error: exit codes 1, 124, 137.

Who runs the code is the backends' :class:`Executor`: the gateway's is the sandboxed ``nexus.kernels``
execution service (``sessionId`` keeps one kernel per user and id; without it a fresh kernel from the warm
pool), the Jupyter extension's adds notebook kernels (``kernelId``). Closing the call interrupts the kernel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Float, Name, Text
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import Event, operation

if TYPE_CHECKING:
    from nexus.kernels import OutputItem, StreamEvent

MAX_CODE_CHARS = 1_000_000
ID_PATTERN = r"^[A-Za-z0-9._:@/-]{1,128}$"
ID_RULE = "1-128 letters, digits or ._:@/-"


@dataclasses.dataclass(frozen=True, slots=True)
class ExecuteRequest:
    """A validated execution request, as executors take it (timeout in seconds)."""

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
        unknown kernel, ToolchainMissingError, KernelError) or OperationError(bad_request)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ExecuteParams:
    __pydantic_config__ = WIRE
    code: Annotated[Text, Field(max_length=MAX_CODE_CHARS)]
    language: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    timeout: Annotated[Float, Field(allow_inf_nan=False)] | None = None  # milliseconds
    session_id: Annotated[Name, Field(pattern=ID_PATTERN, description=ID_RULE)] | None = None
    kernel_id: Annotated[Name, Field(pattern=ID_PATTERN, description=ID_RULE)] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Output:
    __pydantic_config__ = WIRE
    stream: str | None
    text: str
    output: dict[str, Any]


@operation("execute", params=ExecuteParams, result=dict[str, Any], role=Role.DEVELOPER, rate="execute",
           message="ide:execute", result_message="ide:result", events=(("ide:output", Output),))
async def execute(call: Call, p: ExecuteParams) -> AsyncIterator[Event | dict[str, Any]]:
    """Run code in a kernel (a fresh one, a named session, or a notebook's); output streams as it comes."""
    from nexus.kernels import ExecutionResult, UnknownLanguageError

    executor = call.backends.require_executor()
    timeout = None
    if p.timeout is not None:
        limit_ms = round(executor.max_timeout * 1000)
        if not 1 <= p.timeout <= limit_ms:
            raise OperationError(ErrorCode.BAD_REQUEST,
                                 f"ide:execute: payload.timeout must be between 1 and {limit_ms} milliseconds")
        timeout = p.timeout / 1000
    if p.session_id is not None and p.kernel_id is not None:
        raise OperationError(ErrorCode.BAD_REQUEST,
                             "ide:execute: payload.sessionId and payload.kernelId cannot be used together")
    events = executor.stream(ExecuteRequest(p.code, p.language, timeout, p.session_id, p.kernel_id,
                                            call.identity.user))
    try:
        async for event in events:
            if isinstance(event, ExecutionResult):
                result: dict[str, Any] = event.to_json()
                yield result
            else:
                yield Event("ide:output", output_of(event))
    except UnknownLanguageError as exc:  # a payload field naming something that does not exist
        raise OperationError(ErrorCode.BAD_REQUEST, f"ide:execute: payload.language: {exc}") from exc
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def output_of(item: OutputItem) -> Output:
    from nexus.kernels import Stream

    return Output(item.name if isinstance(item, Stream) else None, item.text, item.to_json())
