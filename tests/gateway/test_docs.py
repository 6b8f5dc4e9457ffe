"""The client example in docs/gateway.md runs as printed against a real gateway."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .wsclient import PASSWORDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "gateway.md"


async def test_the_documented_python_client_works(start: Callable[..., Any], workspace: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = re.search(r"## A Python client\n\n```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    (workspace / "README.md").write_text("# The project\n")
    async with start() as gw:
        await namespace["main"](gw.url, "dave", PASSWORDS["dave"])
    out = capsys.readouterr().out
    assert "logged in as developer" in out
    assert "'type': 'pong'" in out
    assert "# The project" in out
