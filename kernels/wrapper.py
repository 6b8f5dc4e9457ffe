"""Shared machinery of the wrapper kernels (JavaScript, TypeScript, Java, C++).

Each wrapper kernel is an ipykernel ``Kernel`` subclass (the documented way to write one) that runs the
language in a child process and relays what it prints as IOPub messages. This module holds what they
share: publishing outputs, interrupts, and ``RunnerProcess`` for runtimes that stay alive between cells
and speak a line protocol (Node.js, the JShell runner).

Interrupts: the kernelspecs use ``interrupt_mode: message``, so ipykernel's control thread signals the
kernel process itself (that also works under bubblewrap, where the kernel is not the process-group
leader). During an execution the wrapper replaces ipykernel's ``KeyboardInterrupt`` (which would break
the asyncio loop the wrapper awaits on) with a handler that forwards SIGINT to the child's own process
group; each runtime turns it into its language's interrupt.

A runner writes protocol lines (``\\x1eNX`` and one JSON object) to a pipe of its own, whose number it
finds in ``NEXUS_PROTOCOL_FD``; the captured output of user code travels in the same ordered channel.
Its real stdout and stderr (grandchild processes, a runtime's fatal errors) are shown as plain text.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from ipykernel.kernelbase import Kernel

log = logging.getLogger(__name__)

MARK = b"\x1eNX"
PIPE_LIMIT = 16 * 1024 * 1024


def memory_mb() -> int:
    try:
        return int(os.environ.get("NEXUS_MEMORY_MB", "0"))
    except ValueError:
        return 0


_SCRATCH: list[str] = []


def kernel_dir() -> str:
    """The kernel's own folder for build outputs: the sandbox's (``NEXUS_KERNEL_DIR``), else a private
    folder in Nexus's cache folder removed when the kernel exits; never the working folder, which for a
    kernel jupyter-server started is the user's notebook folder."""
    given = os.environ.get("NEXUS_KERNEL_DIR")
    if given:
        return given
    if not _SCRATCH:
        from nexus.engine.config import user_cache_dir

        try:
            base = user_cache_dir() / "kernels"
            base.mkdir(parents=True, exist_ok=True)
            folder = tempfile.mkdtemp(prefix=f"scratch-{os.getpid()}-", dir=base)
        except OSError:
            folder = tempfile.mkdtemp(prefix="nexus-kernel-")
        atexit.register(shutil.rmtree, folder, True)
        _SCRATCH.append(folder)
    return _SCRATCH[0]


class WrapperKernel(Kernel):
    """Base of the wrapper kernels: output helpers and SIGINT forwarding to ``interrupt_targets``."""

    implementation = "nexus"
    implementation_version = "0.1"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interrupted = False

    @property
    def kernel_info(self) -> dict[str, Any]:
        # ipykernel's base Kernel lists "debugger" whenever debugpy is importable, but only its Python
        # kernel has one: a debugger client would send debug requests that are never answered
        info = dict(super().kernel_info)
        info["supported_features"] = [f for f in info.get("supported_features", []) if f != "debugger"]
        return info

    # --- outputs ------------------------------------------------------------------------------

    def stream(self, name: str, text: str) -> None:
        if text:
            self.send_response(self.iopub_socket, "stream", {"name": name, "text": text})

    def display(self, data: dict[str, Any], result: bool = False) -> None:
        if result:
            self.send_response(
                self.iopub_socket,
                "execute_result",
                {"execution_count": self.execution_count, "data": data, "metadata": {}},
            )
        else:
            self.send_response(self.iopub_socket, "display_data", {"data": data, "metadata": {}})

    def error(self, ename: str, evalue: str, traceback: Sequence[str] = ()) -> dict[str, Any]:
        """Publish an ``error`` output and return the matching execute reply."""
        content = {"ename": ename, "evalue": evalue, "traceback": list(traceback) or [f"{ename}: {evalue}"]}
        self.send_response(self.iopub_socket, "error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}

    def ok(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "execution_count": self.execution_count,
            "payload": [],
            "user_expressions": {},
        }

    # --- interrupts ---------------------------------------------------------------------------

    def interrupt_targets(self) -> list[int]:
        """Process ids whose process groups receive SIGINT when the cell is interrupted."""
        return []

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        for pid in self.interrupt_targets():
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGINT)

    def pre_handler_hook(self) -> None:
        self.interrupted = False
        self.saved_sigint_handler = signal.signal(signal.SIGINT, self._on_sigint)

    def post_handler_hook(self) -> None:
        signal.signal(signal.SIGINT, self.saved_sigint_handler)

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        await self.stop_children()
        return {"status": "ok", "restart": restart}

    async def stop_children(self) -> None:
        return None


def _die_with_parent() -> None:
    """In the child before exec: be killed when the wrapper kernel dies, so no runtime outlives it."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


async def spawn(
    argv: Sequence[str],
    *,
    stdin: bool = True,
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    pass_fds: Sequence[int] = (),
) -> asyncio.subprocess.Process:
    """Start a child in its own process group, killed with the kernel (see ``_die_with_parent``)."""
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
        limit=PIPE_LIMIT,
        preexec_fn=_die_with_parent,
        pass_fds=tuple(pass_fds),
    )


def kill_group(process: asyncio.subprocess.Process | None, sig: int = signal.SIGKILL) -> None:
    if process is not None and process.returncode is None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, sig)


class RunnerProcess:
    """A long-lived runtime speaking the ``\\x1eNX{json}`` line protocol on its protocol pipe.

    ``events()`` yields protocol objects until one of type ``done`` (inclusive); raw stdout lines and
    stderr text go to ``on_text``. ``stderr_tail`` keeps the last few KB of stderr so a crash (V8's
    "heap out of memory", a JVM error) can be explained.
    """

    def __init__(
        self,
        argv: Sequence[str],
        on_text: Callable[[str, str], None],
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.on_text = on_text
        self.process: asyncio.subprocess.Process | None = None
        self.stderr_tail = ""
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self, ready_timeout: float = 60.0) -> None:
        self._events = asyncio.Queue()
        self.stderr_tail = ""
        read_fd, write_fd = os.pipe()
        env = dict(self.env if self.env is not None else os.environ, NEXUS_PROTOCOL_FD=str(write_fd))
        try:
            self.process = await spawn(self.argv, env=env, cwd=self.cwd, pass_fds=(write_fd,))
        finally:
            os.close(write_fd)
        loop = asyncio.get_running_loop()
        protocol_reader = asyncio.StreamReader(limit=PIPE_LIMIT, loop=loop)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(protocol_reader, loop=loop),
            os.fdopen(read_fd, "rb", buffering=0),
        )
        self._tasks = [
            asyncio.ensure_future(self._read_protocol(protocol_reader)),
            asyncio.ensure_future(self._read_stream("stdout")),
            asyncio.ensure_future(self._read_stream("stderr")),
        ]
        event = await asyncio.wait_for(self._events.get(), ready_timeout)
        if event is None or event.get("type") != "ready":
            await self.process.wait()
            raise RuntimeError(
                f"{self.argv[0]} exited while starting (status {self.process.returncode})"
                f"{': ' + self.stderr_tail.strip()[-1500:] if self.stderr_tail.strip() else ''}"
            )

    async def _read_protocol(self, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                if line.startswith(MARK):
                    try:
                        self._events.put_nowait(json.loads(line[len(MARK) :]))
                        continue
                    except json.JSONDecodeError:
                        pass
                log.warning("runner wrote a malformed protocol line: %r", line[:200])
        finally:
            self._events.put_nowait(None)  # the protocol pipe closed: the runtime exited

    async def _read_stream(self, name: str) -> None:
        assert self.process is not None
        pipe = self.process.stdout if name == "stdout" else self.process.stderr
        assert pipe is not None
        while chunk := await pipe.read(65536):
            text = chunk.decode("utf-8", "replace")
            if name == "stderr":
                self.stderr_tail = (self.stderr_tail + text)[-8192:]
            self.on_text(name, text)

    def send(self, line: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(line.encode("utf-8") + b"\n")

    async def events(self) -> Any:
        """Yield protocol events up to and including ``done``; yields None if the runtime died."""
        while True:
            event = await self._events.get()
            yield event
            if event is None or event.get("type") == "done":
                return

    async def wait_exit(self) -> int | None:
        if self.process is None:
            return None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.process.wait(), 5)
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 2)
        return self.process.returncode

    async def stop(self) -> None:
        kill_group(self.process)
        await self.wait_exit()


def exit_description(code: int | None) -> str:
    if code is None:
        return "is still running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def limit_error_for(code: int | None, stderr_tail: str, heap_words: Sequence[str]) -> tuple[str, str] | None:
    """(ename, evalue) when a child's death looks like a resource limit, for the service to classify."""
    mb = memory_mb()
    if any(word in stderr_tail for word in heap_words) or "std::bad_alloc" in stderr_tail:
        return "MemoryLimitExceeded", f"memory limit of {mb} MB exceeded"
    if code == -signal.SIGXCPU:
        return "CPUTimeLimitExceeded", "CPU time limit exceeded"
    if code == -signal.SIGXFSZ:
        return "FileSizeLimitExceeded", "file size limit exceeded"
    return None


def launch(kernel_class: type[Kernel]) -> None:
    """Entry point of ``python -m nexus.kernels.<language> -f CONNECTION_FILE``."""
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=kernel_class)


class RunnerKernel(WrapperKernel):
    """A wrapper kernel whose language lives in one long-lived ``RunnerProcess`` (Node.js, the JVM).

    Subclasses say how to start the runtime (``runner_argv``), how a cell is sent (``request``), and which
    stderr words mean its heap limit was hit (``heap_words``). If the runtime dies, the cell gets an
    error saying how (a limit, a crash, ``System.exit``) and the next cell starts a fresh one.
    """

    runtime_name = "the runtime"
    heap_words: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner: RunnerProcess | None = None
        self._next_id = 0

    def runner_argv(self) -> list[str]:
        raise NotImplementedError

    def runner_env(self) -> dict[str, str]:
        return dict(os.environ)

    def unavailable(self) -> str | None:
        """Why the runtime cannot start here (something to install), or None."""
        return None

    def request(self, request_id: int, code: str) -> str:
        return json.dumps({"id": request_id, "code": code})

    async def ensure_runner(self) -> str | None:
        """Start the runtime when it is not running; returns an error message when it cannot start."""
        if self.runner is not None and self.runner.alive:
            return None
        problem = self.unavailable()
        if problem is not None:
            return problem
        try:
            self.runner = RunnerProcess(
                self.runner_argv(), self.stream, env=self.runner_env(), cwd=os.getcwd()
            )
            await self.runner.start()
        except (OSError, RuntimeError, TimeoutError) as exc:
            self.runner = None
            return f"{self.runtime_name} could not start: {exc}"
        return None

    async def kernel_info_request(self, stream: Any, ident: Any, parent: Any) -> None:
        # the service waits for this reply: answering once the runtime is up makes a pooled kernel warm
        await self.ensure_runner()
        await super().kernel_info_request(stream, ident, parent)

    def interrupt_targets(self) -> list[int]:
        if self.runner is not None and self.runner.process is not None and self.runner.alive:
            return [self.runner.process.pid]
        return []

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: Any = None,
        allow_stdin: bool = False,
        **_: Any,
    ) -> dict[str, Any]:
        problem = await self.ensure_runner()
        if problem is not None:
            return self.error("RuntimeUnavailable", problem)
        assert self.runner is not None
        self._next_id += 1
        try:
            self.runner.send(self.request(self._next_id, code))
        except (OSError, RuntimeError):
            return await self._runner_died()
        reply = self.ok()
        async for event in self.runner.events():
            if event is None:
                return await self._runner_died()
            kind = event.get("type")
            if kind == "stream":
                self.stream(event.get("name", "stdout"), event.get("text", ""))
            elif kind == "display":
                self.display(event.get("data", {}))
            elif kind == "result":
                self.display(event.get("data", {}), result=True)
            elif kind == "error":
                reply = self.error(
                    event.get("ename", "Error"), event.get("evalue", ""), event.get("traceback", [])
                )
            elif kind == "async_error":
                self.stream("stderr", "\n".join(event.get("traceback", [])) + "\n")
        return reply

    async def _runner_died(self) -> dict[str, Any]:
        assert self.runner is not None
        code = await self.runner.wait_exit()
        tail = self.runner.stderr_tail
        self.runner = None
        limit = limit_error_for(code, tail, self.heap_words)
        if limit is not None:
            ename, evalue = limit
            return self.error(
                ename, f"{evalue}; {self.runtime_name} was restarted and the kernel's state was lost"
            )
        return self.error(
            "RuntimeDied",
            f"{self.runtime_name} {exit_description(code)}; it will be restarted "
            "on the next cell and the kernel's state was lost",
        )

    async def stop_children(self) -> None:
        if self.runner is not None:
            await self.runner.stop()
