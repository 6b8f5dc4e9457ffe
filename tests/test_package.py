"""The package installs under the nexus namespace and the engine stays free of adapters."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADAPTER_MODULES = ("lsprotocol", "pygls", "tornado", "jupyter_server", "websockets", "mcp", "acp", "nexus.lsp_server",
                   "nexus.jupyter_ext", "nexus.gateway", "nexus.mcp_server", "nexus.acp_server", "nexus.cli")


def test_no_generic_top_level_packages() -> None:
    for name in ("engine", "kernels", "lsp_server", "gateway"):
        spec = importlib.util.find_spec(name)
        assert spec is None or Path(spec.origin or "").resolve().is_relative_to(ROOT), name


def test_engine_kernels_and_operations_never_import_adapters() -> None:
    offenders = []
    for folder in ("engine", "kernels", "services"):
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


def test_every_source_folder_is_a_regular_package() -> None:
    # find_packages (what a non-editable install uses) skips folders without __init__.py, while an
    # editable install still imports them: a missing one only breaks real installs.
    missing = []
    for folder in ("cli", "engine", "kernels", "services", "lsp_server", "jupyter_ext", "gateway", "mcp_server", "acp_server"):
        for path in (ROOT / folder).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            if not (path.parent / "__init__.py").exists():
                missing.append(str(path.parent.relative_to(ROOT)))
    assert sorted(set(missing)) == []


def test_runtime_files_are_package_data() -> None:
    import re

    setup_text = (ROOT / "setup.py").read_text()
    patterns = re.search(r'package_data=\{"": \[(.*?)\]\}', setup_text)
    assert patterns is not None
    suffixes = {p.strip().strip('"').lstrip("*") for p in patterns.group(1).split(",")}
    for folder in ("cli", "engine", "kernels", "lsp_server", "jupyter_ext", "gateway"):
        for path in (ROOT / folder).rglob("*"):
            # jupyter_ext/labextension is the built JupyterLab extension: data_files, not package data.
            if path.is_file() and "node_modules" not in path.parts and "__pycache__" not in path.parts \
                    and path.suffix not in (".py", ".pyc") and path.name != "package-lock.json" \
                    and not path.is_relative_to(ROOT / "jupyter_ext" / "labextension"):
                assert path.suffix in suffixes or path.name in suffixes, path


FACES = ("lsp_server", "jupyter_ext", "gateway", "mcp_server", "acp_server", "cli")
LAUNCHERS = {"cli/lsp.py": "lsp_server", "cli/gateway.py": "gateway", "cli/users.py": "gateway",
             "cli/mcp.py": "mcp_server", "cli/acp.py": "acp_server"}
"""The CLI starts the other faces' servers (``nexus lsp``, ``nexus gateway``) and manages the gateway's
users file: those launcher modules are the only place one face names another."""


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_no_face_imports_another_face() -> None:
    offenders = []
    for face in FACES:
        for path in (ROOT / face).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            rel = path.relative_to(ROOT).as_posix()
            for name in _imports(path):
                for other in FACES:
                    if other != face and (name == f"nexus.{other}" or name.startswith(f"nexus.{other}.")):
                        if LAUNCHERS.get(rel) != other:
                            offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_the_operations_layer_imports_no_face() -> None:
    offenders = [f"{path.relative_to(ROOT)} imports {name}" for path in (ROOT / "services").rglob("*.py")
                 for name in _imports(path) if any(name.startswith(f"nexus.{face}") for face in FACES)]
    assert offenders == []
