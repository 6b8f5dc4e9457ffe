"""The escape suite through a real jupyter-server with the extension: every attack as ``POST execute``
without a ``kernelId`` (a one-shot run: the sandboxed Nexus service, the workspace read-only), with the
gateway's secret and an API key in the server's environment (tests/support/escapes.py).

A request naming a notebook's ``kernelId`` runs in that notebook's own kernel, under Jupyter's trust
model (the user's own kernel, as the server's user): it is not part of this suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.escapes import ATTACKS, host, require_sandbox, run_all, unsupported

from .conftest import Fetch, api

MEMORY_MB = 256
PROCESSES = 32


@pytest.fixture
def nexus_config() -> dict[str, Any]:
    return {"kernels": {"timeout_seconds": 60, "pool": {}, "memory_mb": MEMORY_MB, "processes": PROCESSES}}


async def test_no_attack_escapes_through_execute(jp_fetch: Fetch, workspace: Path) -> None:
    require_sandbox()
    with host(workspace, MEMORY_MB, PROCESSES) as h:
        results = {}
        for attack in ATTACKS:
            if unsupported(attack):
                continue
            status, body = await api(jp_fetch, "execute", method="POST",
                                     body={"code": h.subs(attack.code), "timeout": 60000})
            assert status == 200, (attack.name, body)
            results[attack.name] = body
        status, cpp = await api(jp_fetch, "execute", method="POST",
                                body={"language": "cpp", "code": '#include <cstdio>\nstd::puts("built");', "timeout": 60000})
        assert status == 200 and cpp["output"] == "built\n", cpp
        _, kernels = await api_kernels(jp_fetch)
        assert kernels == []  # none of it ran in a kernel of jupyter-server's own manager
        assert not (workspace / "cpp-build").exists()  # the C++ kernel builds in its own folder
        run_all(h, results)


async def api_kernels(jp_fetch: Fetch) -> tuple[int, list[dict[str, object]]]:
    import json

    response = await jp_fetch("api", "kernels")
    return response.code, json.loads(response.body)


class TestUnsandboxed:
    @pytest.fixture
    def nexus_config(self) -> dict[str, Any]:
        return {"kernels": {"pool": {}, "use_bwrap": False}}

    async def test_execute_is_refused(self, jp_fetch: Fetch, workspace: Path) -> None:
        status, body = await api(jp_fetch, "execute", method="POST", body={"code": "print('ran')"})
        assert (status, body["code"]) == (503, "unavailable"), body
        assert "allow_unsandboxed" in body["message"]


class TestUnsandboxedAllowed:
    @pytest.fixture
    def nexus_config(self) -> dict[str, Any]:
        return {"kernels": {"pool": {}, "use_bwrap": False, "allow_unsandboxed": True}}

    async def test_execute_runs(self, jp_fetch: Fetch, workspace: Path) -> None:
        status, body = await api(jp_fetch, "execute", method="POST", body={"code": "print('ran')"})
        assert status == 200 and body["output"] == "ran\n", body
