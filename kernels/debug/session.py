"""One DAP client connection: the requests Nexus answers itself, and routing the rest to a target.

The client talks to ``nexus dap`` as to any debug adapter. ``initialize`` is answered here (the
capabilities both targets share; the target's exact ones follow in a ``capabilities`` event),
``launch`` starts a ``LaunchTarget`` (debugpy), ``attach`` a ``KernelTarget`` (a kernel's debugger),
and every later request is forwarded to that target in the order it arrived. A configuration that
cannot work (a missing program, an unknown session, a dead kernel, a kernel without a debugger) is
answered with an error response whose message says what to fix; the connection stays usable.

    session = DebugSession(MessageReader(reader), MessageWriter(writer))
    await session.run()             # until the client disconnects or closes the stream
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from nexus.engine.errors import NexusError

from .attach import KernelTarget, resolve_kernel
from .launch import LaunchTarget
from .protocol import (
    Message,
    MessageReader,
    MessageWriter,
    ProtocolError,
    error_response,
    event,
    request,
    response,
    stdio_streams,
)
from .registry import SessionRegistry
from .target import DebugTarget, Result

log = logging.getLogger(__name__)

DISCONNECT_SECONDS = 5.0
REVERSE_SECONDS = 60.0

# What debugpy offers both when it launches a program and inside ipykernel; the target's own list
# arrives as a `capabilities` event once it is known.
BASE_CAPABILITIES: dict[str, Any] = {
    "supportsConfigurationDoneRequest": True,
    "supportsConditionalBreakpoints": True,
    "supportsHitConditionalBreakpoints": True,
    "supportsLogPoints": True,
    "supportsFunctionBreakpoints": True,
    "supportsEvaluateForHovers": True,
    "supportsSetVariable": True,
    "supportsSetExpression": True,
    "supportsExceptionInfoRequest": True,
    "supportsExceptionOptions": True,
    "supportsDelayedStackTraceLoading": True,
    "supportsCompletionsRequest": True,
    "supportsModulesRequest": True,
    "supportsValueFormattingOptions": True,
    "supportsClipboardContext": True,
    "supportsStepInTargetsRequest": True,
    "supportsGotoTargetsRequest": True,
    "supportsTerminateRequest": False,
    "exceptionBreakpointFilters": [
        {"filter": "raised", "label": "Raised Exceptions", "default": False},
        {"filter": "uncaught", "label": "Uncaught Exceptions", "default": True},
        {"filter": "userUnhandled", "label": "User Uncaught Exceptions", "default": False},
    ],
}


class DebugSession:
    """Serves one client until it disconnects; see the module docstring."""

    def __init__(
        self, reader: MessageReader, writer: MessageWriter, registry: SessionRegistry | None = None
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.registry = registry or SessionRegistry()
        self.client: dict[str, Any] | None = None  # the client's initialize arguments
        self.target: DebugTarget | None = None
        self._seq = 0
        self._reverse: dict[int, asyncio.Future[Message]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished = False

    async def run(self) -> None:
        try:
            while not self._finished and (message := await self.reader.read()) is not None:
                kind = message.get("type")
                if kind == "request":
                    await self._on_request(message)
                elif kind == "response":
                    future = self._reverse.pop(int(message.get("request_seq", -1)), None)
                    if future is not None and not future.done():
                        future.set_result(message)
                await self.writer.drain()
        except ProtocolError as exc:
            log.error("closing the debug connection: %s", exc)
        finally:
            await self._close()

    # --- writing ----------------------------------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def event(self, name: str, body: dict[str, Any] | None = None) -> None:
        self.writer.write(event(self._next(), name, body))

    async def reverse_request(self, command: str, arguments: dict[str, Any]) -> Message:
        seq = self._next()
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._reverse[seq] = future
        self.writer.write(request(seq, command, arguments))
        await self.writer.drain()
        try:
            return await asyncio.wait_for(future, REVERSE_SECONDS)
        except TimeoutError:
            self._reverse.pop(seq, None)
            return {"success": False, "message": f"the client did not answer {command!r}"}

    def _answer(self, req: Message, result: Result, *, show_user: bool = False) -> None:
        if result.get("success"):
            self.writer.write(response(self._next(), req, result.get("body")))
        else:
            text = str(result.get("message") or f"{req.get('command')} failed")
            self.writer.write(error_response(self._next(), req, text, show_user=show_user))

    def _fail(self, req: Message, text: str) -> None:
        log.info("%s failed: %s", req.get("command"), text)
        self.writer.write(error_response(self._next(), req, text))

    # --- requests ---------------------------------------------------------------------------------

    async def _on_request(self, req: Message) -> None:
        command = req.get("command")
        if command == "initialize":
            if self.client is not None:
                self._fail(req, "the session is already initialized")
                return
            self.client = dict(req.get("arguments") or {})
            self.writer.write(response(self._next(), req, dict(BASE_CAPABILITIES)))
        elif command in ("launch", "attach"):
            await self._start(req)
        elif command == "disconnect":
            await self._disconnect(req)
        elif self.target is None:
            self._fail(req, f"{command}: nothing is being debugged yet (send launch or attach first)")
        else:
            self._relay(req, self.target.send(req))

    async def _start(self, req: Message) -> None:
        if self.client is None:
            self._fail(req, "send initialize before launch or attach")
            return
        if self.target is not None:
            self._fail(req, "this debug session has already started; start another session")
            return
        target: DebugTarget
        if req.get("command") == "launch":
            target = LaunchTarget(self, self.client)
        else:
            arguments = req.get("arguments") or {}
            try:
                address = resolve_kernel(arguments, self.registry)
                timeout = float(arguments.get("timeout", 10.0))
            except NexusError as exc:
                self._fail(req, str(exc))
                return
            except (TypeError, ValueError):
                self._fail(req, '"timeout" must be a number of seconds')
                return
            target = KernelTarget(address, self, timeout=timeout)
        try:
            result = await target.start(req)
        except NexusError as exc:
            self._fail(req, str(exc))
            return
        self.target = target
        self._relay(req, result, show_user=True)

    def _relay(self, req: Message, future: asyncio.Future[Result], *, show_user: bool = False) -> None:
        if future.done():
            self._answer(req, _outcome(future), show_user=show_user)
            return

        async def answer() -> None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait((future,))
            self._answer(req, _outcome(future), show_user=show_user)
            await self.writer.drain()

        self._spawn(answer())

    async def _disconnect(self, req: Message) -> None:
        """Answer once the target has let go (a launched program is stopped, a kernel resumes)."""
        if self.target is not None:
            try:
                await asyncio.wait_for(self.target.send(req), DISCONNECT_SECONDS)
            except TimeoutError:
                log.warning("the target did not acknowledge disconnect within %s s", DISCONNECT_SECONDS)
            await self.target.close()
            self.target = None
        self.writer.write(response(self._next(), req))
        self._finished = True

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self) -> None:
        self._finished = True
        if self.target is not None:
            await self.target.close()
            self.target = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.writer.drain()
        await self.writer.close()


def _outcome(future: asyncio.Future[Result]) -> Result:
    if future.cancelled():
        return {"success": False, "message": "the debug session ended before this request was answered"}
    exc = future.exception()
    if exc is not None:
        log.error("a debug request failed", exc_info=exc)
        return {"success": False, "message": str(exc) or type(exc).__name__}
    return future.result()


async def serve_stdio(registry: SessionRegistry | None = None) -> None:
    """Serve one DAP client on this process's stdin/stdout (what editors start)."""
    reader, writer = await stdio_streams()
    await DebugSession(MessageReader(reader), MessageWriter(writer), registry).run()


async def serve_tcp(
    host: str,
    port: int,
    registry: SessionRegistry | None = None,
    on_listening: Callable[[str, int], None] | None = None,
) -> None:
    """Serve DAP clients on a TCP port, one independent session per connection, until cancelled."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        log.info("debug client connected from %s", peer)
        await DebugSession(MessageReader(reader), MessageWriter(writer), registry).run()
        log.info("debug client %s left", peer)

    server = await asyncio.start_server(handle, host, port, limit=64 * 1024 * 1024)
    bound = server.sockets[0].getsockname()
    if on_listening is not None:
        on_listening(str(bound[0]), int(bound[1]))
    else:
        log.info("nexus dap listening on %s:%s", bound[0], bound[1])
    async with server:
        await server.serve_forever()

