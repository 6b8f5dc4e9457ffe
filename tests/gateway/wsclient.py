"""Real ``websockets`` clients speaking the gateway protocol, and the gateway the tests start."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from nexus.engine.config import Settings
from nexus.engine.providers import ProviderRouter, load_providers_config
from nexus.gateway import Gateway, GatewaySettings, Role

SECRET = "test-secret-" + "x" * 40
PASSWORDS = {"alice": "alice-password", "dave": "dave-password", "vera": "vera-password"}
ROLES = {"alice": Role.ADMIN, "dave": Role.DEVELOPER, "vera": Role.VIEWER}


def create(settings: GatewaySettings, workspace: Path, providers: ProviderRouter | None = None) -> Gateway:
    """A gateway that reads no nexus.toml and, unless given a router, no API key from the environment."""
    if providers is None:
        providers = ProviderRouter(load_providers_config(Settings({}), env={}))
    return Gateway.create(settings, workspace, nexus_settings=Settings({}), providers=providers)


def token_for(gw: Gateway, user: str) -> str:
    return gw.tokens.issue(user, ROLES[user]).token


@contextlib.asynccontextmanager
async def client(gw: Gateway, user: str | None = None, **kwargs: Any) -> AsyncIterator[Client]:
    url = gw.url if user is None else f"{gw.url}?token={token_for(gw, user)}"
    async with connect(url, max_size=None, **kwargs) as ws:
        yield Client(ws)


class Client:
    """A real websockets client speaking the gateway protocol, with numbered request ids."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._next = 0

    async def send(self, type_: str, payload: dict[str, Any] | None = None, id_: Any = None) -> Any:
        if id_ is None:
            self._next += 1
            id_ = f"r{self._next}"
        message: dict[str, Any] = {"type": type_, "id": id_}
        if payload is not None:
            message["payload"] = payload
        await self.ws.send(json.dumps(message))
        return id_

    async def recv(self) -> dict[str, Any]:
        reply = json.loads(await self.ws.recv())
        assert isinstance(reply, dict)
        return reply

    async def request(self, type_: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and return its single reply (asserting the id matches)."""
        id_ = await self.send(type_, payload)
        reply = await self.recv()
        assert reply["id"] == id_, reply
        return reply

    async def login(self, user: str) -> dict[str, Any]:
        return await self.request("auth:login", {"username": user, "password": PASSWORDS[user]})


def error_code(reply: dict[str, Any]) -> str:
    assert reply["type"] == "error", reply
    return str(reply["data"]["code"])
