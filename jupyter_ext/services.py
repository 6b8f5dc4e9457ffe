"""What the extension's handlers share: the operations' backends (the workspace index, the AI providers,
the executor on jupyter-server's kernel manager, notebook kernel variables) and the WebSocket protocol.

The REST endpoints and the WebSocket serve the *same* operations (``nexus.services``) as the gateway: a
WebSocket frame goes through the dispatcher, a REST request calls the operation once (:func:`call_once`)
and answers with its last reply. Payload validation, error codes and reply shapes therefore cannot differ
between the gateway, the extension's WebSocket and its REST API.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus.engine.config import Settings, load_settings
from nexus.engine.errors import ConfigError
from nexus.kernels import kernel_settings
from nexus.services import Backends, Identity, WorkspaceHandle
from nexus.services import Registry as Operations
from nexus.services.wire import (
    Context,
    Dispatcher,
    ErrorCode,
    GatewayError,
    Handler,
    Registry,
    Reply,
    Request,
    Role,
    SessionLimits,
    ping,
    register_operations,
)

from .kernels import JupyterExecutor
from .variables import kernel_variables

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

        async def variables(kernel_id: str, timeout: float) -> dict[str, Any]:
            return await kernel_variables(executor, kernel_id, timeout)

        self.backends = Backends.open(root, settings, providers=False, executor=executor, variables=variables)
        self.backends.providers, self.backends.providers_problem = providers, providers_problem
        self.workspace = self.backends.workspace
        self.operations = Operations.default()
        self.registry = build_registry(self)
        self.dispatcher = Dispatcher(self.registry, limits=limits.session)
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

    @property
    def providers(self) -> ProviderRouter | None:
        return self.backends.providers

    @property
    def providers_problem(self) -> str | None:
        return self.backends.providers_problem

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
        await self.backends.aclose()


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
    """``ping`` and every operation, the same routes the gateway has (``ide:execute`` also reaches a
    notebook's kernel by ``kernelId``; ``ai:chat`` also sees a notebook kernel's variables)."""
    registry = Registry()
    registry.register("ping", ping, min_role=Role.VIEWER)
    register_operations(registry, services.operations, services.backends,
                        wrap={"search": lambda handler: with_notebook_cells(handler, services.workspace)})
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
