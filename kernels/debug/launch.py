"""Launching a Python program under debugpy: checks the configuration, then relays to debugpy's adapter.

debugpy already implements the whole debugger (breakpoints with conditions, hit counts and log
messages, exception breakpoints, stepping, stack traces, variables, evaluate); its adapter
(``python -m debugpy.adapter``) speaks DAP on stdio. ``LaunchTarget`` runs one adapter per debug
session and relays with its own sequence numbers both ways, so the session's replies and debugpy's
stay consistent, and debugpy's requests to the client (``runInTerminal``) reach the client.

What it adds: errors a user can act on before anything starts (a missing program, cwd or
interpreter), frozen modules off in the debuggee (or breakpoints in the standard library are missed,
and CPython 3.11+ prints a warning), and the internal console when the client cannot run a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from .errors import AdapterStartError, DebugConfigError, ProgramNotFoundError
from .protocol import Message, MessageReader, MessageWriter, ProtocolError
from .target import Result, TargetSink, failed

log = logging.getLogger(__name__)

START_SECONDS = 20.0
EXIT_SECONDS = 3.0
FROZEN_OFF = "-Xfrozen_modules=off"


def adapter_command() -> list[str]:
    return [sys.executable, FROZEN_OFF, "-m", "debugpy.adapter"]


def prepare_launch(arguments: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    """The launch arguments to give debugpy; raises ProgramNotFoundError / DebugConfigError.

    ``client`` is the client's ``initialize`` arguments (to know whether it can run a terminal).
    """
    args = dict(arguments)
    targets = [key for key in ("program", "module", "code") if args.get(key)]
    if not targets:
        raise DebugConfigError('a launch configuration needs "program" (a file), "module" or "code"')
    if len(targets) > 1:
        raise DebugConfigError(f'"program", "module" and "code" exclude each other; got {", ".join(targets)}')
    cwd = args.get("cwd")
    if cwd:
        folder = Path(str(cwd)).expanduser()
        if not folder.is_dir():
            raise ProgramNotFoundError("working folder (cwd)", str(folder))
        args["cwd"] = str(folder.resolve())
    if args.get("program"):
        program = Path(str(args["program"])).expanduser()
        if not program.is_absolute():
            program = Path(args.get("cwd") or os.getcwd()) / program
        if not program.is_file():
            raise ProgramNotFoundError("program", str(program))
        args["program"] = str(program.resolve())
    python = args.get("python") or args.get("pythonPath")
    if python:
        argv = [python] if isinstance(python, str) else list(python)
        if not argv or not isinstance(argv[0], str) or not argv[0]:
            raise DebugConfigError('"python" must be an interpreter path or a list [path, args...]')
        found = shutil.which(os.path.expanduser(argv[0]))
        if found is None:
            raise ProgramNotFoundError("python interpreter", argv[0])
        args.pop("pythonPath", None)
        args["python"] = [found, *argv[1:]]
    python_args = [str(a) for a in args.get("pythonArgs") or []]
    if not any("frozen_modules" in a for a in python_args):
        python_args.insert(0, FROZEN_OFF)
    args["pythonArgs"] = python_args
    if "console" not in args and not client.get("supportsRunInTerminalRequest"):
        args["console"] = "internalConsole"
    env = args.get("env")
    if env is not None and (
        not isinstance(env, dict) or not all(isinstance(v, str | None) for v in env.values())
    ):
        raise DebugConfigError('"env" must map variable names to strings')
    return args


class LaunchTarget:
    """A DebugTarget that runs a program under debugpy's adapter (one adapter process per session)."""

    def __init__(self, sink: TargetSink, client: dict[str, Any]) -> None:
        self.sink = sink
        self.client = client
        self.capabilities: dict[str, Any] = {}
        self._process: asyncio.subprocess.Process | None = None
        self._writer: MessageWriter | None = None
        self._seq = 0
        self._pending: dict[int, asyncio.Future[Result]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader_task: asyncio.Task[None] | None = None
        self._closing = False

    async def start(self, request: Message) -> asyncio.Future[Result]:
        arguments = prepare_launch(request.get("arguments") or {}, self.client)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *adapter_command(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=64 * 1024 * 1024,
            )
        except OSError as exc:
            raise AdapterStartError(f"cannot start debugpy's adapter ({sys.executable}): {exc}") from exc
        assert self._process.stdin is not None and self._process.stdout is not None
        self._writer = MessageWriter(self._process.stdin)
        self._reader_task = asyncio.create_task(self._read(MessageReader(self._process.stdout)))
        initialize = {**self.client, "adapterID": "debugpy"}
        try:
            reply = await asyncio.wait_for(self._request("initialize", initialize), START_SECONDS)
        except TimeoutError as exc:
            await self.close()
            raise AdapterStartError(f"debugpy's adapter did not answer within {START_SECONDS:g} s") from exc
        if not reply.get("success"):
            await self.close()
            raise AdapterStartError(f"debugpy's adapter refused to start: {reply.get('message')}")
        self.capabilities = dict(reply.get("body") or {})
        self.sink.event("capabilities", {"capabilities": self.capabilities})
        return self._request(request.get("command", "launch"), arguments)

    def send(self, request: Message) -> asyncio.Future[Result]:
        return self._request(request.get("command", ""), request.get("arguments"))

    def _request(self, command: str, arguments: dict[str, Any] | None) -> asyncio.Future[Result]:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        if self._writer is None or self._reader_task is None or self._reader_task.done():
            future.set_result(failed("debugpy's adapter is not running"))
            return future
        self._seq += 1
        message: Message = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        self._pending[self._seq] = future
        self._writer.write(message)
        self._spawn(self._writer.drain())
        return future

    async def _read(self, reader: MessageReader) -> None:
        try:
            while (message := await reader.read()) is not None:
                kind = message.get("type")
                if kind == "response":
                    future = self._pending.pop(int(message.get("request_seq", -1)), None)
                    if future is not None and not future.done():
                        future.set_result(_result(message))
                elif kind == "event":
                    self.sink.event(str(message.get("event", "")), message.get("body"))
                elif kind == "request":
                    self._spawn(self._reverse(message))
        except ProtocolError as exc:
            log.error("debugpy's adapter sent something unreadable: %s", exc)
        finally:
            self._adapter_gone()

    def _adapter_gone(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_result(failed("debugpy's adapter exited"))
        self._pending.clear()
        if not self._closing:
            code = self._process.returncode if self._process is not None else None
            log.warning("debugpy's adapter exited unexpectedly (status %s)", code)
            self.sink.event("output", {"category": "important", "output": "debugpy's adapter exited\n"})
            self.sink.event("terminated")

    async def _reverse(self, message: Message) -> None:
        """Ask the client what debugpy asks (``runInTerminal``) and give debugpy the answer."""
        reply = await self.sink.reverse_request(str(message.get("command")), message.get("arguments") or {})
        self._seq += 1
        answer: Message = {
            "seq": self._seq,
            "type": "response",
            "request_seq": message.get("seq", 0),
            "command": message.get("command", ""),
            "success": bool(reply.get("success")),
        }
        for key in ("body", "message"):
            if key in reply:
                answer[key] = reply[key]
        if self._writer is not None:
            self._writer.write(answer)
            await self._writer.drain()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Close the adapter's stdin (it exits when its client leaves), then make sure it is gone."""
        self._closing = True
        process = self._process
        if self._writer is not None:
            await self._writer.close()
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), EXIT_SECONDS)
            except TimeoutError:
                log.info("debugpy's adapter did not exit; terminating it")
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), EXIT_SECONDS)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    await process.wait()
        if self._reader_task is not None:
            self._reader_task.cancel()
            await asyncio.gather(self._reader_task, return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _result(message: Message) -> Result:
    result: Result = {"success": bool(message.get("success"))}
    for key in ("body", "message"):
        if key in message:
            result[key] = message[key]
    return result
