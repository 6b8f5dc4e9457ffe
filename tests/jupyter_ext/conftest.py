"""A real jupyter-server (pytest-jupyter) with the Nexus extension enabled, in the test's event loop.

pytest-jupyter runs coroutine tests in a loop of its own, which pytest-asyncio (asyncio_mode = auto)
does not know: a server started in one loop and a test awaiting in another hang. So its fixtures are
imported here without its two collection/call hooks, and ``jp_asyncio_loop`` *is* pytest-asyncio's loop
(an async fixture returns the loop it runs in; the server fixtures use it before the test starts).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403 - the jp_* fixtures
from traitlets.config import Config

from tests.support.fake_llm import FakeLLM, fake_llm  # noqa: F401 - the fixture

del pytest_pycollect_makeitem, pytest_pyfunc_call  # noqa: F821 - pytest-asyncio runs coroutine tests

PROVIDER_KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")


@pytest.fixture
async def jp_asyncio_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest.fixture(autouse=True)
def no_user_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's API keys or NEXUS_* settings."""
    for key in [k for k in os.environ if k.startswith("NEXUS_") and k not in ("NEXUS_CACHE_DIR", "NEXUS_CONFIG_DIR")]:
        monkeypatch.delenv(key)
    for key in PROVIDER_KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def nexus_config() -> dict[str, Any]:
    """The NexusExtension.nexus_config trait; tests override this fixture (or extend it)."""
    return {"kernels": {"timeout_seconds": 30}}


@pytest.fixture
def extensions() -> dict[str, bool]:
    return {"nexus.jupyter_ext": True}


@pytest.fixture
def authorizer_class() -> type | None:
    """A jupyter_server Authorizer for the server (parametrize this name to change it); None: the default."""
    return None


@pytest.fixture
def jp_server_config(nexus_config: dict[str, Any], extensions: dict[str, bool],
                     authorizer_class: type | None) -> Config:
    server: dict[str, Any] = {"jpserver_extensions": extensions}
    if authorizer_class is not None:
        server["authorizer_class"] = authorizer_class
    return Config({"ServerApp": server, "NexusExtension": {"nexus_config": nexus_config}})


@pytest.fixture
def workspace(jp_root_dir: Path) -> Path:
    """The server's root_dir, which is the Nexus workspace."""
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "app.py").write_text(
        'def greet(name):\n    """Say hello."""\n    return f"hello {name}"\n', encoding="utf-8")
    return jp_root_dir


Fetch = Callable[..., Any]


async def api(jp_fetch: Fetch, *parts: str, method: str = "GET", body: Any = None,
              params: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """Call ``nexus/api/...``; returns (status, JSON body) for successes and errors alike."""
    from tornado.httpclient import HTTPClientError

    kwargs: dict[str, Any] = {"method": method, "params": params or {}, "headers": headers or {}}
    if body is not None or method == "POST":
        kwargs["body"] = body if isinstance(body, str | bytes) else json.dumps(body if body is not None else {})
    try:
        response = await jp_fetch("nexus", "api", *parts, **kwargs)
    except HTTPClientError as err:
        assert err.response is not None, err
        return err.code, json.loads(err.response.body or b"null")
    return response.code, json.loads(response.body)
