"""Remote kernels on a Jupyter Kernel Gateway or Enterprise Gateway, over its REST + WebSocket API.

jupyter_server's own gateway client sends the token on HTTP but not on the kernel WebSocket, so this is
a small client of our own on aiohttp: ``POST /api/kernels`` starts a kernel, the WebSocket
``/api/kernels/{id}/channels`` carries every channel as JSON messages with a ``channel`` field,
``POST .../interrupt`` and ``.../restart`` and ``DELETE /api/kernels/{id}`` do the rest; every request
carries ``Authorization: token T``. ``GatewayKernelClient`` offers the subset of jupyter_client's
``AsyncKernelClient`` that ``run_code`` and the debugger use (``execute``, ``get_iopub_msg``,
``get_shell_msg``, ``get_control_msg``, ``control_channel.send``, ``session``), so the same execution
code drives local and remote kernels.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
from typing import Any
from urllib.parse import quote

import aiohttp
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session

from .errors import GatewayError, UnknownLanguageError
from .languages import resolve
from .sandbox import Isolation
from .settings import KernelSettings

log = logging.getLogger(__name__)

CHANNELS = ("shell", "iopub", "stdin", "control")


class _Channel:
    def __init__(self, client: GatewayKernelClient, name: str) -> None:
        self._client = client
        self.name = name

    def send(self, msg: dict[str, Any]) -> None:
        self._client.send(self.name, msg)

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        return await self._client.get_msg(self.name, timeout)


class GatewayKernelClient:
    """One kernel's WebSocket; a reader task sorts incoming messages into per-channel queues."""

    def __init__(self, http: aiohttp.ClientSession, ws_url: str, headers: dict[str, str]) -> None:
        self._http = http
        self._ws_url = ws_url
        self._headers = headers
        self.session = Session(key=b"")  # the gateway signs messages to the kernel itself
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {c: asyncio.Queue() for c in CHANNELS}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.shell_channel = _Channel(self, "shell")
        self.control_channel = _Channel(self, "control")
        self.iopub_channel = _Channel(self, "iopub")
        self.stdin_channel = _Channel(self, "stdin")

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def connect(self) -> None:
        try:
            self._ws = await self._http.ws_connect(self._ws_url, headers=self._headers, heartbeat=30)
        except aiohttp.WSServerHandshakeError as exc:
            raise GatewayError(
                f"the gateway refused the kernel WebSocket (HTTP {exc.status}): "
                f"{'check the gateway token' if exc.status in (401, 403) else exc.message}"
            ) from exc
        except aiohttp.ClientError as exc:
            raise GatewayError(f"cannot open the kernel WebSocket {self._ws_url}: {exc}") from exc
        self._reader = asyncio.create_task(self._read())
        self._writer = asyncio.create_task(self._write())

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                msg = json.loads(message.data)
            except json.JSONDecodeError:
                log.warning("gateway sent a message that is not JSON; ignored")
                continue
            channel = msg.get("channel", "iopub")
            if channel in self._queues:
                self._queues[channel].put_nowait(msg)

    async def _write(self) -> None:
        while True:
            data = await self._outbox.get()
            if self._ws is None or self._ws.closed:
                log.warning("kernel WebSocket closed; a message was not sent")
                continue
            await self._ws.send_str(data)

    def send(self, channel: str, msg: dict[str, Any]) -> None:
        if not self.connected:
            raise GatewayError("the kernel WebSocket is closed")
        msg = dict(msg, channel=channel)
        self._outbox.put_nowait(json.dumps(msg, default=json_default))

    async def get_msg(self, channel: str, timeout: float | None = None) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(self._queues[channel].get(), timeout)
        except TimeoutError:
            raise queue.Empty from None

    def execute(
        self,
        code: str,
        silent: bool = False,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool | None = None,
        stop_on_error: bool = True,
    ) -> str:
        content = {
            "code": code,
            "silent": silent,
            "store_history": store_history,
            "user_expressions": user_expressions or {},
            "allow_stdin": bool(allow_stdin),
            "stop_on_error": stop_on_error,
        }
        msg = self.session.msg("execute_request", content)
        self.send("shell", msg)
        return str(msg["header"]["msg_id"])

    async def get_iopub_msg(self, timeout: float | None = None) -> dict[str, Any]:
        return await self.get_msg("iopub", timeout)

    async def get_shell_msg(self, timeout: float | None = None) -> dict[str, Any]:
        return await self.get_msg("shell", timeout)

    async def get_control_msg(self, timeout: float | None = None) -> dict[str, Any]:
        return await self.get_msg("control", timeout)

    async def wait_for_ready(self, timeout: float = 60.0) -> None:
        """Send kernel_info requests until one is answered (the remote kernel may still be starting)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            msg = self.session.msg("kernel_info_request", {})
            self.send("shell", msg)
            try:
                while True:
                    reply = await self.get_shell_msg(timeout=min(2.0, max(deadline - loop.time(), 0.01)))
                    if reply.get("parent_header", {}).get("msg_id") == msg["header"]["msg_id"]:
                        return
            except queue.Empty:
                continue
        raise GatewayError(f"the remote kernel did not answer within {timeout:g} s")

    async def close(self) -> None:
        for task in (self._reader, self._writer):
            if task is not None:
                task.cancel()
        if self._ws is not None:
            await self._ws.close()


class GatewayKernelManager:
    """The manager half: REST calls for one remote kernel."""

    def __init__(self, backend: GatewayBackend, kernel_id: str) -> None:
        self._backend = backend
        self.kernel_id = kernel_id

    async def interrupt_kernel(self) -> None:
        await self._backend.request("POST", f"/api/kernels/{self.kernel_id}/interrupt")

    async def restart_kernel(self, now: bool = False, **_: Any) -> None:
        await self._backend.request("POST", f"/api/kernels/{self.kernel_id}/restart")

    async def is_alive(self) -> bool:
        try:
            info = await self._backend.request("GET", f"/api/kernels/{self.kernel_id}")
        except GatewayError:
            return False
        return isinstance(info, dict) and info.get("execution_state") != "dead"

    async def shutdown_kernel(self, now: bool = False, **_: Any) -> None:
        await self._backend.request("DELETE", f"/api/kernels/{self.kernel_id}")


class GatewayKernel:
    def __init__(self, backend: GatewayBackend, kernel_id: str, language: str) -> None:
        self.kernel_id = kernel_id
        self.language = language
        self.manager = GatewayKernelManager(backend, kernel_id)
        self.client = backend.new_client(kernel_id)
        self._backend = backend

    async def prepare(self) -> None:
        return None

    async def limit_hit(self) -> str | None:
        return None

    async def death_reason(self) -> tuple[str, int | None]:
        return "the remote kernel died", None

    async def recover(self) -> None:
        await self.manager.restart_kernel(now=True)
        await self.client.close()
        self.client = self._backend.new_client(self.kernel_id)
        await self.client.connect()
        await self.client.wait_for_ready(self._backend.settings.start_timeout_seconds)

    async def shutdown(self) -> None:
        await self.client.close()
        try:
            await self.manager.shutdown_kernel(now=True)
        except GatewayError as exc:
            log.warning("could not shut down remote kernel %s: %s", self.kernel_id, exc)


class GatewayBackend:
    """Kernels on a remote gateway (``kernels.gateway_url`` / ``--gateway-url``, ``gateway_token``)."""

    name = "gateway"

    def __init__(self, settings: KernelSettings) -> None:
        if not settings.gateway_url:
            raise GatewayError("no gateway URL configured (kernels.gateway_url or --gateway-url)")
        self.settings = settings
        self.url = settings.gateway_url.rstrip("/")
        self._headers = {"Authorization": f"token {settings.gateway_token}"} if settings.gateway_token else {}
        self._http: aiohttp.ClientSession | None = None
        self._specs: dict[str, Any] | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._http

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One REST call; raises GatewayError with the HTTP status or the connection problem."""
        try:
            async with self._session().request(
                method, self.url + path, json=body, headers=self._headers
            ) as resp:
                text = await resp.text()
                if resp.status in (401, 403):
                    raise GatewayError(
                        f"the gateway at {self.url} refused the request (HTTP {resp.status}): "
                        "check the gateway token"
                    )
                if resp.status >= 400:
                    raise GatewayError(
                        f"{method} {path} failed on the gateway (HTTP {resp.status}): {text[:300]}"
                    )
                return json.loads(text) if text else None
        except aiohttp.ClientError as exc:
            raise GatewayError(f"cannot reach the gateway at {self.url}: {exc}") from exc

    def check(self, language: str) -> str:
        lang = resolve(language)
        return lang.name if lang is not None else language

    async def kernel_name(self, language: str) -> str:
        """Gateway kernelspec for ``language``: ``nexus-<lang>`` when installed there, else by language."""
        if self._specs is None:
            data = await self.request("GET", "/api/kernelspecs")
            self._specs = dict(data.get("kernelspecs", {})) if isinstance(data, dict) else {}
        specs = self._specs
        lang = resolve(language)
        wanted = lang.name if lang is not None else language
        for name in (f"nexus-{wanted}", wanted, "python3" if wanted == "python" else ""):
            if name and name in specs:
                return name
        for name, spec in specs.items():
            if str(spec.get("spec", {}).get("language", "")).lower() == wanted:
                return name
        raise UnknownLanguageError(language, sorted(specs))

    def new_client(self, kernel_id: str) -> GatewayKernelClient:
        ws_url = self.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
        return GatewayKernelClient(
            self._session(), f"{ws_url}/api/kernels/{quote(kernel_id)}/channels", self._headers
        )

    def isolation(self) -> Isolation:
        """Remote kernels run on the gateway's machine, under its own isolation: not this server's secrets."""
        return Isolation(True, None, f"remote kernels on {self.settings.gateway_url} (isolated by that gateway)")

    async def start(self, language: str, writable: bool = False) -> GatewayKernel:
        name = await self.kernel_name(language)
        info = await self.request("POST", "/api/kernels", {"name": name})
        kernel = GatewayKernel(self, str(info["id"]), self.check(language))
        try:
            await kernel.client.connect()
            await kernel.client.wait_for_ready(self.settings.start_timeout_seconds)
        except BaseException:
            await kernel.shutdown()
            raise
        return kernel

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
