"""Run code on any jupyter_client-style kernel: send, collect, time out, interrupt, recover, classify.

This module knows nothing about how the kernel was obtained. ``run_code`` and ``stream_code`` take a
``RunnableKernel``: a client with ``execute`` / ``get_iopub_msg`` / ``get_shell_msg`` (jupyter_client's
``AsyncKernelClient`` or the gateway client) and a manager with ``interrupt_kernel`` / ``restart_kernel``
/ ``is_alive`` (jupyter_client's ``AsyncKernelManager``, so jupyter-server's MultiKernelManager kernels
and Enterprise Gateway kernels fit too). ``AttachedKernel`` wraps such a pair with no sandbox knowledge;
the local backend adds limit accounting through the same protocol.

Timeout policy: at the deadline the kernel is interrupted; if it is still busy after the grace period it
is restarted (its state is lost, and the result says so). A cancelled caller gets the same treatment, so
the kernel is usable for the next request either way. The clock stops while a debugger holds the code at
a breakpoint (IOPub ``debug_event`` stopped ... continued): a user inspecting variables is not a hung cell.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from .errors import KernelError
from .results import (
    EXIT_ERROR,
    EXIT_KILLED,
    EXIT_OK,
    EXIT_TIMEOUT,
    Error,
    ExecutionResult,
    OutputCollector,
    OutputItem,
    Stream,
    item_from_message,
)
from .settings import Limits, OutputLimits

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # silence after which the kernel's liveness is checked
EOF_REPLY = "\x04"  # what ipykernel's input() turns into EOFError
STDIN_POLL_SECONDS = 0.05  # IOPub silence after which pending input requests are answered

StdinReader = Callable[[str, bool], Awaitable[str | None]]
"""(prompt, password) -> the line the code reads (without its newline), or None at end-of-file."""


class KernelClientLike(Protocol):
    def execute(
        self,
        code: str,
        silent: bool = ...,
        store_history: bool = ...,
        user_expressions: dict[str, Any] | None = ...,
        allow_stdin: bool | None = ...,
        stop_on_error: bool = ...,
    ) -> str: ...

    async def get_iopub_msg(self, timeout: float | None = None) -> dict[str, Any]: ...

    async def get_shell_msg(self, timeout: float | None = None) -> dict[str, Any]: ...


class KernelManagerLike(Protocol):
    async def interrupt_kernel(self) -> None: ...

    async def is_alive(self) -> bool: ...


class RunnableKernel(Protocol):
    """A kernel ``run_code`` can drive; see ``AttachedKernel`` for the plain implementation."""

    @property
    def language(self) -> str: ...

    @property
    def client(self) -> KernelClientLike: ...

    @property
    def manager(self) -> KernelManagerLike: ...

    async def prepare(self) -> None:
        """Called before each execution (the local backend arms the per-execution CPU limit)."""

    async def limit_hit(self) -> str | None:
        """After an execution: the message of a limit the code hit that outputs do not show, or None."""

    async def death_reason(self) -> tuple[str, int | None]:
        """Why the kernel died: (message for the user, exit code to report: 137 for a resource limit,
        128+N for a kill by signal N; None when unknown, reported as 1)."""

    async def recover(self) -> None:
        """Restart the kernel (killing everything it started) and wait until it answers again."""


class AttachedKernel:
    """A jupyter_client manager + client pair, e.g. one of jupyter-server's MultiKernelManager kernels."""

    def __init__(self, manager: Any, client: Any, language: str = "", ready_timeout: float = 60.0) -> None:
        self.manager = manager
        self.client = client
        self.language = language
        self._ready_timeout = ready_timeout

    async def prepare(self) -> None:
        return None

    async def limit_hit(self) -> str | None:
        return None

    async def death_reason(self) -> tuple[str, int | None]:
        return "the kernel died", None

    async def recover(self) -> None:
        await self.manager.restart_kernel(now=True)
        await self.client.wait_for_ready(timeout=self._ready_timeout)


def classify_error(error: Error | None, limits: Limits | None) -> str | None:
    """The limit message for an error a limit caused (MemoryError, EFBIG, wrapper kernels' names)."""
    if error is None or limits is None:
        return None
    if error.ename in ("MemoryError", "MemoryLimitExceeded") and limits.memory_mb:
        return f"memory limit of {limits.memory_mb} MB exceeded"
    if error.ename == "CPUTimeLimitExceeded" and limits.cpu_seconds:
        return f"CPU time limit of {limits.cpu_seconds} s exceeded"
    if (error.ename == "FileSizeLimitExceeded" or "[Errno 27]" in error.evalue) and limits.file_size_mb:
        return f"file size limit of {limits.file_size_mb} MB exceeded"
    if error.ename == "ProcessLimitExceeded" and limits.processes:
        return f"process limit of {limits.processes} exceeded"
    return None


async def run_code(
    kernel: RunnableKernel,
    code: str,
    *,
    timeout: float,
    output_limits: OutputLimits | None = None,
    interrupt_grace: float = 3.0,
    limits: Limits | None = None,
    on_output: Callable[[OutputItem], None] | None = None,
    stdin: StdinReader | None = None,
) -> ExecutionResult:
    """Execute ``code`` and return its result; ``on_output`` sees each kept item as it arrives.

    What the code reads (``input()``: Jupyter's ``input_request``) comes from ``stdin``; without it, or
    once it returns None, reading gets end-of-file: code waiting for input never hangs the run.

    Never raises for faults of the code (errors, timeouts, limits, a kernel that dies): those are the
    result. Raises KernelError only when the kernel cannot be reached at all, and CancelledError after
    interrupting the kernel when the calling task is cancelled.
    """
    run = _Run(kernel, output_limits or OutputLimits(), interrupt_grace, limits, on_output, stdin)
    return await run.execute(code, timeout)


async def stream_code(
    kernel: RunnableKernel,
    code: str,
    *,
    timeout: float,
    output_limits: OutputLimits | None = None,
    interrupt_grace: float = 3.0,
    limits: Limits | None = None,
    stdin: StdinReader | None = None,
) -> AsyncIterator[OutputItem | ExecutionResult]:
    """Yield output items as they arrive, then the ``ExecutionResult``; closing early interrupts the run."""
    items: asyncio.Queue[OutputItem | None] = asyncio.Queue()
    task = asyncio.ensure_future(
        run_code(
            kernel,
            code,
            timeout=timeout,
            output_limits=output_limits,
            interrupt_grace=interrupt_grace,
            limits=limits,
            on_output=items.put_nowait,
            stdin=stdin,
        )
    )
    task.add_done_callback(lambda _: items.put_nowait(None))
    try:
        while (item := await items.get()) is not None:
            yield item
        yield task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class _Run:
    def __init__(
        self,
        kernel: RunnableKernel,
        output_limits: OutputLimits,
        grace: float,
        limits: Limits | None,
        on_output: Callable[[OutputItem], None] | None,
        stdin: StdinReader | None = None,
    ) -> None:
        self.kernel = kernel
        self.stdin = stdin
        self.stdin_ended = stdin is None
        self.answers = False  # the client can answer input requests (jupyter_client's can)
        self.collector = OutputCollector(output_limits)
        self.grace = grace
        self.limits = limits
        self.on_output = on_output
        self.msg_id = ""
        self.reply_status = ""
        self.got_idle = False
        self.got_reply = False
        self.paused_since: float | None = None  # when a debugger stopped the code, while it is stopped
        self.paused_total = 0.0

    def _paused(self, now: float) -> float:
        """Seconds the code has spent stopped in a debugger: they do not count against the timeout."""
        return self.paused_total + (now - self.paused_since if self.paused_since is not None else 0.0)

    def _add(self, item: OutputItem) -> None:
        kept = self.collector.add(item)
        if kept is not None and self.on_output is not None:
            self.on_output(kept)

    async def execute(self, code: str, timeout: float) -> ExecutionResult:
        start = time.monotonic()
        await self.kernel.prepare()
        client = self.kernel.client
        self.answers = hasattr(client, "get_stdin_msg") and hasattr(client, "input")
        try:
            self.msg_id = client.execute(code, store_history=True, allow_stdin=self.answers, stop_on_error=False)
        except Exception as exc:  # a closed socket or a gone gateway: the kernel cannot be reached
            raise KernelError(f"cannot send code to the {self.kernel.language} kernel: {exc}") from exc
        try:
            finished = await self._collect(start + timeout)
        except asyncio.CancelledError:
            await asyncio.shield(self._stop_after_cancel())
            raise
        if finished is None:  # the kernel died
            reason, exit_code = await self.kernel.death_reason()
            self._add(Error("KernelDied", f"{reason}; the kernel was restarted and its state was lost", ()))
            await self._recover()
            return self._result(EXIT_ERROR if exit_code is None else exit_code, start, reason)
        if not finished:  # timed out
            return await self._after_timeout(start, timeout)
        limit = await self.kernel.limit_hit()
        if limit is not None:
            self._add(Stream("stderr", f"\n{limit}; the kernel was restarted and its state was lost\n"))
            await self._recover()
            return self._result(EXIT_KILLED, start, limit)
        limit = classify_error(self.collector_error(), self.limits)
        if limit is not None:
            self._add(Stream("stderr", f"\n{limit}\n"))
            return self._result(EXIT_KILLED, start, limit)
        failed = self.reply_status in ("error", "aborted") or self.collector_error() is not None
        return self._result(EXIT_ERROR if failed else EXIT_OK, start, "")

    async def _answer_input(self) -> bool:
        """Answer this execution's pending ``input_request`` messages, from ``stdin`` or with EOF; whether
        there was one. Called when IOPub goes quiet (code reading input is silent), so a run that reads
        nothing pays no stdin round trip."""
        client: Any = self.kernel.client
        answered = False
        while True:
            try:
                msg = await client.get_stdin_msg(timeout=0)
            except queue.Empty:
                return answered
            if msg.get("parent_header", {}).get("msg_id") != self.msg_id:
                continue
            if msg.get("header", {}).get("msg_type") != "input_request":
                continue
            content = msg.get("content", {})
            line = None
            if not self.stdin_ended and self.stdin is not None:
                line = await self.stdin(str(content.get("prompt", "")), bool(content.get("password", False)))
                self.stdin_ended = line is None
            client.input(EOF_REPLY if line is None else line)
            answered = True

    def collector_error(self) -> Error | None:
        return next((i for i in reversed(self.collector.items()) if isinstance(i, Error)), None)

    def _result(self, exit_code: int, start: float, reason: str) -> ExecutionResult:
        return ExecutionResult(
            exit_code,
            self.collector.items(),
            time.monotonic() - start,
            self.collector.truncated,
            self.collector.dropped_bytes,
            reason,
            self.kernel.language,
        )

    async def _collect(self, deadline: float) -> bool | None:
        """Read until our request is idle and replied: True done, False deadline passed, None dead."""
        client = self.kernel.client
        quiet = 0.0  # seconds IOPub has been silent: past POLL_SECONDS, is the kernel still alive?
        while not (self.got_idle and self.got_reply):
            now = time.monotonic()
            remaining = deadline + self._paused(now) - now
            if remaining <= 0:
                return False
            if self.got_idle:  # the reply is already on its way; IOPub has nothing more for us
                replied = await self._read_reply(min(remaining, POLL_SECONDS))
                if not replied and not await self.kernel.manager.is_alive():
                    return None
                continue
            wait = min(remaining, STDIN_POLL_SECONDS if self.answers else POLL_SECONDS)
            try:
                msg = await client.get_iopub_msg(timeout=wait)
            except queue.Empty:
                quiet += wait
                if self.answers and await self._answer_input():
                    quiet = 0.0
                    continue
                if quiet < POLL_SECONDS and self.answers:
                    continue
                quiet = 0.0
                if not await self.kernel.manager.is_alive():
                    return None
                await self._read_reply(0)
                continue
            quiet = 0.0
            self._on_iopub(msg)
        return True

    async def _read_reply(self, timeout: float) -> bool:
        try:
            while True:
                msg = await self.kernel.client.get_shell_msg(timeout=timeout)
                if msg.get("parent_header", {}).get("msg_id") == self.msg_id:
                    self.got_reply = True
                    self.reply_status = msg.get("content", {}).get("status", "")
                    return True
        except queue.Empty:
            return False

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        msg_type = msg.get("header", {}).get("msg_type", msg.get("msg_type", ""))
        if msg_type == "debug_event":  # its parent is the debugger's request, not our execution
            self._on_debug_event(msg.get("content", {}).get("event", ""))
            return
        if msg.get("parent_header", {}).get("msg_id") != self.msg_id:
            return
        content = msg.get("content", {})
        if msg_type == "status":
            if content.get("execution_state") == "idle":
                self.got_idle = True
            return
        if msg_type == "clear_output":
            return
        item = item_from_message(msg_type, content)
        if item is not None:
            self._add(item)

    def _on_debug_event(self, event: str) -> None:
        now = time.monotonic()
        if event == "stopped" and self.paused_since is None:
            self.paused_since = now
        elif event in ("continued", "terminated", "exited") and self.paused_since is not None:
            self.paused_total += now - self.paused_since
            self.paused_since = None

    async def _after_timeout(self, start: float, timeout: float) -> ExecutionResult:
        note = f"timed out after {timeout:g} s"
        if await self._interrupt_and_wait():
            self._add(Stream("stderr", f"\n[{note}; the kernel was interrupted]\n"))
        else:
            self._add(
                Stream(
                    "stderr",
                    f"\n[{note}; the kernel did not stop when interrupted and was "
                    "restarted: its state was lost]\n",
                )
            )
            await self._recover()
        return self._result(EXIT_TIMEOUT, start, note)

    async def _interrupt_and_wait(self) -> bool:
        """Interrupt and drain until idle; False when the kernel is still busy after the grace period."""
        try:
            await self.kernel.manager.interrupt_kernel()
        except Exception as exc:
            log.warning("interrupting the %s kernel failed: %s", self.kernel.language, exc)
            return False
        finished = await self._collect(time.monotonic() + self.grace)
        return bool(finished)

    async def _stop_after_cancel(self) -> None:
        if not await self._interrupt_and_wait():
            await self._recover()

    async def _recover(self) -> None:
        try:
            await self.kernel.recover()
        except Exception:
            log.exception("restarting the %s kernel failed", self.kernel.language)
