"""The package installs under the nexus namespace and the engine stays free of adapters."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTER_MODULES = ("lsprotocol", "pygls", "tornado", "jupyter_server", "websockets", "nexus.lsp_server",
                   "nexus.jupyter_ext", "nexus.gateway", "nexus.cli")


def test_no_generic_top_level_packages() -> None:
    for name in ("engine", "kernels", "lsp_server", "gateway"):
        spec = importlib.util.find_spec(name)
        assert spec is None or Path(spec.origin or "").resolve().is_relative_to(ROOT), name


def test_engine_and_kernels_never_import_adapters() -> None:
    offenders = []
    for folder in ("engine", "kernels"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    if any(name == m or name.startswith(m + ".") for m in ADAPTER_MODULES):
                        offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []
