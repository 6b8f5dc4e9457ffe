"""The operations layer: every use case declared once, with typed parameters and results and a JSON
Schema, implemented once over ``nexus.engine`` and ``nexus.kernels``, and served by every face.

    registry = Registry.default()
    backends = Backends.open(root, settings)
    async for item in registry.call("search", {"query": "retry", "mode": "files"}, Call(backends, identity)):
        ...  # item.kind, item.data (JSON), item.final

Faces (``nexus.lsp_server``, ``nexus.jupyter_ext``, ``nexus.gateway``, ``nexus.cli``) only decode their
protocol, call the registry and encode; they never import each other. See docs/architecture.md.
"""

from __future__ import annotations

from .backends import Backends
from .call import Call
from .errors import ErrorCode, OperationError, translate
from .identity import LOCAL, Identity, Role
from .operation import Event, Operation, operation
from .permission import Permission
from .registry import Emitted, Registry
from .workspace import WorkspaceHandle

__all__ = [
    "LOCAL", "Backends", "Call", "Emitted", "ErrorCode", "Event", "Identity", "Operation", "OperationError", "Permission",
    "Registry", "Role", "WorkspaceHandle", "operation", "translate",
]
