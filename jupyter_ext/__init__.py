"""The Nexus jupyter-server extension (``jpserver_extensions: {"nexus.jupyter_ext": true}``) and the
jupyter-lsp spec that registers ``nexus lsp`` with JupyterLab's language server client."""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import NexusExtension

    return [{"module": "nexus.jupyter_ext.app", "app": NexusExtension}]


__all__ = ["_jupyter_server_extension_points"]
