"""``{base_url}nexus/api/ws``: the gateway's message protocol over tornado's WebSocket, with Jupyter's auth.

The connection is authenticated by Jupyter (token, cookie, or whatever identity provider the server
uses) and its role comes from Jupyter's authoriser on the ``nexus`` resource: ``execute`` permission makes
a developer (``ide:execute``, ``ai:chat``, ``processor:chain``, ``context:*``), ``read`` a viewer (``ping``,
``files:read``, ``search:query``); neither is refused with 403 at the handshake. Everything after the
handshake is :mod:`nexus.services.wire`: the same dispatcher, limits and error codes as the gateway.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from nexus.services.wire import ConnectionGone, Identity, Role, Session

from .handlers import AUTH_RESOURCE

if TYPE_CHECKING:
    from .services import NexusServices

log = logging.getLogger(__name__)


class TornadoTransport:
    """The dispatcher's Transport over one tornado WebSocket connection."""

    __slots__ = ("handler",)

    def __init__(self, handler: WebSocketHandler) -> None:
        self.handler = handler

    async def send(self, data: bytes) -> None:
        try:
            # bytes with binary=False: one text frame; the future resolves once tornado has flushed it
            await self.handler.write_message(data, binary=False)
        except (WebSocketClosedError, StreamClosedError) as exc:
            raise ConnectionGone("connection closed") from exc

    def close(self, code: int, reason: str) -> None:
        self.handler.close(code, reason)

    def abort(self) -> None:
        connection = self.handler.ws_connection
        stream = getattr(connection, "stream", None)
        if stream is not None:
            stream.close()


class NexusWebSocket(WebSocketMixin, WebSocketHandler, JupyterHandler):
    auth_resource = AUTH_RESOURCE
    session: Session | None = None
    identity: Identity | None = None

    @property
    def nexus(self) -> NexusServices:
        return self.settings["nexus_services"]  # type: ignore[no-any-return]

    @property
    def max_message_size(self) -> int:
        return self.nexus.limits.max_message_bytes

    def set_default_headers(self) -> None:
        """No CSP or cache headers on a WebSocket upgrade (as jupyter-server's kernel socket)."""

    def get_compression_options(self) -> dict[str, Any] | None:
        return self.settings.get("websocket_compression_options", None)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        user = self.current_user
        role = await self._role(user)
        if role is None:
            raise web.HTTPError(403, f"{getattr(user, 'username', user)} may not use the Nexus API")
        self.identity = Identity(str(getattr(user, "username", user)), role)
        await super().get(*args, **kwargs)

    async def _role(self, user: Any) -> Role | None:
        for action, role in (("execute", Role.DEVELOPER), ("read", Role.VIEWER)):
            if await ensure_async(self.authorizer.is_authorized(self, user, action, AUTH_RESOURCE)):
                return role
        return None

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)  # WebSocketMixin: keepalive pings
        # Streamed replies are many small frames: without TCP_NODELAY the second of two quick writes
        # waits for the peer's delayed ACK (40 ms per ide:execute here).
        self.set_nodelay(True)
        nexus = self.nexus
        self.session = nexus.dispatcher.open(TornadoTransport(self), identity=self.identity,
                                             peer=self.request.remote_ip or "")
        nexus.start_sweeper()
        log.debug("Nexus WebSocket opened for %s", self.identity)

    async def on_message(self, message: str | bytes) -> None:
        # tornado awaits this coroutine before delivering the next frame: inbound backpressure.
        if self.session is None:
            return
        try:
            await self.session.receive(message)
        except ConnectionGone:
            self.close()

    def on_close(self) -> None:
        if self.session is not None:
            self.nexus.keep(asyncio.ensure_future(self.session.close()))
