"""``execute``: code run in a Jupyter kernel, or a workspace file run as its language's runner would,
its output streamed (the seed's ``/api/ide/execute``).

With ``path`` (workspace-relative; ``cwd`` too, both refused when they leave the workspace), the file
runs like ``python FILE ARGS`` / ``node FILE`` / ``java FILE`` / ``g++ FILE && ./a.out`` in the sandbox,
in its folder (or ``cwd``) with ``args``, the workspace read-only and stdin at end-of-file; ``exitCode``
is the program's and the result adds ``errors: [{path, line, column, message}]`` (paths
workspace-relative). Without it, ``code`` runs as a snippet in a kernel.

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

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Float, Name, PathText, Text
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import Event, operation

if TYPE_CHECKING:
    from nexus.kernels import OutputItem, StreamEvent

MAX_CODE_CHARS = 1_000_000
MAX_ARGS = 256
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
    path: Path | None = None  # a file to run as a program (absolute, checked to be in the workspace)
    args: tuple[str, ...] = ()
    cwd: Path | None = None  # its working folder (absolute, in the workspace); None: the file's folder


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
    code: Annotated[Text, Field(max_length=MAX_CODE_CHARS)] | None = None  # or a path
    language: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    timeout: Annotated[Float, Field(allow_inf_nan=False)] | None = None  # milliseconds
    session_id: Annotated[Name, Field(pattern=ID_PATTERN, description=ID_RULE)] | None = None
    kernel_id: Annotated[Name, Field(pattern=ID_PATTERN, description=ID_RULE)] | None = None
    path: PathText | None = None  # a workspace file to run as a program, instead of code
    args: Annotated[tuple[Annotated[Text, Field(max_length=4096)], ...], Field(max_length=MAX_ARGS)] = ()
    cwd: PathText | None = None  # the program's working folder, workspace-relative


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
    request = ExecuteRequest(p.code or "", p.language, timeout, p.session_id, p.kernel_id, call.identity.user)
    root = Path(call.backends.workspace.root).resolve()
    if p.path is not None:
        request = await _file_request(request, root, p)
    elif p.code is None:
        raise OperationError(ErrorCode.BAD_REQUEST, "ide:execute: payload.code or payload.path is required")
    elif p.args or p.cwd is not None:
        raise OperationError(ErrorCode.BAD_REQUEST, "ide:execute: payload.args and payload.cwd need payload.path")
    events = executor.stream(request)
    try:
        async for event in events:
            if isinstance(event, ExecutionResult):
                result: dict[str, Any] = event.to_json()
                if "errors" in result:
                    result["errors"] = [_relative(error, root) for error in result["errors"]]
                yield result
            else:
                yield Event("ide:output", output_of(event))
    except UnknownLanguageError as exc:  # a payload field naming something that does not exist
        field = "path" if p.path is not None and p.language is None else "language"
        raise OperationError(ErrorCode.BAD_REQUEST, f"ide:execute: payload.{field}: {exc}") from exc
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


async def _file_request(request: ExecuteRequest, root: Path, p: ExecuteParams) -> ExecuteRequest:
    """The request for a file run: ``path`` and ``cwd`` resolved inside the workspace (WorkspaceError)."""
    from nexus.engine.errors import NotFoundError
    from nexus.engine.paths import resolve_inside

    if p.code is not None:
        raise OperationError(ErrorCode.BAD_REQUEST, "ide:execute: payload.code and payload.path cannot be used together")
    if p.session_id is not None or p.kernel_id is not None:
        raise OperationError(ErrorCode.BAD_REQUEST, "ide:execute: a file (payload.path) runs as a program of its "
                             "own, not in a session or a notebook's kernel")
    assert p.path is not None
    path = await asyncio.to_thread(resolve_inside, root, p.path)
    if not path.is_file():
        raise NotFoundError(f"{p.path}: no such file in the workspace")
    cwd = None
    if p.cwd is not None:
        cwd = await asyncio.to_thread(resolve_inside, root, p.cwd)
        if not cwd.is_dir():
            raise NotFoundError(f"{p.cwd}: no such folder in the workspace")
    return dataclasses.replace(request, path=path, args=tuple(p.args), cwd=cwd)


def _relative(error: dict[str, Any], root: Path) -> dict[str, Any]:
    path = Path(error["path"])
    return {**error, "path": path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)}


def output_of(item: OutputItem) -> Output:
    from nexus.kernels import Stream

    return Output(item.name if isinstance(item, Stream) else None, item.text, item.to_json())
