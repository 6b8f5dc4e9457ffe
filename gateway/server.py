"""The WebSocket gateway: ``websockets`` (asyncio API) in front of the transport-agnostic dispatcher.

    ws://HOST:PORT/ws/gateway?token=JWT   (or ``Authorization: Bearer JWT``; no token: auth:login only)
    GET /health    JSON status (503 while shutting down); public
    GET /metrics   Prometheus text format; an admin's token unless ``metrics_public``
    ws://HOST:PORT/ws/collab/<room>?token=JWT   live sessions (y-websocket; :mod:`.collab`)

The handshake hook (``process_request``) serves the two HTTP paths and checks the token, so a forged,
expired or ``alg: none`` token is refused with HTTP 401 before a WebSocket exists. Who the client is
comes from :mod:`.clientaddr` (``X-Forwarded-For`` believed only from ``trusted_proxies``); how many
sockets it may hold, anonymous or not, from :mod:`.connections`. Limits:
``max_message_bytes`` (larger frames close the connection with 1009, done by ``websockets``),
``max_concurrent`` requests per connection, a bounded outbox per connection with ``send_timeout`` for
readers that stop, ``idle_timeout``, and :meth:`Gateway.stop`, which stops accepting, lets in-flight
requests finish for ``shutdown_grace`` seconds, cancels the rest, then closes with 1001.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http
import importlib.util
import ipaddress
import json
import logging
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from nexus.engine.config import Settings, load_settings
from nexus.engine.errors import ConfigError, NexusError

from .auth import TokenError, TokenIssuer, load_secret
from .clientaddr import ClientAddress, address_key
from .collab import PREFIX as COLLAB_PREFIX
from .collab import CollabEndpoint, room_from_path, wants_ack
from .connections import CLOSE_POLICY, ConnectionLimits, Refusal
from .handlers import Services, build_registry
from .kernels import KernelsHandle
from .metrics import CONTENT_TYPE, GatewayMetrics
from .protocol import ConnectionGone, Dispatcher, ErrorCode, GatewayError, Identity, Registry, Role, Session
from .ratelimit import RateLimiter, build_limiter, build_login_limiter
from .settings import GatewaySettings
from .users import UserStore
from .workspace import WorkspaceHandle

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderRouter

log = logging.getLogger(__name__)

CLOSE_TIMEOUT = 5.0


class WebSocketTransport:
    """The dispatcher's Transport over one ``websockets`` connection."""

    __slots__ = ("_closing", "ws")

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self._closing: asyncio.Task[None] | None = None

    async def send(self, data: bytes) -> None:
        try:
            await self.ws.send(data, text=True)
        except ConnectionClosed as exc:
            raise ConnectionGone("connection closed") from exc

    def close(self, code: int, reason: str) -> None:
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self.ws.close(code, reason))

    def abort(self) -> None:
        self.ws.transport.abort()


class Gateway:
    def __init__(self, settings: GatewaySettings, *, registry: Registry, users: UserStore, tokens: TokenIssuer,
                 metrics: GatewayMetrics | None = None, limiter: RateLimiter | None = None,
                 services: Services | None = None, collab: CollabEndpoint | None = None) -> None:
        _validate(settings)
        self.collab = collab
        self._collab_requests: weakref.WeakKeyDictionary[ServerConnection, tuple[str, bool]] = (
            weakref.WeakKeyDictionary())
        self.settings = settings
        self.services = services
        self.users = users
        self.tokens = tokens
        self.metrics = metrics or GatewayMetrics()
        self.dispatcher = Dispatcher(registry, limits=settings.session_limits(), limiter=limiter,
                                     observer=self.metrics)
        self.metrics.connections.set_function(lambda: len(self.dispatcher.sessions))
        self.client_address = ClientAddress.from_settings(settings.trusted_proxies, settings.forwarded_header)
        self.connections = ConnectionLimits(settings.max_anonymous, settings.max_anonymous_per_address,
                                            settings.max_connections_per_user)
        self.metrics.anonymous.set_function(lambda: self.connections.anonymous)
        self.dispatcher.on_authenticate = self._authenticating
        # Per open session: (anonymous, address key) or (False, user name): the cap it counts against.
        self._slots: dict[Session, tuple[bool, str]] = {}
        self._deadlines: dict[Session, asyncio.TimerHandle] = {}
        self._identities: weakref.WeakKeyDictionary[ServerConnection, Identity] = weakref.WeakKeyDictionary()
        self._server: Server | None = None
        self._port: int | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[None] | None = None
        self._started = time.monotonic()
        self._stopping: asyncio.Task[None] | None = None

    @classmethod
    def create(cls, settings: GatewaySettings, root: Path, *, nexus_settings: Settings | None = None,
               providers: ProviderRouter | None = None) -> Gateway:
        """The gateway with its users file, secret, tokens and every handler, for workspace ``root``.

        ``nexus_settings`` (default: ``load_settings(root)``) configures the subsystems (index,
        providers); ``providers`` replaces the router built from them. Raises ConfigError (bad gateway
        settings, unreadable secret, root not a folder). Invalid provider settings do not stop the
        gateway: the AI types answer ``unavailable`` with the reason.
        """
        if not root.is_dir():
            raise ConfigError(f"workspace root {root} is not a directory")
        root = root.resolve()
        nexus_settings = nexus_settings if nexus_settings is not None else load_settings(root)
        users = UserStore(settings.users_path())
        tokens = TokenIssuer(load_secret(settings.secret, settings.secret_path()), ttl=settings.token_ttl,
                             max_age=settings.session_max_age)
        metrics = GatewayMetrics()
        problem = None
        if providers is None and importlib.util.find_spec("nexus.engine.providers") is not None:
            from nexus.engine.providers import ProviderRouter

            try:
                providers = ProviderRouter.from_settings(nexus_settings, root=root)
            except ConfigError as exc:
                log.error("AI is off in the gateway: %s", exc)
                problem = f"AI is not available: the provider settings are invalid ({exc})"
        workspace = (WorkspaceHandle(root, nexus_settings)
                     if importlib.util.find_spec("nexus.engine.workspace") is not None else None)
        kernels, kernels_problem = _kernels(nexus_settings, root)
        if kernels is not None:
            metrics.active_kernels.set_function(kernels.active_count)
        services = Services(root=root, users=users, tokens=tokens, metrics=metrics, workspace=workspace,
                            providers=providers, providers_problem=problem, kernels=kernels,
                            kernels_problem=kernels_problem,
                            login_limiter=build_login_limiter(settings.type_rates().get("auth:login", "off"),
                                                              settings.login_user_limit))
        collab = _collab(nexus_settings, root)
        services.backends.collab = collab.rooms if collab is not None else None
        limiter = build_limiter(settings.rate_limit, settings.type_rates())
        return cls(settings, registry=build_registry(services), users=users, tokens=tokens, metrics=metrics,
                   limiter=limiter, services=services, collab=collab)

    @property
    def port(self) -> int:
        """The port listened on (the one picked when settings.port is 0); valid after start()."""
        assert self._port is not None, "start() first"
        return self._port

    @property
    def url(self) -> str:
        return f"ws://{self.settings.host}:{self.port}{self.settings.path}"

    async def start(self) -> None:
        s = self.settings
        self._server = await serve(
            self._handle, s.host, s.port, process_request=self._process_request, max_size=s.max_message_bytes,
            compression="deflate" if s.compression else None, ping_interval=s.ping_interval or None,
            ping_timeout=s.ping_interval or None, close_timeout=CLOSE_TIMEOUT)
        self._port = int(self._server.sockets[0].getsockname()[1])
        interval = max(0.05, min(1.0, s.send_timeout / 4, s.idle_timeout / 4))
        loop = asyncio.get_running_loop()
        self._sweeper = loop.create_task(self.dispatcher.run_sweeper(interval))
        providers = self.services.providers if self.services is not None else None
        if providers is not None and providers.available:
            # Importing a provider SDK takes up to a second: pay it now, not in the first ai:chat.
            self._warming = loop.create_task(self._warm(providers))
        log.info("gateway listening on %s", self.url)
        if not _loopback(s.host):
            log.warning("the gateway listens on %s without TLS: serve other machines through a reverse proxy "
                        "that terminates TLS, listed in gateway.trusted_proxies", s.host)
            if s.metrics_public:
                log.warning("gateway.metrics_public is on and %s is not a loopback address", s.host)

    @staticmethod
    async def _warm(providers: ProviderRouter) -> None:
        try:
            await providers.warm()
        except Exception:  # the first ai:chat will report it to its client; here it is only logged
            log.warning("could not prepare the AI providers", exc_info=True)

    async def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown (idempotent): stop accepting, drain for ``grace`` seconds (default
        ``shutdown_grace``), cancel what is left, close every connection with 1001."""
        if self._stopping is None:
            # Refuse new requests and connections at once; handshakes already under way get 503.
            self.dispatcher.draining = True
            if self._server is not None:
                self._server.server.close()
            self._stopping = asyncio.get_running_loop().create_task(
                self._stop(self.settings.shutdown_grace if grace is None else grace))
        await asyncio.shield(self._stopping)

    async def _stop(self, grace: float) -> None:
        server = self._server
        if server is None:
            return
        await self.dispatcher.drain(grace)
        if self.collab is not None:
            self.collab.close_all()
        server.close(close_connections=True, reason="server shutting down")
        await server.wait_closed()
        if self.collab is not None:
            await self.collab.rooms.close()
        for task in (self._sweeper, self._warming):
            if task is not None:
                task.cancel()
        if self.services is not None:
            await self.services.aclose()
        log.info("gateway stopped")

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    async def _handle(self, ws: ServerConnection) -> None:
        identity = self._identities.pop(ws, None)
        collab = self._collab_requests.pop(ws, None)
        if collab is not None and identity is not None and self.collab is not None:
            await self._serve_collab(ws, identity, *collab)
            return
        peer = self._client(ws)
        key = address_key(peer)
        refusal = (self.connections.open_anonymous(key) if identity is None
                   else self.connections.open_user(identity.user))
        if refusal is not None:
            self._refused("anonymous" if identity is None else "user", refusal, peer)
            await ws.close(refusal.code, refusal.reason)
            return
        session = self.dispatcher.open(WebSocketTransport(ws), identity=identity, peer=peer)
        self._slots[session] = (True, key) if identity is None else (False, identity.user)
        if identity is None:
            self._deadlines[session] = asyncio.get_running_loop().call_later(
                self.settings.auth_timeout, self._auth_deadline, session)
        # Frames websockets has already read for this connection. A client that pipelines thousands of
        # frames (one socket read can hold that many) must not keep the loop to itself, so while some
        # are queued the reader yields after each; an interactive client pays nothing for it. (An
        # internal of websockets: without it, always yield.)
        queued = getattr(getattr(ws, "recv_messages", None), "frames", None)
        try:
            async for raw in ws:
                await session.receive(raw)
                if queued is None or len(queued):
                    await asyncio.sleep(0)
        except (ConnectionClosed, ConnectionGone):
            pass  # an oversize frame (1009), a protocol error, a vanished or stalled peer: nothing to answer
        finally:
            await session.close()
            self._release(session)

    async def _serve_collab(self, ws: ServerConnection, identity: Identity, room: str, ack: bool) -> None:
        assert self.collab is not None
        refusal = self.connections.open_user(identity.user)
        if refusal is not None:
            self._refused("user", refusal, self._client(ws))
            await ws.close(refusal.code, refusal.reason)
            return
        try:
            await self.collab.serve(ws, identity, room, ack=ack)
        finally:
            self.connections.release_user(identity.user)

    def _client(self, ws: ServerConnection) -> str:
        peer = str(ws.remote_address[0]) if ws.remote_address else ""
        request = ws.request
        values = request.headers.get_all(self.client_address.header) if request is not None else []
        return self.client_address.resolve(peer, values)

    def _authenticating(self, session: Session, identity: Identity) -> None:
        """The dispatcher's hook: a session takes an identity (login, refresh) and moves to its user's cap."""
        slot = self._slots.get(session)
        if slot is None or slot == (False, identity.user):
            return
        refusal = self.connections.open_user(identity.user)
        if refusal is not None:
            self._refused("user", refusal, session.peer)
            raise GatewayError(ErrorCode.TOO_MANY_CONNECTIONS, refusal.reason)
        self._release(session)
        self._slots[session] = (False, identity.user)

    def _release(self, session: Session) -> None:
        deadline = self._deadlines.pop(session, None)
        if deadline is not None:
            deadline.cancel()
        slot = self._slots.pop(session, None)
        if slot is not None:
            anonymous, key = slot
            if anonymous:
                self.connections.release_anonymous(key)
            else:
                self.connections.release_user(key)

    def _auth_deadline(self, session: Session) -> None:
        self._deadlines.pop(session, None)
        if session.identity is None and not session.closed:
            timeout = self.settings.auth_timeout
            self._refused("auth_timeout", Refusal(CLOSE_POLICY, ""), session.peer)
            session.transport.close(CLOSE_POLICY, f"not logged in within {timeout:g} s: send auth:login "
                                    "right after connecting, or connect with a token")

    def _refused(self, kind: str, refusal: Refusal, peer: str) -> None:
        self.metrics.refused.inc(kind)
        log.info("closing a connection from %s (%s): %s", peer, kind, refusal.reason or "auth timeout")

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path == "/health":
            return self._health(connection)
        if url.path == "/metrics":
            refused = None if self.settings.metrics_public else self._metrics_refusal(connection, url.query,
                                                                                       request.headers)
            return refused or _respond(connection, http.HTTPStatus.OK, self.metrics.render(), CONTENT_TYPE)
        if url.path.startswith(COLLAB_PREFIX):
            return self._collab_handshake(connection, url.path, url.query, request.headers)
        if url.path != self.settings.path:
            return connection.respond(http.HTTPStatus.NOT_FOUND,
                                      f"no such path; the gateway serves {self.settings.path}, /health, /metrics\n")
        if self.dispatcher.draining:
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "the gateway is shutting down\n")
        token = _token_from(url.query, request.headers)
        if token is None:
            return None  # anonymous: may only auth:login
        checked = self._check_token(connection, token)
        if isinstance(checked, Response):
            return checked
        self._identities[connection] = checked
        return None

    def _collab_handshake(self, connection: ServerConnection, path: str, query: str,
                          headers: Headers) -> Response | None:
        """A live-session socket needs a token (there is no login message in y-websocket) and a valid room."""
        if self.collab is None:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "live collaboration is off in this gateway\n")
        if self.dispatcher.draining:
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "the gateway is shutting down\n")
        try:
            room = room_from_path(path)
        except NexusError as exc:
            return connection.respond(http.HTTPStatus.BAD_REQUEST, f"{exc}\n")
        token = _token_from(query, headers)
        if token is None:
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "a live session needs a token: connect to "
                                      f"{COLLAB_PREFIX}<room>?token=<token from auth:login>\n")
        checked = self._check_token(connection, token)
        if isinstance(checked, Response):
            return checked
        self._identities[connection] = checked
        self._collab_requests[connection] = (room, wants_ack(query))
        return None

    def _check_token(self, connection: ServerConnection, token: str) -> Identity | Response:
        """The identity a token stands for now (the role as the users file says today), or the refusal."""
        if not token:
            return connection.respond(http.HTTPStatus.UNAUTHORIZED,
                                      "malformed Authorization header: use 'Bearer <token>'\n")
        try:
            identity = self.tokens.verify(token)
            user = self.users.get(identity.user)
        except TokenError as exc:
            log.info("refused a token from %s: %s", _peer(connection), exc)
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, f"{exc}\n")
        except NexusError as exc:
            log.error("cannot check a token: %s", exc)
            return connection.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, f"{exc}\n")
        if user is None:
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, f"user {identity.user} no longer exists\n")
        created = user.created_at
        if created is not None and identity.authenticated_at is not None and identity.authenticated_at < created:
            # The name was removed and added again: the old holder's tokens are not the new user's.
            log.info("refused a token from %s: issued before user %s was added", _peer(connection), user.name)
            return connection.respond(http.HTTPStatus.UNAUTHORIZED,
                                      f"this token predates user {user.name}'s account: log in again\n")
        return Identity(user.name, user.role, identity.expires_at, identity.authenticated_at)

    def _metrics_refusal(self, connection: ServerConnection, query: str, headers: Headers) -> Response | None:
        token = _token_from(query, headers)
        if token is None:
            response = connection.respond(http.HTTPStatus.UNAUTHORIZED,
                                          "GET /metrics needs an admin's token (Authorization: Bearer <token>), "
                                          "or gateway.metrics_public = true\n")
            response.headers["WWW-Authenticate"] = 'Bearer realm="nexus-gateway"'
            return response
        checked = self._check_token(connection, token)
        if isinstance(checked, Response):
            return checked
        if checked.role < Role.ADMIN:
            log.info("refused /metrics to %s (%s)", checked.user, checked.role.label)
            return connection.respond(http.HTTPStatus.FORBIDDEN,
                                      f"GET /metrics needs the admin role; {checked.user} is a {checked.role.label}\n")
        return None

    def _health(self, connection: ServerConnection) -> Response:
        draining = self.dispatcher.draining
        body = json.dumps({"status": "draining" if draining else "ok",
                           "connections": len(self.dispatcher.sessions),
                           "uptime": round(time.monotonic() - self._started, 3),
                           "types": self.dispatcher.registry.types()})
        status = http.HTTPStatus.SERVICE_UNAVAILABLE if draining else http.HTTPStatus.OK
        return _respond(connection, status, body + "\n", "application/json")


def _kernels(settings: Settings, root: Path) -> tuple[KernelsHandle | None, str | None]:
    """The execution service's handle, or why code execution is off (invalid ``[kernels]`` settings)."""
    from nexus.kernels import kernel_settings

    try:
        typed = kernel_settings(settings)
    except ConfigError as exc:
        log.error("code execution is off in the gateway: %s", exc)
        return None, f"code execution is not available: the kernel settings are invalid ({exc})"
    if typed.workspace is None:
        typed = dataclasses.replace(typed, workspace=root)
    return KernelsHandle(typed), None


def _collab(settings: Settings, root: Path) -> CollabEndpoint | None:
    """The live-session endpoint over the journal next to the index; None (logged) when it cannot open."""
    from nexus.services.collab import CollabSettings, Journal, JournalError, Rooms
    from nexus.services.collab.rooms import journal_dir_for

    try:
        collab_settings = settings.section("collab", CollabSettings)
        journal = Journal(journal_dir_for(root, settings))
    except (ConfigError, JournalError) as exc:
        log.error("live collaboration is off in the gateway: %s", exc)
        return None
    return CollabEndpoint(Rooms(journal, root, collab_settings))


def _token_from(query: str, headers: Headers) -> str | None:
    """The token from ``?token=`` or ``Authorization: Bearer``; "" for a malformed header; None if absent."""
    values = parse_qs(query).get("token")
    if values:
        return values[0]
    header = headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _respond(connection: ServerConnection, status: http.HTTPStatus, body: str, content_type: str) -> Response:
    response = connection.respond(status, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = content_type
    return response


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _peer(connection: ServerConnection) -> str:
    return str(connection.remote_address[0]) if connection.remote_address else "?"


def _validate(s: GatewaySettings) -> None:
    checks = {
        "max_message_bytes": s.max_message_bytes >= 1024,
        "max_concurrent": s.max_concurrent >= 1,
        "send_window_bytes": s.send_window_bytes >= 1024,
        "send_timeout": s.send_timeout > 0,
        "idle_timeout": s.idle_timeout > 0,
        "shutdown_grace": s.shutdown_grace >= 0,
        "ping_interval": s.ping_interval >= 0,
        "max_anonymous": s.max_anonymous >= 1,
        "max_anonymous_per_address": s.max_anonymous_per_address >= 1,
        "max_connections_per_user": s.max_connections_per_user >= 1,
        "auth_timeout": s.auth_timeout > 0,
        "port": 0 <= s.port <= 65535,
    }
    bad = [name for name, ok in checks.items() if not ok]
    if bad:
        raise ConfigError("invalid gateway settings: " + ", ".join(f"gateway.{n}={getattr(s, n)!r}" for n in bad))
    if not s.path.startswith("/"):
        raise ConfigError(f"gateway.path must start with '/': {s.path!r}")
