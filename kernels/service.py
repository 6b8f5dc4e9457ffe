"""The execution service every face calls: one-shot runs, streaming, stateful sessions, warm pools.

    service = ExecutionService(settings)            # LocalBackend, or GatewayBackend with gateway_url
    await service.start()                            # fills the warm pools, starts the idle culler
    result = await service.execute("print(1)", "python")          # fresh namespace, from the pool
    result.to_json()  # {"output": "1\\n", "exitCode": 0, "executionTime": 7, "outputs": [...]}
    async for event in service.stream(code, "javascript", session_id="doc-1"):
        ...                                         # OutputItem..., then the ExecutionResult
    await service.interrupt("doc-1"); await service.restart("doc-1"); await service.shutdown("doc-1")
    kernel = service.kernel("doc-1")                 # for the debugger: kernel.client is jupyter_client's
    await service.close()

Local sessions are advertised in a ``SessionRegistry`` (``nexus.kernels.debug.registry``) while they
live, so ``nexus dap`` in another process can attach a debugger to them by session id.

One-shot runs take a pre-started kernel from the language's pool and discard it afterwards (a fresh
namespace each time, with no ``%reset`` leftovers such as imported modules or a changed cwd); the pool
is refilled in the background. Sessions keep one kernel per id, serialize their executions, and are
shut down after ``cull_idle_seconds`` without use.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, Self

from .backend import Kernel, KernelBackend, LocalBackend
from .debug.registry import SessionRegistry
from .errors import KernelError, NoSuchSessionError, SandboxUnavailableError
from .execution import StdinReader, run_code, stream_code
from .languages import LANGUAGES, Language
from .results import ExecutionResult, OutputItem
from .settings import KernelSettings

log = logging.getLogger(__name__)

StreamEvent = OutputItem | ExecutionResult


@dataclasses.dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str
    language: str
    kernel_id: str
    busy: bool
    idle_seconds: float


@dataclasses.dataclass(frozen=True, slots=True)
class LanguageStatus:
    name: str
    display_name: str
    ready: bool
    detail: str  # what to install when not ready


@dataclasses.dataclass(slots=True)
class _Session:
    session_id: str
    kernel: Kernel
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    last_used: float = dataclasses.field(default_factory=time.monotonic)


class ExecutionService:
    """Runs code in kernels for the LSP server, the WebSocket gateway, the Jupyter extension and the CLI."""

    def __init__(
        self,
        settings: KernelSettings | None = None,
        backend: KernelBackend | None = None,
        registry: SessionRegistry | None = None,
        *,
        require_isolation: bool = False,
    ) -> None:
        """``registry``: where sessions are advertised for debuggers (default: the user's runtime folder).

        ``require_isolation``: refuse to run code (SandboxUnavailableError) when the backend's kernels are
        not sandboxed and the admin did not opt in with ``kernels.allow_unsandboxed``: the gateway and the
        Jupyter extension pass True, because they run other people's code; ``nexus run`` does not.
        """
        self.settings = settings or KernelSettings()
        self.require_isolation = require_isolation
        self.registry = registry or SessionRegistry()
        if backend is None:
            backend = _default_backend(self.settings)
        self.backend = backend
        self._pools: dict[str, list[Kernel]] = {}
        self._filling: dict[str, asyncio.Task[None]] = {}
        self._sessions: dict[str, _Session] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._culler: asyncio.Task[None] | None = None
        self._closed = False
        self._check_isolation(warn=True)

    def _check_isolation(self, warn: bool = False) -> None:
        isolation = self.backend.isolation()
        if isolation.available:
            return
        if self.require_isolation and not self.settings.allow_unsandboxed:
            if warn:
                log.warning("code execution will be refused: %s", isolation.detail)
                return
            raise SandboxUnavailableError(isolation.detail)
        if warn:
            log.warning("kernels run UNSANDBOXED (%s): code can read and change whatever this service can",
                        isolation.detail)

    def isolation(self) -> dict[str, object]:
        """Whether code runs sandboxed here, and whether this service would refuse to run it."""
        found = self.backend.isolation()
        refused = self.require_isolation and not found.available and not self.settings.allow_unsandboxed
        return {"sandboxed": found.available, "detail": found.detail, "refused": refused}

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self, prewarm: bool = True) -> None:
        """Start the idle culler and, with ``prewarm``, fill the configured pools (in the background)."""
        if self._culler is None and self.settings.cull_idle_seconds > 0:
            self._culler = asyncio.create_task(self._cull_forever())
        if prewarm and not self.isolation()["refused"]:
            for language, size in self.settings.pool.items():
                if size > 0:
                    self._refill(self.backend.check(language))

    async def wait_warm(self, language: str, timeout: float | None = None) -> None:
        """Wait until ``language``'s pool has been filled (for benchmarks and start-up probes)."""
        task = self._filling.get(self.backend.check(language))
        if task is not None:
            await asyncio.wait_for(asyncio.shield(task), timeout)

    # --- running code -------------------------------------------------------------------------

    async def execute(
        self,
        code: str,
        language: str = "python",
        *,
        session_id: str | None = None,
        timeout: float | None = None,
        writable: bool = False,
        stdin: StdinReader | None = None,
    ) -> ExecutionResult:
        """Run ``code``; with ``session_id`` in that session's kernel (created on first use).

        ``stdin`` answers what the code reads (``input()``); without it reading gets end-of-file.

        ``writable``: the workspace is mounted read-write for this run (a one-shot run then gets a fresh
        kernel rather than a pooled, read-only one; a session keeps what its first use asked for).
        Raises UnknownLanguageError, ToolchainMissingError, KernelStartError, SandboxUnavailableError;
        faults of the code itself are in the result. Cancelling the calling task interrupts the kernel,
        which stays usable.
        """
        async with self._acquire(language, session_id, timeout, writable) as (kernel, seconds):
            result = await run_code(
                kernel,
                code,
                timeout=seconds,
                output_limits=self.settings.output_limits,
                interrupt_grace=self.settings.interrupt_grace_seconds,
                limits=getattr(kernel, "limits", None),
                stdin=stdin,
            )
        return dataclasses.replace(result, session_id=session_id) if session_id is not None else result

    async def stream(
        self,
        code: str,
        language: str = "python",
        *,
        session_id: str | None = None,
        timeout: float | None = None,
        writable: bool = False,
        stdin: StdinReader | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Yield each output item as it arrives, then the ``ExecutionResult``; same errors,
        ``writable`` and ``stdin`` as ``execute``. Closing the iterator early (``aclose()``, or a cancelled consumer)
        interrupts the run.
        """
        async with self._acquire(language, session_id, timeout, writable) as (kernel, seconds):
            async for event in stream_code(
                kernel,
                code,
                timeout=seconds,
                output_limits=self.settings.output_limits,
                interrupt_grace=self.settings.interrupt_grace_seconds,
                limits=getattr(kernel, "limits", None),
                stdin=stdin,
            ):
                if isinstance(event, ExecutionResult) and session_id is not None:
                    event = dataclasses.replace(event, session_id=session_id)
                yield event

    async def stream_file(
        self,
        path: str | os.PathLike[str],
        args: Sequence[str] = (),
        *,
        language: str | None = None,
        cwd: str | os.PathLike[str] | None = None,
        writable: bool = False,
        stdin: int | bytes | None = None,
        timeout: float | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Run the file ``path`` as its language's own runner would (``python FILE ARGS``, ``node FILE``,
        ``java FILE``, ``g++ FILE && ./a.out``; see ``program_run``), in the sandbox, in ``cwd`` (default:
        the file's folder), with the file's folder and ``cwd`` mounted (read-write with ``writable``).

        ``stdin``: a descriptor the program inherits, bytes it reads, or None (end-of-file). Yields output
        as it arrives, then the ``ExecutionResult`` (exit code = the program's; ``errors`` located in the
        user's files). Raises UnknownLanguageError / UnknownFileTypeError (an extension no language
        runs), ToolchainMissingError, SandboxUnavailableError, NotFoundError (no such file) and
        KernelError (a backend that cannot run files: a remote gateway).
        """
        from nexus.engine.errors import NotFoundError

        from .program_run import FileRun, absolute

        self._check_open()
        self._check_isolation()
        seconds = self.settings.timeout_seconds if timeout is None else timeout
        if seconds <= 0:
            raise ValueError("timeout must be positive")
        target = absolute(path)
        if not target.is_file():
            raise NotFoundError(f"{path}: no such file")
        folder = absolute(cwd) if cwd is not None else None
        if folder is not None and not folder.is_dir():
            raise NotFoundError(f"{cwd}: no such folder")
        runner = getattr(self.backend, "stream_file", None)
        if runner is None:
            raise KernelError(f"the {self.backend.name} backend cannot run files (kernels on a remote gateway "
                              "do not see this machine's files): run the code (-c) instead")
        run = FileRun(target, tuple(args), folder, language, writable, stdin)
        events = runner(run, timeout=seconds, output_limits=self.settings.output_limits)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()

    async def run_file(self, path: str | os.PathLike[str], args: Sequence[str] = (), **options: Any) -> ExecutionResult:
        """``stream_file`` collected: the ``ExecutionResult`` (same arguments and errors)."""
        result: ExecutionResult | None = None
        async for event in self.stream_file(path, args, **options):
            if isinstance(event, ExecutionResult):
                result = event
        assert result is not None
        return result

    @contextlib.asynccontextmanager
    async def _acquire(
        self, language: str, session_id: str | None, timeout: float | None, writable: bool = False
    ) -> AsyncIterator[tuple[Kernel, float]]:
        """The kernel to run on: the session's (held under its lock) or a pooled one, discarded after."""
        self._check_open()
        self._check_isolation()
        language = self.backend.check(language)
        seconds = self.settings.timeout_seconds if timeout is None else timeout
        if seconds <= 0:
            raise ValueError("timeout must be positive")
        if session_id is None:
            kernel = await (self.backend.start(language, writable=True) if writable else self._take(language))
            try:
                yield kernel, seconds
            finally:
                self._discard(kernel)
            return
        session = await self._session(session_id, language, writable)
        async with session.lock:
            session.last_used = time.monotonic()
            try:
                yield session.kernel, seconds
            finally:
                session.last_used = time.monotonic()

    # --- sessions -----------------------------------------------------------------------------

    async def open_session(
        self, language: str = "python", session_id: str | None = None, writable: bool = False
    ) -> str:
        """Start a session's kernel now (rather than on its first execution); returns its id."""
        self._check_open()
        self._check_isolation()
        session_id = session_id or uuid.uuid4().hex
        await self._session(session_id, self.backend.check(language), writable)
        return session_id

    async def _session(self, session_id: str, language: str, writable: bool = False) -> _Session:
        session = self._sessions.get(session_id)
        if session is not None:
            if session.kernel.language != language:
                raise KernelError(f"session {session_id!r} runs {session.kernel.language}, not {language}")
            return session
        kernel = await (self.backend.start(language, writable=True) if writable else self._take(language))
        if session_id in self._sessions:  # another caller opened it while this one was starting a kernel
            self._discard(kernel)
            return self._sessions[session_id]
        session = self._sessions[session_id] = _Session(session_id, kernel)
        self._advertise(session)
        return session

    def _advertise(self, session: _Session) -> None:
        connection_file = getattr(session.kernel.manager, "connection_file", "")
        if not connection_file:  # a gateway kernel: its sockets are the gateway's, not reachable from here
            return
        try:
            self.registry.advertise(
                session.session_id, session.kernel.kernel_id, session.kernel.language, str(connection_file)
            )
        except OSError as exc:
            log.warning("cannot advertise session %s for debuggers: %s", session.session_id, exc)

    def connection_file(self, session_id: str) -> str | None:
        """The session kernel's connection file (for ``nexus dap`` attach), None for gateway kernels."""
        return getattr(self._get(session_id).kernel.manager, "connection_file", None) or None

    def pooled(self) -> dict[str, int]:
        """How many started kernels wait in each language's pool (for status pages and tests)."""
        return {language: len(pool) for language, pool in self._pools.items()}

    def sessions(self) -> list[SessionInfo]:
        now = time.monotonic()
        return [
            SessionInfo(
                s.session_id, s.kernel.language, s.kernel.kernel_id, s.lock.locked(), now - s.last_used
            )
            for s in self._sessions.values()
        ]

    def kernel(self, session_id: str) -> Kernel:
        """The session's kernel; ``.client`` reaches its channels (control for ``debug_request``)."""
        return self._get(session_id).kernel

    async def interrupt(self, session_id: str) -> None:
        await self._get(session_id).kernel.manager.interrupt_kernel()

    async def restart(self, session_id: str) -> None:
        """Restart the session's kernel: its variables are lost, the session id stays."""
        session = self._get(session_id)
        await session.kernel.recover()
        session.last_used = time.monotonic()

    async def shutdown(self, session_id: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is None:
            raise NoSuchSessionError(session_id)
        self.registry.withdraw(session.kernel.kernel_id)
        await session.kernel.shutdown()

    def _get(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise NoSuchSessionError(session_id)
        return session

    # --- pools --------------------------------------------------------------------------------

    async def _take(self, language: str) -> Kernel:
        pool = self._pools.setdefault(language, [])
        while pool:
            kernel = pool.pop(0)
            self._refill(language)
            if await kernel.manager.is_alive():
                return kernel
            self._discard(kernel)
        kernel = await self.backend.start(language)
        self._refill(language)
        return kernel

    def _refill(self, language: str) -> None:
        target = self.settings.pool.get(language, 0)
        task = self._filling.get(language)
        if self._closed or target <= 0 or (task is not None and not task.done()):
            return
        self._filling[language] = asyncio.create_task(self._fill(language, target))

    async def _fill(self, language: str, target: int) -> None:
        pool = self._pools.setdefault(language, [])
        while not self._closed and len(pool) < target:
            try:
                kernel = await self.backend.start(language)
            except Exception:
                log.exception("could not pre-start a %s kernel for the pool", language)
                return
            if self._closed:
                await kernel.shutdown()
                return
            pool.append(kernel)

    def _discard(self, kernel: Kernel) -> None:
        task = asyncio.create_task(kernel.shutdown())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- lifetime -----------------------------------------------------------------------------

    async def _cull_forever(self) -> None:
        idle = self.settings.cull_idle_seconds
        while True:
            await asyncio.sleep(min(60.0, max(idle / 4, 0.05)))
            await self.cull(idle)

    async def cull(self, idle_seconds: float) -> list[str]:
        """Shut down sessions unused for ``idle_seconds`` and not running anything; returns their ids."""
        now = time.monotonic()
        stale = [
            s for s in self._sessions.values() if not s.lock.locked() and now - s.last_used >= idle_seconds
        ]
        for session in stale:
            log.info("culling idle session %s (%s)", session.session_id, session.kernel.language)
            self._sessions.pop(session.session_id, None)
            self.registry.withdraw(session.kernel.kernel_id)
            await session.kernel.shutdown()
        return [s.session_id for s in stale]

    def _check_open(self) -> None:
        if self._closed:
            raise KernelError("the execution service is closed")

    async def close(self) -> None:
        """Shut down every kernel this service started; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._culler is not None:
            self._culler.cancel()
        for task in self._filling.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        kernels = [s.kernel for s in self._sessions.values()]
        for kernel in kernels:
            self.registry.withdraw(kernel.kernel_id)
        kernels += [k for pool in self._pools.values() for k in pool]
        self._sessions.clear()
        self._pools.clear()
        await asyncio.gather(*(k.shutdown() for k in kernels), *self._background, return_exceptions=True)
        await self.backend.close()

    async def languages(self) -> list[LanguageStatus]:
        """Each built-in language and whether it can run here (``nexus kernels list``): its toolchain is
        found, and (local backend) a probe of it succeeds inside the sandbox, as the sandbox user."""
        async def status(lang: Language) -> LanguageStatus:
            missing = await asyncio.to_thread(lang.missing)
            probe = getattr(self.backend, "probe", None)
            if missing is None and probe is not None:  # found here: does it run where runs run?
                missing = await probe(lang.name)
            return LanguageStatus(lang.name, lang.display_name, missing is None, missing or "ready")

        return list(await asyncio.gather(*(status(lang) for lang in LANGUAGES.values())))


def warn_if_unsandboxed(settings: KernelSettings) -> bool:
    """At a face's start-up: log whether its code execution will be refused (or run unsandboxed).

    Cheap after the first call (the probe is cached per process); returns whether kernels are sandboxed.
    Remote kernels (``gateway_url``) are the remote gateway's to isolate.
    """
    if settings.gateway_url:
        return True
    from .sandbox import isolation

    found = isolation(settings)
    if found.available:
        return True
    if settings.allow_unsandboxed:
        log.warning("kernels are NOT sandboxed (%s); kernels.allow_unsandboxed is set, so code from clients "
                    "runs as this server's user", found.detail)
    else:
        log.warning("kernels cannot be sandboxed (%s): code execution will be refused until that is fixed or "
                    "kernels.allow_unsandboxed is set (docs/kernels.md)", found.detail)
    return False


def _default_backend(settings: KernelSettings) -> KernelBackend:
    if settings.gateway_url:
        from .gateway_client import GatewayBackend

        return GatewayBackend(settings)
    return LocalBackend(settings)
