"""The ``[gateway]`` settings section (nexus.toml, .nexus.toml, ``NEXUS_GATEWAY_<KEY>``).

    [gateway]
    port = 4000
    rate_limit = "1000/15m"            # per user, all types; "off" disables
    trusted_proxies = ["127.0.0.1/32"] # peers whose X-Forwarded-For is believed; empty: none
    [gateway.type_limits]              # per user and type, on top of rate_limit; merged over the defaults
    "processor:chain" = "10/15m"
    "auth:login" = "30/15m"            # login attempts per client address

The connection and login limits are documented (with the threat model they answer) in docs/gateway.md.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nexus.engine.config import user_config_dir

from .protocol import SessionLimits

DEFAULT_TYPE_LIMITS: dict[str, str] = {
    "processor:chain": "10/15m",
    "context:create": "100/15m",
    "auth:login": "30/15m",  # login attempts per client address (not per connection): password guessing
}
FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")


@dataclasses.dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    port: int = 4000
    path: str = "/ws/gateway"
    users_file: Path | None = None     # default: <user config dir>/gateway-users.json
    secret: str = ""                   # default: the contents of secret_file
    secret_file: Path | None = None    # default: <user config dir>/gateway-secret, generated 0600
    token_ttl: int = 86400             # seconds a token from auth:login / auth:refresh stays valid
    rate_limit: str = "1000/15m"
    type_limits: dict[str, str] = dataclasses.field(default_factory=dict)
    max_message_bytes: int = 4 * 1024 * 1024   # inbound frames above this close the connection (1009)
    max_concurrent: int = 16           # in-flight requests per connection
    send_window_bytes: int = 1024 * 1024       # replies waiting for a slow reader, per connection
    send_timeout: float = 30.0         # a reader that takes nothing for this long is disconnected
    idle_timeout: float = 300.0        # a connection with no message and nothing running is closed
    shutdown_grace: float = 10.0       # in-flight requests get this long to finish at shutdown
    ping_interval: float = 20.0        # WebSocket keepalive; a peer not answering in as long is dropped
    compression: bool = False          # permessage-deflate: saves bandwidth, costs CPU and memory
    # Who the client is behind a reverse proxy: the proxy's header is read only when the direct peer is
    # in one of these networks (CIDRs or addresses); the right-most address not in them is the client.
    trusted_proxies: tuple[str, ...] = ()
    forwarded_header: str = "x-forwarded-for"  # or "forwarded" (RFC 7239): the one your proxy sets
    # Login guessing: "auth:login" in type_limits is per client address; this one counts failed logins
    # per user name from addresses that have not logged in as that user before.
    login_user_limit: str = "100/15m"
    # Sockets without an identity (they may only auth:login) and how long they may stay so.
    max_anonymous: int = 256           # in all
    max_anonymous_per_address: int = 16
    auth_timeout: float = 10.0         # seconds to log in before an anonymous socket is closed (1008)
    max_connections_per_user: int = 256
    session_max_age: int = 7 * 86400   # auth:refresh cannot extend a login beyond this (seconds)
    metrics_public: bool = False       # GET /metrics without an admin token

    def users_path(self) -> Path:
        return self.users_file or user_config_dir() / "gateway-users.json"

    def secret_path(self) -> Path:
        return self.secret_file or user_config_dir() / "gateway-secret"

    def type_rates(self) -> dict[str, str]:
        return {**DEFAULT_TYPE_LIMITS, **{k: str(v) for k, v in self.type_limits.items()}}

    def session_limits(self) -> SessionLimits:
        return SessionLimits(max_concurrent=self.max_concurrent, send_window_bytes=self.send_window_bytes,
                             send_timeout=self.send_timeout, idle_timeout=self.idle_timeout)
