"""A real gateway on 127.0.0.1 (a free port) in the test's event loop, real ``websockets`` clients, and
a users file with one user per role (hashed once per session: scrypt is slow on purpose)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from nexus.engine.providers import ProviderRouter
from nexus.gateway import Gateway, GatewaySettings, UserStore

from .wsclient import PASSWORDS, ROLES, SECRET, create


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own nexus.toml or NEXUS_GATEWAY_* settings."""
    for key in [k for k in os.environ if k.startswith("NEXUS_GATEWAY_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("NEXUS_CONFIG_DIR", str(tmp_path / "user-config"))


@pytest.fixture(scope="session")
def users_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "gateway-users.json"
    store = UserStore(path)
    for name, role in ROLES.items():
        store.add(name, role, PASSWORDS[name])
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('héllo')\n", encoding="utf-8")
    return root


@pytest.fixture
def settings(tmp_path: Path, users_template: Path) -> GatewaySettings:
    users = tmp_path / "config" / "gateway-users.json"
    users.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(users_template, users)
    return GatewaySettings(host="127.0.0.1", port=0, users_file=users, secret=SECRET, ping_interval=0,
                           shutdown_grace=2.0)


@pytest.fixture
def start(settings: GatewaySettings, workspace: Path) -> Callable[..., contextlib.AbstractAsyncContextManager[Gateway]]:
    """``async with start(**setting_changes, setup=fn, providers=router) as gw``: a started gateway,
    stopped afterwards. ``setup(gateway)`` runs before start (to register test-only handlers); without
    ``providers`` no AI provider is configured, whatever the environment holds."""

    @contextlib.asynccontextmanager
    async def running(setup: Callable[[Gateway], None] | None = None, providers: ProviderRouter | None = None,
                      **changes: Any) -> AsyncIterator[Gateway]:
        gw = create(dataclasses.replace(settings, **changes), workspace, providers)
        if setup is not None:
            setup(gw)
        await gw.start()
        try:
            yield gw
        finally:
            await gw.stop(grace=0)

    return running
