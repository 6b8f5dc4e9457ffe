"""A fixture repository with a failing test, and the agent's backends: real index, real providers' SDKs
against the local fake model server, real sandboxed test runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nexus.engine import Workspace
from nexus.engine.config import Settings
from nexus.engine.providers import ProviderRouter, load_providers_config
from nexus.services import Backends, Call, Registry
from tests.providers.conftest import KEY_ENV, provider_settings
from tests.support.fake_llm import FakeLLM, fake_llm  # noqa: F401  (re-exported fixture)

CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TESTS = ("from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
         "def test_zero():\n    assert add(0, 0) == 0\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
FIX = {"edits": [{"path": "calc.py", "oldText": "return a - b", "newText": "return a + b"}],
       "description": "add() subtracted its arguments"}


def make_repo(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(CALC)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    (root / "conftest.py").write_text("")  # the root joins sys.path, as in most projects
    with Workspace.open(root) as ws:
        ws.index()
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
async def agent_call(repo: Path, fake_llm: FakeLLM) -> AsyncIterator[Call]:  # noqa: F811
    router = ProviderRouter(load_providers_config(provider_settings(fake_llm, max_retries=0), env=KEY_ENV))
    backends = Backends.open(repo, Settings({}), providers=False)
    backends.providers = router
    try:
        yield Call(backends)
    finally:
        await backends.aclose()


async def run(call: Call, payload: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The ai.agent operation's streamed items and its result."""
    items: list[Any] = []
    final: dict[str, Any] = {}
    async for item in Registry.default().call("ai.agent", payload, call):
        if item.final:
            final = item.data
        else:
            items.append((item.kind, item.data))
    return items, final
