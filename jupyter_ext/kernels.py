"""``POST execute`` / ``ide:execute`` in the Jupyter extension: where code runs depends on the request.

- Without ``kernelId`` (a one-shot run, e.g. from the editor's "run file"): in a sandboxed kernel of the
  ``nexus.kernels`` execution service, the same as the gateway's ``ide:execute`` (bubblewrap as an
  unprivileged user, the workspace read-only, no secrets in the environment; see docs/kernels.md), started
  in the workspace root and discarded afterwards: a fresh namespace each time. It does not show in
  ``/api/kernels``. Where the sandbox is unavailable, the run is refused (``unavailable``) unless the
  admin set ``kernels.allow_unsandboxed``.
- With a notebook's ``kernelId``: in that notebook's kernel (its variables, its imports), under Jupyter's
  own trust model: it is the user's own kernel, started by jupyter-server as the server's user, and
  Nexus adds no sandbox to it.
- A server started with ``--gateway-url`` runs one-shot code on the gateway, through jupyter-server's own
  kernel manager (the kernels live on the gateway's machine, isolated there).

The execute/collect/timeout/interrupt logic is ``nexus.kernels.stream_code`` in every case.

Each request opens its own client on the kernel's channels: shell replies go to the client that asked,
and IOPub output is matched by the request's message id, so a notebook's frontend on the same kernel is
not disturbed. In gateway mode the client is Nexus' own WebSocket client, because jupyter-server's
``GatewayKernelClient`` does not send the gateway's auth header on the kernel WebSocket (401 against a
token-protected gateway) and polls its queues in a busy loop; the kernel's lifecycle (start, interrupt,
restart, shutdown) stays with jupyter-server's manager.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from jupyter_core.utils import ensure_async

from nexus.engine.errors import NotFoundError
from nexus.kernels import (
    AttachedKernel,
    ExecutionService,
    KernelError,
    KernelSettings,
    OutputLimits,
    StreamEvent,
    UnknownLanguageError,
    stream_code,
)
from nexus.kernels.languages import resolve
from nexus.services.ops.execute import ExecuteRequest
from nexus.services.wire import ErrorCode, GatewayError

log = logging.getLogger(__name__)


class NoKernelspecError(UnknownLanguageError):
    """No installed kernelspec runs the requested language."""

    def __init__(self, language: str, installed: list[str]) -> None:
        NotFoundError.__init__(
            self, f"no Jupyter kernel for {language!r} here: run `nexus kernels install` for the Nexus kernels "
            f"(python, javascript, typescript, java, cpp); installed kernelspecs: {', '.join(installed) or 'none'}")
        self.language = language


class NoSuchKernelError(NotFoundError):
    def __init__(self, kernel_id: str) -> None:
        super().__init__(f"no running kernel {kernel_id!r} on this server")
        self.kernel_id = kernel_id


class JupyterExecutor:
    """The extension's :class:`~nexus.services.ops.execute.Executor`."""

    def __init__(self, kernel_manager: Any, kernel_spec_manager: Any, *, default_timeout: float,
                 max_timeout: float, output_limits: OutputLimits, interrupt_grace: float = 3.0,
                 ready_timeout: float = 60.0, cwd: Path | None = None,
                 kernel_settings: KernelSettings | None = None) -> None:
        self.kernel_manager = kernel_manager
        self.kernel_settings = kernel_settings or KernelSettings(workspace=cwd, cwd_in_workspace=True)
        self._service: ExecutionService | None = None
        self._starting = asyncio.Lock()
        if not self.gateway_mode:
            from nexus.kernels.service import warn_if_unsandboxed

            warn_if_unsandboxed(self.kernel_settings)  # at start-up, not at the first execute
        self.cwd = cwd  # where one-shot local kernels run: the workspace root
        self.kernel_spec_manager = kernel_spec_manager
        self.default_timeout = default_timeout
        self._max_timeout = max_timeout
        self.output_limits = output_limits
        self.interrupt_grace = interrupt_grace
        self.ready_timeout = ready_timeout
        self.running = 0
        self._http: Any = None  # aiohttp session for gateway-mode kernel WebSockets
        self._clients: dict[str, Any] = {}  # kernel id -> a ready client kept between requests
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def max_timeout(self) -> float:
        return self._max_timeout

    @property
    def gateway_mode(self) -> bool:
        from jupyter_server.gateway.managers import GatewayMappingKernelManager

        return isinstance(self.kernel_manager, GatewayMappingKernelManager)

    async def kernelspecs(self) -> dict[str, dict[str, Any]]:
        """Installed kernelspecs (the gateway's in gateway mode): name -> {"spec": {...}, ...}."""
        specs = await ensure_async(self.kernel_spec_manager.get_all_specs())
        return dict(specs or {})

    async def kernel_name(self, language: str) -> tuple[str, str]:
        """(kernelspec name, language) for ``language``: ``nexus-<language>`` when installed, else a spec
        of that name or language. Raises NoKernelspecError."""
        specs = await self.kernelspecs()
        lang = resolve(language)
        wanted = lang.name if lang is not None else language.strip().lower()
        names = {wanted, *(lang.aliases if lang is not None else ())}
        for name in (f"nexus-{wanted}", wanted, "python3" if wanted == "python" else ""):
            if name and name in specs:
                return name, wanted
        for name, spec in sorted(specs.items()):
            if str(spec.get("spec", {}).get("language", "")).lower() in names:
                return name, wanted
        raise NoKernelspecError(language, sorted(specs))

    async def kernel_language(self, kernel_id: str) -> str:
        """The language of a running kernel, from its kernelspec. Raises NoSuchKernelError."""
        if kernel_id not in self.kernel_manager:
            raise NoSuchKernelError(kernel_id)
        name = self.kernel_manager.get_kernel(kernel_id).kernel_name
        spec = (await self.kernelspecs()).get(name, {})
        language = str(spec.get("spec", {}).get("language", "") or name).lower()
        lang = resolve(language)
        return lang.name if lang is not None else language

    async def stream(self, request: ExecuteRequest) -> AsyncIterator[StreamEvent]:
        if request.session_id is not None:
            raise GatewayError(ErrorCode.BAD_REQUEST, "ide:execute: payload.sessionId is the gateway's; in "
                               "Jupyter pass a running kernel's payload.kernelId to keep state")
        timeout = request.timeout if request.timeout is not None else self.default_timeout
        self.running += 1
        try:
            if request.kernel_id is not None:
                language = await self.kernel_language(request.kernel_id)
                if request.language is not None and _canonical(request.language) != language:
                    raise GatewayError(ErrorCode.BAD_REQUEST, f"ide:execute: kernel {request.kernel_id} runs "
                                       f"{language}, not {request.language}")
                async with self.attached(request.kernel_id, language) as kernel:
                    async for event in self._run(kernel, request.code, timeout):
                        yield event
                return
            if request.path is not None:
                async for event in self._program(request, timeout):
                    yield event
                return
            if not self.gateway_mode:
                async for event in self._sandboxed(request.language or "python", request.code, timeout):
                    yield event
                return
            name, language = await self.kernel_name(request.language or "python")
            kernel_id = await self.kernel_manager.start_kernel(kernel_name=name)
            try:
                async with self.attached(kernel_id, language, keep=False) as kernel:
                    async for event in self._run(kernel, request.code, timeout):
                        yield event
            finally:
                self._locks.pop(kernel_id, None)
                await asyncio.shield(self._shutdown(kernel_id))
        finally:
            self.running -= 1

    async def service(self) -> ExecutionService:
        """The sandboxed execution service for one-shot runs, started on first use."""
        if self._service is None:
            async with self._starting:
                if self._service is None:
                    service = ExecutionService(self.kernel_settings, require_isolation=True)
                    await service.start()
                    self._service = service
        return self._service

    async def _sandboxed(self, language: str, code: str, timeout: float) -> AsyncIterator[StreamEvent]:
        service = await self.service()
        try:
            service.backend.check(language)
        except UnknownLanguageError:
            raise NoKernelspecError(language, sorted(await self.kernelspecs())) from None
        events = service.stream(code, language, timeout=timeout)
        try:
            async for event in events:
                yield event
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:  # an early close interrupts the kernel
                await aclose()

    async def _program(self, request: ExecuteRequest, timeout: float) -> AsyncIterator[StreamEvent]:
        """A workspace file run as its language's runner would, in the sandbox (read-only, no stdin)."""
        if self.gateway_mode:
            raise GatewayError(ErrorCode.UNAVAILABLE, "ide:execute: payload.path: kernels on a remote gateway "
                               "cannot see this server's files; send the code instead")
        assert request.path is not None
        service = await self.service()
        events = service.stream_file(request.path, request.args, language=request.language, cwd=request.cwd,
                                     timeout=timeout)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()

    async def _run(self, kernel: AttachedKernel, code: str, timeout: float) -> AsyncIterator[StreamEvent]:
        events = stream_code(kernel, code, timeout=timeout, output_limits=self.output_limits,
                             interrupt_grace=self.interrupt_grace)
        try:
            async for event in events:
                yield event
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    @contextlib.asynccontextmanager
    async def attached(self, kernel_id: str, language: str, ready_timeout: float | None = None,
                       keep: bool = True) -> AsyncIterator[AttachedKernel]:
        """A ready client on a running kernel, for one request at a time per kernel.

        The client is kept for the kernel's next request (``keep``; a one-shot kernel's is closed):
        connecting a new one costs a kernel_info round trip and the IOPub subscription (about 200 ms
        with jupyter_client's own readiness check), against about 5 ms for a run. Raises KernelError
        when the kernel does not answer within ``ready_timeout`` (default: the executor's), because it
        is dead or busy with a long cell, or because another request holds it that long.
        """
        ready_timeout = self.ready_timeout if ready_timeout is None else ready_timeout
        lock = self._locks.setdefault(kernel_id, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), ready_timeout)
        except TimeoutError:
            raise KernelError(f"kernel {kernel_id} did not answer within {ready_timeout:g} s: another request "
                              "is still running in it") from None
        client = None
        try:
            self._forget_gone_kernels()
            manager = self.kernel_manager.get_kernel(kernel_id)
            client = self._clients.pop(kernel_id, None)
            if client is None:
                client = await self._connect(kernel_id, manager, ready_timeout)
            else:
                await _drain(client)
            yield AttachedKernel(manager, client, language, self.ready_timeout)
            if keep and kernel_id in self.kernel_manager:
                self._clients[kernel_id], client = client, None
        finally:
            if client is not None:
                await self._close_client(client)
            lock.release()

    async def _connect(self, kernel_id: str, manager: Any, ready_timeout: float) -> Any:
        if self.gateway_mode:
            client = self._gateway_client(kernel_id)
            await client.connect()
        else:
            client = manager.client()
            client.start_channels()
        try:
            if self.gateway_mode:  # one WebSocket carries every channel: no subscription to wait for
                await client.wait_for_ready(timeout=ready_timeout)
            else:
                await _wait_ready(client, ready_timeout)
        except (RuntimeError, TimeoutError, KernelError) as exc:
            await self._close_client(client)
            raise KernelError(f"kernel {kernel_id} did not answer within {ready_timeout:g} s: {exc}") from exc
        except BaseException:
            await self._close_client(client)
            raise
        return client

    async def _close_client(self, client: Any) -> None:
        if self.gateway_mode:
            await client.close()
        else:
            client.stop_channels()

    def _forget_gone_kernels(self) -> None:
        for kernel_id in [k for k in self._clients if k not in self.kernel_manager]:
            client = self._clients.pop(kernel_id)
            self._locks.pop(kernel_id, None)
            if self.gateway_mode:
                asyncio.ensure_future(client.close())
            else:
                client.stop_channels()

    def _gateway_client(self, kernel_id: str) -> Any:
        import aiohttp
        from jupyter_server.gateway.gateway_client import GatewayClient

        from nexus.kernels.gateway_client import GatewayKernelClient

        gateway = GatewayClient.instance()
        headers = {k: str(v) for k, v in gateway.load_connection_args().get("headers", {}).items()}
        if gateway.auth_token and gateway.auth_header_key not in headers:
            scheme = f"{gateway.auth_scheme} " if gateway.auth_scheme else ""
            headers[gateway.auth_header_key] = f"{scheme}{gateway.auth_token}"
        if self._http is None:
            self._http = aiohttp.ClientSession()
        base = (gateway.ws_url or "").rstrip("/")
        endpoint = gateway.kernels_endpoint.strip("/")
        return GatewayKernelClient(self._http, f"{base}/{endpoint}/{kernel_id}/channels", headers)

    async def _shutdown(self, kernel_id: str) -> None:
        try:
            await self.kernel_manager.shutdown_kernel(kernel_id, now=True)
        except Exception:  # the kernel died meanwhile and was removed: nothing left to stop
            log.warning("could not shut down kernel %s", kernel_id, exc_info=True)

    async def close(self) -> None:
        async with self._starting:
            if self._service is not None:
                await self._service.close()
                self._service = None
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await self._close_client(client)
        if self._http is not None:
            await self._http.close()
            self._http = None


async def _wait_ready(client: Any, timeout: float) -> None:
    """Wait until the kernel answers kernel_info on shell *and* this client's IOPub subscription is live
    (a message published before it is live is lost: the ZMQ slow joiner). jupyter_client's own check
    waits 200 ms for IOPub before asking again; asking every 20 ms makes a ready kernel ready in a few
    milliseconds. Raises TimeoutError."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg_id = client.kernel_info()
        replied = False
        while not replied:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no kernel_info reply")
            try:
                reply = await client.get_shell_msg(timeout=min(remaining, 1.0))
            except queue.Empty:
                if not await client.is_alive():
                    raise KernelError("the kernel died") from None
                continue
            replied = reply.get("parent_header", {}).get("msg_id") == msg_id
        try:
            await client.get_iopub_msg(timeout=0.02)
        except queue.Empty:
            if loop.time() > deadline:
                raise TimeoutError("IOPub did not connect") from None
            continue
        await _drain(client)
        return


async def _drain(client: Any, limit: int = 10_000) -> None:
    """Drop messages left from earlier requests and from other clients' runs (IOPub is broadcast)."""
    for _ in range(limit):
        try:
            await client.get_iopub_msg(timeout=0)
        except queue.Empty:
            break
    for _ in range(limit):
        try:
            await client.get_shell_msg(timeout=0)
        except queue.Empty:
            break


def _canonical(language: str) -> str:
    lang = resolve(language)
    return lang.name if lang is not None else language.strip().lower()
