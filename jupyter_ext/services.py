"""What the extension's handlers share: the workspace index, the AI providers, the executor on
jupyter-server's kernel manager, and the gateway's message protocol (registry + dispatcher).

The REST endpoints and the WebSocket serve the *same* message handlers (``nexus.gateway.handlers``): a
WebSocket frame goes through the dispatcher, a REST request calls the handler once (:func:`call_once`) and
answers with its last reply. Payload validation, error codes and reply shapes therefore cannot differ
between the gateway, the extension's WebSocket and its REST API.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import importlib.util
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus.engine.config import Settings, load_settings
from nexus.engine.errors import ConfigError
from nexus.gateway.handlers import (
    ai_chat,
    context_create,
    context_stream,
    files_read,
    ide_execute,
    ping,
    processor_chain,
    search_query,
)
from nexus.gateway.metrics import GatewayMetrics
from nexus.gateway.protocol import (
    Context,
    Dispatcher,
    ErrorCode,
    GatewayError,
    Handler,
    Identity,
    Registry,
    Reply,
    Request,
    Role,
    SessionLimits,
)
from nexus.gateway.workspace import WorkspaceHandle
from nexus.kernels import kernel_settings

from .kernels import JupyterExecutor
from .variables import describe, kernel_variables

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderRouter

log = logging.getLogger(__name__)

SWEEP_INTERVAL = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """The extension's traits that bound work, in the units the code uses."""

    execute_timeout: float = 0.0  # seconds; 0: kernels.timeout_seconds
    max_execute_timeout: float = 3600.0
    session: SessionLimits = SessionLimits()
    max_message_bytes: int = 4 * 1024 * 1024


class NexusServices:
    def __init__(self, root: Path, settings: Settings, executor: JupyterExecutor, *, limits: Limits,
                 providers: ProviderRouter | None, providers_problem: str | None) -> None:
        self.root = root
        self.settings = settings
        self.executor = executor
        self.limits = limits
        self.providers = providers
        self.providers_problem = providers_problem
        self.workspace = WorkspaceHandle(root, settings)
        self.metrics = GatewayMetrics()
        self.registry = build_registry(self)
        self.dispatcher = Dispatcher(self.registry, limits=limits.session, observer=self.metrics)
        self.metrics.connections.set_function(lambda: len(self.dispatcher.sessions))
        self.metrics.active_kernels.set_function(lambda: executor.running)
        self._indexing = asyncio.Lock()
        self._sweeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    @classmethod
    def create(cls, root: Path, overrides: Mapping[str, Any], kernel_manager: Any, kernel_spec_manager: Any,
               limits: Limits) -> NexusServices:
        """Raises ConfigError for a root that is not a folder or invalid kernel settings. Invalid provider
        settings do not stop the server: the AI endpoints answer 503 with the reason."""
        if not root.is_dir():
            raise ConfigError(f"Nexus workspace root {root} is not a directory")
        root = root.resolve()
        settings = merged_settings(root, overrides)
        kernels = kernel_settings(settings)
        timeout = limits.execute_timeout or kernels.timeout_seconds
        executor = JupyterExecutor(kernel_manager, kernel_spec_manager, default_timeout=timeout,
                                   max_timeout=max(limits.max_execute_timeout, timeout),
                                   output_limits=kernels.output_limits,
                                   interrupt_grace=kernels.interrupt_grace_seconds,
                                   ready_timeout=kernels.start_timeout_seconds, cwd=root,
                                   kernel_settings=dataclasses.replace(
                                       kernels, workspace=kernels.workspace or root, cwd_in_workspace=True))
        providers, problem = None, None
        from nexus.engine.providers import ProviderRouter

        try:
            providers = ProviderRouter.from_settings(settings, root=root)
        except ConfigError as exc:
            log.error("Nexus AI is off: %s", exc)
            problem = f"AI is not available: the provider settings are invalid ({exc})"
        return cls(root, settings, executor, limits=limits, providers=providers, providers_problem=problem)

    def start_sweeper(self) -> None:
        """Close idle WebSockets and drop readers that stopped reading (started with the first socket)."""
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self.dispatcher.run_sweeper(SWEEP_INTERVAL))

    def keep(self, task: asyncio.Task[Any]) -> None:
        """Hold a reference to a background task until it ends."""
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def index(self) -> dict[str, Any]:
        """Build or update the workspace index (one run at a time); returns the summary's JSON."""
        from nexus.engine.errors import IndexLockedError

        ws = await self.workspace.get()
        async with self._indexing:
            try:
                summary = await asyncio.to_thread(ws.index)
            except IndexLockedError as exc:  # `nexus index` or a language server is writing it now
                raise GatewayError(ErrorCode.BUSY, str(exc)) from exc
        return summary.to_json()

    async def aclose(self) -> None:
        for session in list(self.dispatcher.sessions):
            session.transport.close(1001, "server shutting down")
        await self.dispatcher.drain(0.5)
        for session in list(self.dispatcher.sessions):
            await session.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._background:
            await asyncio.wait(list(self._background), timeout=5)
        if self.providers is not None:
            await self.providers.aclose()
        await self.executor.close()
        self.workspace.close()


def merged_settings(root: Path, overrides: Mapping[str, Any]) -> Settings:
    """nexus.toml, .nexus.toml and NEXUS_* variables for ``root``, with the ``nexus_config`` trait on top."""
    base = load_settings(root)
    raw: dict[str, Any] = copy.deepcopy({k: dict(v) for k, v in base.raw.items()})
    _merge(raw, overrides)
    return Settings(raw, (*base.sources, "NexusExtension.nexus_config") if overrides else base.sources)


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping):
            target = into.get(key)
            if not isinstance(target, dict):
                target = into[key] = {}
            _merge(target, value)
        else:
            into[key] = value


def build_registry(services: NexusServices) -> Registry:
    registry = Registry()
    registry.register(ping.TYPE, ping.ping, min_role=Role.VIEWER)
    registry.register(files_read.TYPE, files_read.make_handler(services.root), min_role=Role.VIEWER)
    if importlib.util.find_spec("nexus.engine.workspace") is not None:
        registry.register(search_query.TYPE, with_notebook_cells(search_query.make_handler(services.workspace),
                                                                 services.workspace),
                          min_role=search_query.MIN_ROLE)
    else:
        registry.register_unavailable(search_query.TYPE, search_query.FEATURE, min_role=search_query.MIN_ROLE)
    registry.register(ide_execute.TYPE, ide_execute.make_handler(services.executor), min_role=ide_execute.MIN_ROLE)
    if services.providers is None:
        for module in (ai_chat, processor_chain):
            registry.register_unavailable(module.TYPE, module.FEATURE, min_role=module.MIN_ROLE,
                                          reason=services.providers_problem)
    else:
        chat = ai_chat.make_handler(services.providers, services.metrics, services.workspace)
        registry.register(ai_chat.TYPE, with_kernel_variables(chat, services.executor), min_role=ai_chat.MIN_ROLE)
        registry.register(processor_chain.TYPE, processor_chain.make_handler(services.providers, services.metrics),
                          min_role=processor_chain.MIN_ROLE)
    registry.register(context_create.TYPE, context_create.make_handler(services.workspace),
                      min_role=context_create.MIN_ROLE)
    registry.register(context_stream.TYPE, context_stream.make_handler(services.workspace),
                      min_role=context_stream.MIN_ROLE)
    return registry


def with_notebook_cells(handler: Handler, handle: WorkspaceHandle) -> Handler:
    """``search:query`` hits in notebooks get ``cell`` (index among the notebook's cells) and ``cellLine``
    (1-based line within it), so JupyterLab can open the hit at its cell."""

    async def search(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        from nexus.engine.parsing.notebook import cell_position

        async for reply in handler(request, ctx):
            hits = reply.data.get("hits", []) if isinstance(reply.data, dict) else []
            notebooks = {hit["path"] for hit in hits if str(hit.get("path", "")).endswith(".ipynb")}
            if notebooks:
                ws = await handle.get()
                infos = await asyncio.to_thread(_file_infos, ws, notebooks)
                for hit in hits:
                    info = infos.get(hit["path"])
                    where = cell_position(info.cells, hit["line"] - 1) if info is not None else None
                    if where is not None:
                        hit["cell"], hit["cellLine"] = where[0], where[1] + 1
            yield reply

    return search


def _file_infos(ws: Any, paths: set[str]) -> dict[str, Any]:
    return {path: ws.file_info(path) for path in paths}


def with_kernel_variables(handler: Handler, executor: JupyterExecutor) -> Handler:
    """``ai:chat`` with ``kernelId``: the live kernel's variables join the system prompt."""

    async def chat(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        kernel_id = request.payload.get("kernelId")
        if kernel_id is not None:
            request = await add_kernel_context(request, executor)
        async for reply in handler(request, ctx):
            yield reply

    return chat


async def add_kernel_context(request: Request, executor: JupyterExecutor) -> Request:
    """``request`` without ``kernelId`` and with the kernel's variables appended to ``system``."""
    kernel_id = request.text("kernelId", max_length=128)
    system = request.payload.get("system")
    if system is not None and not isinstance(system, str):
        raise request.invalid("payload.system must be a string")
    variables = await kernel_variables(executor, kernel_id)
    note = ("The user's live Jupyter kernel (" + variables["language"] + ") holds these variables:\n"
            + (describe(variables) or "(none)"))
    payload = {k: v for k, v in request.payload.items() if k != "kernelId"}
    payload["system"] = f"{system}\n\n{note}" if system else note
    return Request(request.type, request.id, payload)


@dataclasses.dataclass(slots=True)
class OneShotContext:
    """The handler Context of a REST request: Jupyter has authenticated and authorised it already."""

    identity: Identity | None
    peer: str

    def authenticate(self, identity: Identity) -> None:
        self.identity = identity


async def call_once(registry: Registry, type_: str, payload: Mapping[str, Any], identity: Identity,
                    peer: str) -> list[Reply]:
    """Run the handler of ``type_`` for one REST request; returns every reply it yielded.

    Raises GatewayError (``unavailable`` for a type not served in this build) or the handler's errors.
    """
    route = registry.get(type_)
    if route is None:
        raise GatewayError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {type_!r}")
    if route.unavailable is not None:
        raise GatewayError(ErrorCode.UNAVAILABLE, route.unavailable)
    replies = route.handler(Request(type_, "rest", payload), OneShotContext(identity, peer))
    try:
        return [reply async for reply in replies]
    finally:
        aclose = getattr(replies, "aclose", None)
        if aclose is not None:  # a cancelled request (the client went away) stops its kernel or model call
            await aclose()
