"""The gateway's handle on the workspace index is the operations layer's (kept importable here)."""

from nexus.services.workspace import WorkspaceHandle

__all__ = ["WorkspaceHandle"]
