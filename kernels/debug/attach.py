"""Debugging code that runs in a live Jupyter kernel, through the kernel's own debugger.

ipykernel embeds debugpy and speaks DAP inside Jupyter messages: requests go as ``debug_request`` on
the control channel (served by the control thread, so they are answered while a cell is stopped at a
breakpoint), replies come back as ``debug_reply``, and events are published as ``debug_event`` on
IOPub. ``KernelTarget`` connects to the kernel as one more jupyter_client client (from its connection
file) and relays. It adds what a plain relay lacks:

- before attaching it proves the kernel is alive (heartbeat) and has a debugger (``kernel_info``'s
  ``supported_features``), so a dead kernel or a wrapper kernel gets a clear error, not a hang;
- ``evaluate`` in the REPL context while nothing is stopped runs the code *in the kernel* (the Debug
  Console becomes a console of the session, and a client can execute a cell it set breakpoints in);
- stack frames whose file this machine cannot read (a cell file in a sandboxed kernel's private /tmp)
  get a ``sourceReference``, and ``source`` requests for it are answered by the kernel;
- it never terminates the kernel: ``disconnect`` detaches and resumes, ``terminate`` is refused.

The cell protocol is ipykernel's: ``dumpCell {code}`` writes the cell where the kernel will compile it
from and returns ``sourcePath``; breakpoints set on that path hit when the same code is executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.asynchronous.client import AsyncKernelClient

from .errors import KernelUnreachableError, NoDebuggerError, NoSuchDebugTargetError
from .protocol import Message
from .registry import SessionRegistry
from .target import Result, TargetSink, failed, ok

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0  # a live kernel answers a ping within milliseconds, even while a cell is stopped
WATCH_SECONDS = 2.0
ATTACH_ARGUMENTS = ("justMyCode", "showReturnValue", "redirectOutput")  # passed on to debugpy
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclasses.dataclass(frozen=True, slots=True)
class KernelAddress:
    """Which kernel to attach to and how to name it in messages."""

    connection_file: str
    label: str


def resolve_kernel(arguments: dict[str, Any], registry: SessionRegistry) -> KernelAddress:
    """The kernel an ``attach`` configuration names: ``connectionFile``, ``kernelId`` or ``sessionId``.

    With none of them, the only advertised session. Raises NoSuchDebugTargetError / DebugConfigError.
    """
    connection_file = arguments.get("connectionFile")
    if connection_file:
        path = Path(str(connection_file)).expanduser()
        if not path.is_file():
            raise NoSuchDebugTargetError(f"kernel connection file not found: {path}")
        return KernelAddress(str(path), f"the kernel of {path.name}")
    entry = registry.find(
        session_id=str(arguments["sessionId"]) if arguments.get("sessionId") else None,
        kernel_id=str(arguments["kernelId"]) if arguments.get("kernelId") else None,
    )
    if not Path(entry.connection_file).is_file():
        raise KernelUnreachableError(
            f"the kernel of session {entry.session_id!r} is gone (its connection file was removed)"
        )
    return KernelAddress(entry.connection_file, f"the {entry.language} kernel of session {entry.session_id!r}")


def _channel_url(client: AsyncKernelClient, port: int) -> str:
    if client.transport == "ipc":
        return f"ipc://{client.ip}-{port}"
    return f"tcp://{client.ip}:{port}"


@dataclasses.dataclass(slots=True)
class _Execution:
    """Code run in the kernel for a REPL ``evaluate``: done when IOPub is idle and the reply came."""

    future: asyncio.Future[Result]
    text: str = ""
    error: str = ""
    idle: bool = False
    reply: dict[str, Any] | None = None


class KernelTarget:
    """A DebugTarget for a kernel's built-in debugger; see the module docstring."""

    def __init__(self, address: KernelAddress, sink: TargetSink, *, timeout: float = 10.0) -> None:
        self.address = address
        self.sink = sink
        self.timeout = timeout
        self.client = AsyncKernelClient(connection_file=address.connection_file)
        self.capabilities: dict[str, Any] = {}
        self._seq = 0
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._executions: dict[str, _Execution] = {}
        self._iopub_live = asyncio.Event()
        self._attached = False
        self._detached = False
        self._stopped: set[int] = set()
        self._sources: dict[int, str] = {}  # sourceReference -> path inside the kernel
        self._source_refs: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._ended = False
        self._closed = False

    # --- connecting -------------------------------------------------------------------------------

    async def start(self, request: Message) -> asyncio.Future[Result]:
        """Connect, check, and attach the kernel's debugger; the returned future is already done."""
        try:
            self.client.load_connection_file()
        except (OSError, ValueError, KeyError) as exc:
            raise KernelUnreachableError(f"cannot read the connection file of {self.address.label}: {exc}") from exc
        self.client.start_channels(hb=False)
        self._tasks = [
            asyncio.create_task(self._read_control()),
            asyncio.create_task(self._read_iopub()),
            asyncio.create_task(self._read_shell()),
        ]
        try:
            await self._check_kernel()
            result = await self._attach(request.get("arguments") or {})
        except BaseException:
            await self.close()
            raise
        self._attached = True
        self._tasks.append(asyncio.create_task(self._watch()))
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        done.set_result(result)
        return done

    async def _check_kernel(self) -> None:
        info_task = asyncio.create_task(self._kernel_info())
        beating = await self.heartbeat(HEARTBEAT_SECONDS)
        if not beating and not info_task.done():
            info_task.cancel()
            await asyncio.gather(info_task, return_exceptions=True)
            raise KernelUnreachableError(
                f"{self.address.label} is not running: it did not answer a heartbeat within "
                f"{HEARTBEAT_SECONDS:g} s (it may have died or been shut down)"
            )
        try:
            info = await asyncio.wait_for(info_task, self.timeout)
        except TimeoutError as exc:
            raise KernelUnreachableError(
                f"{self.address.label} is alive but did not answer kernel_info on its control channel "
                f"within {self.timeout:g} s, so its debugger cannot be reached"
            ) from exc
        features = info.get("supported_features") or []
        if not (info.get("debugger") is True or "debugger" in features):
            language = (info.get("language_info") or {}).get("name", "unknown")
            implementation = info.get("implementation", "unknown")
            raise NoDebuggerError(
                f"{self.address.label} has no debugger support ({implementation} kernel for {language}); "
                "debugging needs a Python kernel on ipykernel 6+ with debugpy"
            )

    async def _kernel_info(self) -> dict[str, Any]:
        """kernel_info over control (answered even while a cell runs), resent until IOPub shows it too.

        IOPub is a subscription: messages published before it is connected are lost, and the
        ``initialized`` event of the debugger must not be. The kernel publishes a status for each
        control request, so seeing ours proves the subscription is live.
        """
        while True:
            reply = await self._send_control(self.client.session.msg("kernel_info_request", {}))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._iopub_live.wait(), 0.5)
                return reply

    async def heartbeat(self, timeout: float) -> bool:
        """Whether the kernel answers a heartbeat ping within ``timeout`` seconds."""
        context = self.client.context
        assert isinstance(context, zmq.asyncio.Context)
        socket = context.socket(zmq.REQ)
        socket.linger = 0
        try:
            socket.connect(_channel_url(self.client, self.client.hb_port))
            await socket.send(b"ping")
            if await socket.poll(int(timeout * 1000)):
                await socket.recv()
                return True
            return False
        finally:
            socket.close(linger=0)

    async def _attach(self, arguments: dict[str, Any]) -> Result:
        info = await self._debug("debugInfo")
        if (info.get("body") or {}).get("isStarted"):
            # another client (JupyterLab, an earlier session) started it: share it
            log.info("the debugger of %s is already started; joining it", self.address.label)
            self.sink.event("initialized")
            for thread_id in (info.get("body") or {}).get("stoppedThreads", []):
                self._stopped.add(int(thread_id))
                self.sink.event("stopped", {"reason": "pause", "threadId": thread_id, "allThreadsStopped": True})
            return ok()
        initialize = await self._debug(
            "initialize",
            {
                "clientID": "nexus",
                "clientName": "Nexus",
                "adapterID": "python",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsVariableType": True,
                "supportsVariablePaging": True,
                "supportsRunInTerminalRequest": False,
                "locale": "en",
            },
        )
        if not initialize.get("success"):
            raise NoDebuggerError(
                f"the debugger of {self.address.label} did not start: "
                f"{initialize.get('message') or 'debugpy could not listen inside the kernel'}"
            )
        # the kernel is not ours to end: a client that sees terminate support would use it for "stop"
        self.capabilities = {
            **(initialize.get("body") or {}),
            "supportsTerminateRequest": False,
            "supportsTerminateDebuggee": False,
        }
        self.sink.event("capabilities", {"capabilities": self.capabilities})
        forwarded = {key: arguments[key] for key in ATTACH_ARGUMENTS if key in arguments}
        attached = await self._debug("attach", forwarded)
        if not attached.get("success"):
            raise NoDebuggerError(
                f"cannot attach to the debugger of {self.address.label}: {attached.get('message', 'no reason given')}"
            )
        return ok()

    # --- requests ---------------------------------------------------------------------------------

    def send(self, request: Message) -> asyncio.Future[Result]:
        command = request.get("command", "")
        arguments = dict(request.get("arguments") or {})
        if self._ended:
            return _done(failed(f"{self.address.label} is gone; the debug session has ended"))
        if command == "evaluate" and arguments.get("context") == "repl" and not self._stopped:
            return self._execute(str(arguments.get("expression", "")))
        if command == "terminate":
            return _done(failed("the kernel belongs to its session and is not terminated; disconnect instead"))
        if command == "disconnect":
            arguments.update(restart=False, terminateDebuggee=False)
            self._detached = True
        if command == "source":
            path = self._sources.get(int(arguments.get("sourceReference") or 0))
            if path is not None:
                arguments = {"source": {"path": path}, "sourceReference": 0}
        future = self._debug_future(command, arguments)
        if command == "stackTrace":
            return _then(future, self._local_sources)
        return future

    def _local_sources(self, result: Result) -> Result:
        """Give frames whose file is not readable here a sourceReference the kernel can serve."""
        for frame in (result.get("body") or {}).get("stackFrames", []):
            source = frame.get("source") or {}
            path = source.get("path")
            if not path or source.get("sourceReference") or os.access(path, os.R_OK):
                continue
            ref = self._source_refs.get(path)
            if ref is None:
                ref = self._source_refs[path] = len(self._source_refs) + 1
                self._sources[ref] = path
            source["sourceReference"] = ref
            source.setdefault("name", os.path.basename(path))
        return result

    async def _debug(self, command: str, arguments: dict[str, Any] | None = None) -> Result:
        try:
            return await asyncio.wait_for(self._debug_future(command, arguments or {}), self.timeout)
        except TimeoutError as exc:
            raise KernelUnreachableError(
                f"the debugger of {self.address.label} did not answer {command!r} within {self.timeout:g} s"
            ) from exc

    def _debug_future(self, command: str, arguments: dict[str, Any]) -> asyncio.Future[Result]:
        self._seq += 1
        content = {"type": "request", "seq": self._seq, "command": command, "arguments": arguments}
        msg = self.client.session.msg("debug_request", content)
        return _then(self._send_control(msg), lambda reply: _result(command, reply))

    def _send_control(self, msg: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg["header"]["msg_id"]] = future
        self.client.control_channel.send(msg)
        return future

    def _execute(self, code: str) -> asyncio.Future[Result]:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        msg_id = self.client.execute(code, silent=False, store_history=True, allow_stdin=False)
        self._executions[msg_id] = _Execution(future)
        return future

    # --- reading the kernel -----------------------------------------------------------------------

    async def _read_control(self) -> None:
        while True:
            msg = await self.client.get_control_msg()
            future = self._pending.pop(msg.get("parent_header", {}).get("msg_id", ""), None)
            if future is not None and not future.done():
                future.set_result(msg.get("content") or {})

    async def _read_shell(self) -> None:
        while True:
            msg = await self.client.get_shell_msg()
            execution = self._executions.get(msg.get("parent_header", {}).get("msg_id", ""))
            if execution is not None and msg.get("msg_type") == "execute_reply":
                execution.reply = msg.get("content") or {}
                self._finish(msg["parent_header"]["msg_id"], execution)

    async def _read_iopub(self) -> None:
        while True:
            msg = await self.client.get_iopub_msg()
            msg_type = msg.get("msg_type", "")
            content = msg.get("content") or {}
            parent_id = msg.get("parent_header", {}).get("msg_id", "")
            if msg_type == "debug_event":
                self._on_event(content)
                continue
            self._iopub_live.set()
            if msg_type == "status":
                if content.get("execution_state") == "starting" and self._attached:
                    self._end(f"{self.address.label} restarted; the debug session has ended")
                    return
            execution = self._executions.get(parent_id)
            if execution is not None:
                self._on_output(parent_id, execution, msg_type, content)

    def _on_event(self, content: dict[str, Any]) -> None:
        name = content.get("event", "")
        body = content.get("body") or {}
        if name == "stopped":
            self._stopped.add(int(body.get("threadId", 0)))
        elif name == "continued":
            if body.get("allThreadsContinued", True):
                self._stopped.clear()
            else:
                self._stopped.discard(int(body.get("threadId", 0)))
        self.sink.event(name, content.get("body"))

    def _on_output(self, msg_id: str, execution: _Execution, msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "stream":
            category = "stderr" if content.get("name") == "stderr" else "stdout"
            self.sink.event("output", {"category": category, "output": content.get("text", "")})
        elif msg_type == "execute_result":
            execution.text = str((content.get("data") or {}).get("text/plain", ""))
        elif msg_type == "display_data":
            text = (content.get("data") or {}).get("text/plain")
            if text:
                self.sink.event("output", {"category": "stdout", "output": f"{text}\n"})
        elif msg_type == "error":
            traceback = ANSI.sub("", "\n".join(content.get("traceback") or []))
            if traceback:
                self.sink.event("output", {"category": "stderr", "output": f"{traceback}\n"})
            execution.error = f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
        elif msg_type == "status" and content.get("execution_state") == "idle":
            execution.idle = True
            self._finish(msg_id, execution)

    def _finish(self, msg_id: str, execution: _Execution) -> None:
        if not (execution.idle and execution.reply is not None):
            return
        self._executions.pop(msg_id, None)
        if execution.future.done():
            return
        status = execution.reply.get("status")
        if execution.error or status == "error":
            execution.future.set_result(failed(execution.error or "the code raised an error"))
        elif status == "aborted":
            execution.future.set_result(failed("the execution was aborted"))
        else:
            execution.future.set_result(ok({"result": execution.text, "variablesReference": 0}))

    async def _watch(self) -> None:
        """End the session when the kernel dies or its debugger goes away (a restart starts a new kernel).

        A missed heartbeat is asked again at once before calling the kernel dead, to ride out a hiccup.
        """
        while not self._ended:
            await asyncio.sleep(WATCH_SECONDS)
            if not await self.heartbeat(HEARTBEAT_SECONDS) and not await self.heartbeat(HEARTBEAT_SECONDS):
                self._end(f"{self.address.label} died (no heartbeat); the debug session has ended")
                return
            try:
                info = await asyncio.wait_for(self._debug_future("debugInfo", {}), HEARTBEAT_SECONDS)
            except TimeoutError:
                continue  # the control thread is busy with a long request: alive, by the heartbeat
            if not (info.get("body") or {}).get("isStarted", True):
                self._end(
                    f"the debugger of {self.address.label} was stopped (the kernel restarted, or another "
                    "client detached it); the debug session has ended"
                )
                return

    def _end(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        log.warning("%s", reason)
        for future in [*self._pending.values(), *(e.future for e in self._executions.values())]:
            if not future.done():
                future.set_result({"success": False, "message": reason})
        self._pending.clear()
        self._executions.clear()
        self.sink.event("output", {"category": "important", "output": f"{reason}\n"})
        self.sink.event("terminated")

    # --- closing ----------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop talking to the kernel; a client that left without ``disconnect`` is detached here, so
        code stopped at one of its breakpoints resumes instead of hanging the session."""
        if self._closed:
            return
        self._closed = True
        if self._attached and not self._detached and not self._ended:
            self._detached = True
            try:
                await asyncio.wait_for(
                    self._debug_future("disconnect", {"restart": False, "terminateDebuggee": False}), self.timeout
                )
            except TimeoutError:
                log.warning("the debugger of %s did not acknowledge disconnect", self.address.label)
        self._ended = True
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in self._tasks if t is not current), return_exceptions=True)
        for future in self._pending.values():
            future.cancel()
        with contextlib.suppress(Exception):
            self.client.stop_channels()


def _result(command: str, content: dict[str, Any]) -> Result:
    """A kernel's debug_reply content as a result: ipykernel leaves out fields on some replies."""
    if not content:
        return failed(f"the kernel's debugger did not handle {command!r} (is it attached?)")
    if "success" not in content:
        return ok(content.get("body"))
    result: Result = {"success": bool(content["success"])}
    if "body" in content:
        result["body"] = content["body"]
    if not result["success"]:
        result["message"] = content.get("message") or f"{command} failed"
    return result


def _done(result: Result) -> asyncio.Future[Result]:
    future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
    future.set_result(result)
    return future


def _then(future: asyncio.Future[Any], convert: Any) -> asyncio.Future[Any]:
    """A future resolving to ``convert(result)`` of ``future`` (cancellation and errors pass through)."""
    out: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def relay(done: asyncio.Future[Any]) -> None:
        if out.done():
            return
        if done.cancelled():
            out.cancel()
        elif (exc := done.exception()) is not None:
            out.set_exception(exc)
        else:
            out.set_result(convert(done.result()))

    future.add_done_callback(relay)
    return out
