"""A real gateway (the gateway tests' fixtures) and pycrdt clients of its live sessions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from nexus.cli.collab_client import CollabClient, room_url
from nexus.gateway import Gateway
from tests.gateway.conftest import isolated_config, settings, start, users_template, workspace
from tests.gateway.wsclient import token_for

__all__ = ["isolated_config", "settings", "start", "users_template", "workspace"]


def url_for(gw: Gateway, room: str, user: str = "dave", *, ack: bool = True) -> str:
    return room_url(gw.url, room, token_for(gw, user), ack=ack)


@pytest.fixture
def join() -> Callable[..., contextlib.AbstractAsyncContextManager[CollabClient]]:
    """``async with join(gw, room, user) as client``: a synced client, closed afterwards."""

    @contextlib.asynccontextmanager
    async def joined(gw: Gateway, room: str, user: str = "dave", **kwargs: Any) -> AsyncIterator[CollabClient]:
        client = CollabClient(url_for(gw, room, user, **kwargs))
        await client.connect()
        try:
            yield client
        finally:
            await client.close()

    return joined
