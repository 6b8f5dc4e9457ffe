"""A small DAP client for the tests: drives `nexus dap` as an editor would, over stdio or TCP.

Events are kept in arrival order; ``wait_event`` hands out each one once, so waiting for an event
that already arrived returns at once instead of hanging. ``runInTerminal`` is answered as an editor
does, by starting the command (without a terminal: its output is kept in ``terminal_output``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

from nexus.kernels.debug.protocol import Message, MessageReader, MessageWriter

TIMEOUT = 30.0


class DapError(AssertionError):
    pass


class DapClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = MessageReader(reader)
        self._writer = MessageWriter(writer)
        self._seq = 0
        self._pending: dict[int, asyncio.Future[Message]] = {}
        self.events: list[Message] = []
        self._taken: set[int] = set()
        self._changed = asyncio.Condition()
        self.reverse_requests: list[Message] = []
        self.process: asyncio.subprocess.Process | None = None
        self.terminals: list[asyncio.subprocess.Process] = []
        self.terminal_output: list[bytes] = []
        self._background: set[asyncio.Future[None]] = set()
        self._task = asyncio.create_task(self._read())
        self.closed = asyncio.Event()

    @classmethod
    async def stdio(cls, env: dict[str, str] | None = None, cwd: str | None = None) -> DapClient:
        return await cls.spawn([sys.executable, "-m", "nexus.cli", "dap"], env, cwd)

    @classmethod
    async def spawn(cls, argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> DapClient:
        """Start a debug adapter command (an editor's configured adapter) and talk to it on stdio."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        assert process.stdin is not None and process.stdout is not None
        client = cls(process.stdout, process.stdin)  # type: ignore[arg-type]
        client.process = process
        return client

    async def _read(self) -> None:
        try:
            while (message := await self._reader.read()) is not None:
                kind = message["type"]
                if kind == "response":
                    future = self._pending.pop(message["request_seq"], None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif kind == "event":
                    async with self._changed:
                        self.events.append(message)
                        self._changed.notify_all()
                elif kind == "request":
                    self.reverse_requests.append(message)
                    self._keep(self._answer(message))
        finally:
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    def _keep(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _answer(self, message: Message) -> None:
        reply: Message = {"type": "response", "request_seq": message["seq"], "command": message["command"]}
        if message["command"] == "runInTerminal":
            args = message["arguments"]
            env = {**os.environ, **{k: v for k, v in (args.get("env") or {}).items() if v is not None}}
            process = await asyncio.create_subprocess_exec(
                *args["args"], cwd=args.get("cwd"), env=env, stdout=asyncio.subprocess.PIPE
            )
            self.terminals.append(process)
            self._keep(self._keep_output(process))
            reply.update(success=True, body={"processId": process.pid})
        else:
            reply.update(success=False, message="not supported by the test client")
        self._seq += 1
        self._writer.write({"seq": self._seq, **reply})

    async def _keep_output(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        self.terminal_output.append(await process.stdout.read())

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> asyncio.Future[Message]:
        """Send a request; the future resolves to its response (launch is answered late by debugpy)."""
        self._seq += 1
        message: Message = {"seq": self._seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[self._seq] = future
        self._writer.write(message)
        return future

    async def request(self, command: str, arguments: dict[str, Any] | None = None) -> Message:
        return await asyncio.wait_for(self.send(command, arguments), TIMEOUT)

    async def ok(self, command: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """The body of a successful response; a failed one raises with the adapter's message."""
        reply = await self.request(command, arguments)
        if not reply["success"]:
            raise DapError(f"{command} failed: {reply.get('message')}")
        body: dict[str, Any] = reply.get("body") or {}
        return body

    async def wait_event(
        self, name: str, predicate: Callable[[Message], bool] | None = None, timeout: float = TIMEOUT
    ) -> Message:
        """The first not yet returned event called ``name`` (matching ``predicate``), waiting for it."""

        def find() -> Message | None:
            for index, message in enumerate(self.events):
                if index in self._taken or message.get("event") != name:
                    continue
                if predicate is None or predicate(message):
                    self._taken.add(index)
                    return message
            return None

        async def wait() -> Message:
            async with self._changed:
                while True:
                    found = find()
                    if found is not None:
                        return found
                    if self.closed.is_set():
                        raise DapError(f"the adapter closed the stream before a {name!r} event")
                    await self._changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    def output(self, category: str | None = None) -> str:
        return "".join(
            e["body"].get("output", "")
            for e in self.events
            if e["event"] == "output" and (category is None or e["body"].get("category") == category)
        )

    async def initialize(self, **extra: Any) -> dict[str, Any]:
        return await self.ok(
            "initialize",
            {
                "clientID": "pytest",
                "adapterID": "nexus",
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsVariableType": True,
                **extra,
            },
        )

    async def close(self) -> int | None:
        """Close stdin and wait for the adapter to exit; returns its exit status."""
        with contextlib.suppress(Exception):
            await self._writer.close()
        code = None
        if self.process is not None:
            try:
                code = await asyncio.wait_for(self.process.wait(), TIMEOUT)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        for terminal in self.terminals:
            await asyncio.wait_for(terminal.wait(), TIMEOUT)
        return code
