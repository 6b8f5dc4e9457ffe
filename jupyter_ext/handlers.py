"""The REST API under ``{base_url}nexus/api/``: Jupyter's authentication (``@web.authenticated``) and
authorisation (``@authorized`` on the ``nexus`` resource), JSON in and out.

Errors are JSON ``{"status", "code", "message", ...}``: ``code`` is the gateway protocol's error code
(clients may branch on it), extra fields such as ``retryAfter`` or ``provider`` are kept, and a 429
carries ``Retry-After``. A request whose client disconnects is cancelled, which interrupts its kernel or
closes its model stream.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
from collections.abc import Awaitable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import orjson
from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from nexus.engine.errors import NexusError
from nexus.services.wire import ErrorCode, GatewayError, Identity, Role
from nexus.services.wire.messages import as_gateway_error

from .services import call_once

if TYPE_CHECKING:
    from .services import NexusServices

log = logging.getLogger(__name__)

AUTH_RESOURCE = "nexus"

STATUS = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNKNOWN_TYPE: 404,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.TOKEN_EXPIRED: 401,
    ErrorCode.BAD_CREDENTIALS: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.BUSY: 429,
    ErrorCode.DUPLICATE_ID: 409,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVALID_PATH: 403,
    ErrorCode.CANCELLED: 503,
    ErrorCode.SHUTTING_DOWN: 503,
    ErrorCode.FAILED: 502,
    ErrorCode.INTERNAL: 500,
}


class NexusAPIHandler(APIHandler):
    auth_resource = AUTH_RESOURCE
    _work: asyncio.Future[Any] | None = None

    @property
    def nexus(self) -> NexusServices:
        return self.settings["nexus_services"]  # type: ignore[no-any-return]

    def identity(self) -> Identity:
        user = self.current_user
        return Identity(str(getattr(user, "username", user)), Role.DEVELOPER)

    async def call(self, type_: str, payload: dict[str, Any]) -> Any:
        """The data of the last reply of message type ``type_``'s handler."""
        replies = await call_once(self.nexus.registry, type_, payload, self.identity(), self.request.remote_ip or "")
        return replies[-1].data if replies else None

    async def respond(self, work: Awaitable[Any], status: int = 200) -> None:
        """Finish with ``work``'s result as JSON, or with its error as a JSON error."""
        self._work = asyncio.ensure_future(work)
        try:
            data = await self._work
        except asyncio.CancelledError:
            if self._work.cancelled():
                return  # cancelled by on_connection_close: there is nobody to answer
            raise
        except GatewayError as err:
            self.fail(err)
            return
        except NexusError as exc:
            self.fail(_translate(exc))
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps(data))

    def on_connection_close(self) -> None:
        if self._work is not None and not self._work.done():
            log.info("client left %s %s: cancelling it", self.request.method, self.request.path)
            self._work.cancel()
        super().on_connection_close()

    def fail(self, err: GatewayError) -> None:
        status = STATUS.get(err.code, 500)
        retry = err.extra.get("retryAfter")
        if status == 429 and isinstance(retry, int | float):
            self.set_header("Retry-After", str(max(1, round(retry))))
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps({"status": status, "code": str(err.code), "message": err.message, **err.extra}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors raised before our code runs (403 from Jupyter's auth, 404, 405) in the same JSON shape."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        elif status_code >= 500:
            message = "internal error (logged on the server)"
        else:
            message = HTTPStatus(status_code).phrase if status_code in HTTPStatus._value2member_map_ else "error"
        code = {403: ErrorCode.FORBIDDEN, 404: ErrorCode.NOT_FOUND, 400: ErrorCode.BAD_REQUEST}.get(
            status_code, ErrorCode.INTERNAL if status_code >= 500 else ErrorCode.BAD_REQUEST)
        self.set_header("Content-Type", "application/json")
        self.finish(orjson.dumps({"status": status_code, "code": str(code), "message": message}))

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; raises GatewayError(bad_request) saying what is wrong."""
        raw = self.request.body
        if not raw:
            raise GatewayError(ErrorCode.BAD_REQUEST, "the request body must be a JSON object")
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise GatewayError(ErrorCode.BAD_REQUEST, f"the request body is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise GatewayError(ErrorCode.BAD_REQUEST, "the request body must be a JSON object")
        return value

    def argument(self, name: str, default: str | None = None) -> str:
        value = self.get_query_argument(name, default)
        if value is None:
            raise GatewayError(ErrorCode.BAD_REQUEST, f"the query parameter {name!r} is required")
        return value


def _reason(exc: BaseException) -> str:
    return str(exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else exc)


def _translate(exc: NexusError) -> GatewayError:
    err = as_gateway_error(exc, None)
    assert err is not None  # every NexusError has a code
    return err


class StatusHandler(NexusAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.respond(self.status_json())

    async def status_json(self) -> dict[str, Any]:
        nexus = self.nexus
        index: dict[str, Any]
        try:
            index = await self.call("index:status", {})
        except NexusError as exc:
            index = {"indexed": False, "error": str(exc)}
        router = nexus.providers
        providers = {"available": bool(router is not None and router.available), "problem": nexus.providers_problem,
                     "providers": router.status() if router is not None else []}
        executor = nexus.executor
        kernels: dict[str, Any] = {"executing": executor.running}
        try:  # a gateway may refuse to list its kernels (Kernel Gateway does unless list_kernels is on)
            kernels["running"] = await ensure_async(self.kernel_manager.list_kernels())
        except (web.HTTPError, OSError) as exc:
            kernels["running"], kernels["error"] = None, _reason(exc)
        try:
            specs = await executor.kernelspecs()
        except (web.HTTPError, OSError) as exc:
            specs, kernels["error"] = {}, _reason(exc)
        kernels["kernelspecs"] = {name: spec.get("spec", {}).get("language") for name, spec in sorted(specs.items())}
        gateway = None
        if executor.gateway_mode:
            from jupyter_server.gateway.gateway_client import GatewayClient

            gateway = GatewayClient.instance().url
        return {
            "version": importlib.metadata.version("nexus-ide"),
            "root": str(nexus.root),
            "index": index,
            "providers": providers,
            "kernels": {**kernels, "gateway": gateway},
            "websocket": {"path": self.base_url.rstrip("/") + "/nexus/api/ws", "types": nexus.registry.types(),
                          "connections": len(nexus.dispatcher.sessions)},
            "contexts": {"available": "context:create" in nexus.registry
                         and nexus.registry.get("context:create").unavailable is None},  # type: ignore[union-attr]
        }


class FilesHandler(NexusAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.respond(self.read())

    async def read(self) -> Any:
        return await self.call("files:read", {"path": self.argument("path")})


class SearchHandler(NexusAPIHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        await self.respond(self.search())

    async def search(self) -> Any:
        payload: dict[str, Any] = {"query": self.argument("q"), "mode": self.argument("kind", "text")}
        limit = self.get_query_argument("limit", None)
        if limit is not None:
            if not limit.isdigit():
                raise GatewayError(ErrorCode.BAD_REQUEST, "the query parameter 'limit' must be a whole number")
            payload["limit"] = int(limit)
        languages = self.get_query_argument("languages", None)
        if languages:
            payload["languages"] = [x.strip() for x in languages.split(",") if x.strip()]
        return await self.call("search:query", payload)


class ExecuteHandler(NexusAPIHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        await self.respond(self.execute_body())

    async def execute_body(self) -> Any:
        return await self.call("ide:execute", self.json_body())


class VariablesHandler(NexusAPIHandler):
    @web.authenticated
    @authorized("execute")
    async def get(self, kernel_id: str) -> None:
        await self.respond(self.variables(kernel_id))

    async def variables(self, kernel_id: str) -> Any:
        raw = self.get_query_argument("timeout", "10")
        try:
            timeout = float(raw)
        except ValueError:
            timeout = -1.0
        if not 0.1 <= timeout <= 120:
            raise GatewayError(ErrorCode.BAD_REQUEST, "timeout must be a number of seconds from 0.1 to 120")
        return await self.call("kernel:variables", {"kernelId": kernel_id, "timeout": timeout})


class ProcessorHandler(NexusAPIHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self, provider: str) -> None:
        await self.respond(self.process(provider))

    async def process(self, provider: str) -> Any:
        return await self.call("processor:run", {**self.json_body(), "processor": provider})


class ChainHandler(NexusAPIHandler):
    @web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        await self.respond(self.chain())

    async def chain(self) -> Any:
        return await self.call("processor:chain", self.json_body())


class ContextCreateHandler(NexusAPIHandler):
    """``POST context/create``: the seed's ``{content, metadata}`` (or ``{request: {...}}`` to build one
    from the index), or a ``text/plain`` body with ``?type=&source=``; ``X-Context-Size`` caps the tokens."""

    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        await self.respond(self.create())

    async def create(self) -> Any:
        limit = self.request.headers.get("X-Context-Size")
        max_tokens = None
        if limit is not None:
            store = await self.nexus.workspace.contexts()
            ceiling = store.settings.max_tokens
            if not limit.strip().isdigit() or not 1 <= int(limit) <= ceiling:
                raise GatewayError(ErrorCode.BAD_REQUEST, f"X-Context-Size must be a number of tokens from 1 to {ceiling}")
            max_tokens = int(limit)
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() == "text/plain":
            try:
                content = self.request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise GatewayError(ErrorCode.BAD_REQUEST, "the request body is not UTF-8 text") from None
            metadata = {k: v for k in ("type", "source") if (v := self.get_query_argument(k, None))}
            payload: dict[str, Any] = {"content": content, "metadata": metadata}
        else:
            payload = self.json_body()
        if max_tokens is not None:
            payload["maxTokens"] = max_tokens
        return await self.call("context:create", payload)


class ContextHandler(NexusAPIHandler):
    """``GET context/{id}``: the stored context's metadata; ``?page=N&pageSize=M`` adds a page of its
    pieces with their text (``?text=1``: the whole text, for contexts small enough to want that)."""

    @web.authenticated
    @authorized
    async def get(self, context_id: str) -> None:
        await self.respond(self.read(context_id))

    async def read(self, context_id: str) -> Any:
        payload: dict[str, Any] = {"contextId": context_id,
                                   "text": self.get_query_argument("text", "") in ("1", "true")}
        page = self.get_query_argument("page", None)
        if page is not None:
            size = self.get_query_argument("pageSize", "50")
            if not page.isdigit() or not size.isdigit() or not 1 <= int(size) <= 1000:
                raise GatewayError(ErrorCode.BAD_REQUEST, "page must be >= 0 and pageSize 1-1000")
            payload.update(page=int(page), pageSize=int(size))
        return await self.call("context:get", payload)


class GraphHandler(NexusAPIHandler):
    """``GET graph/{symbol}``: definitions, callers and callees (``?mode=callers|callees|imports``,
    ``?limit=``) from the code graph, as ``nexus graph SYMBOL --json``."""

    @web.authenticated
    @authorized
    async def get(self, symbol: str) -> None:
        await self.respond(self.graph(symbol))

    async def graph(self, symbol: str) -> Any:
        mode = self.get_query_argument("mode", None)
        if mode not in (None, "callers", "callees", "imports"):
            raise GatewayError(ErrorCode.BAD_REQUEST, "mode must be callers, callees or imports")
        limit = self.get_query_argument("limit", "200")
        if not limit.isdigit() or not 1 <= int(limit) <= 100_000:
            raise GatewayError(ErrorCode.BAD_REQUEST, "limit must be a whole number from 1 to 100000")
        return await self.call("graph:query", {"symbol": symbol, "mode": mode, "limit": int(limit)})


class IndexHandler(NexusAPIHandler):
    @web.authenticated
    @authorized("write")
    async def post(self) -> None:
        await self.respond(self.call("index:run", {}))


HANDLERS: list[tuple[str, type[web.RequestHandler]]] = [
    (r"/nexus/api/status", StatusHandler),
    (r"/nexus/api/files", FilesHandler),
    (r"/nexus/api/search", SearchHandler),
    (r"/nexus/api/execute", ExecuteHandler),
    (r"/nexus/api/kernels/([^/]+)/variables", VariablesHandler),
    (r"/nexus/api/processor/chain", ChainHandler),
    (r"/nexus/api/processor/([^/]+)", ProcessorHandler),
    (r"/nexus/api/index", IndexHandler),
    (r"/nexus/api/context/create", ContextCreateHandler),
    (r"/nexus/api/context/([^/]+)", ContextHandler),
    (r"/nexus/api/graph/(.+)", GraphHandler),
]
