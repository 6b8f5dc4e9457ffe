"""The operations as tools for a model or a tool-calling client: one declaration, one JSON Schema.

MCP (``nexus mcp``), the agent (``ai.agent``) and ACP all list their tools from here, so a tool's name,
description and input schema are the operation's name, summary and parameters schema, and what a client
is allowed to call is decided by one rule, :func:`allowed`.

Tool names are the operation names with ``.`` as ``_`` (``files.read`` is ``files_read``): the Anthropic
and OpenAI APIs, and VS Code's MCP client, accept only ``[A-Za-z0-9_-]`` in tool names.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from . import codec
from .errors import ErrorCode, OperationError
from .identity import Role
from .operation import Operation
from .permission import Permission
from .registry import Registry


@dataclasses.dataclass(frozen=True, slots=True)
class Tool:
    name: str
    operation: Operation
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None  # None when the result is not a JSON object

    @property
    def permission(self) -> Permission:
        return self.operation.permission


def tool_name(operation: str) -> str:
    return operation.replace(".", "_")


def allowed(op: Operation, level: Permission) -> bool:
    """Whether a client allowed ``level`` may call ``op``: read-only clients get exactly the viewer-role
    operations; edit and execute clients get everything up to their level."""
    if op.permission > level:
        return False
    return level > Permission.READ or op.role is Role.VIEWER


class Toolbox:
    """The tools a client allowed ``level`` may call (``only`` narrows them to some operation names)."""

    def __init__(self, registry: Registry, level: Permission, only: tuple[str, ...] = ()) -> None:
        self.registry = registry
        self.level = level
        self._tools: dict[str, Tool] = {}
        for op in registry:
            if not allowed(op, level) or (only and op.name not in only):
                continue
            name = tool_name(op.name)
            if name in self._tools:
                raise ValueError(f"operations {op.name!r} and {self._tools[name].operation.name!r} share tool "
                                 f"name {name!r}")
            self._tools[name] = Tool(name, op, op.summary, _input_schema(op), _output_schema(op))

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

    def require(self, name: str) -> Tool:
        """Raises OperationError(unknown_type) naming the tools there are, or (forbidden) for an operation
        that exists but needs a level this client was not given."""
        found = self._tools.get(name)
        if found is not None:
            return found
        op = self.registry.get(name.replace("_", ".")) or self.registry.get(name) or next(
            (o for o in self.registry if tool_name(o.name) == name), None)
        if op is not None:
            raise OperationError(ErrorCode.FORBIDDEN, f"tool {name!r} needs the {op.permission.label} permission; "
                                 f"this client was allowed {self.level.label}")
        raise OperationError(ErrorCode.UNKNOWN_TYPE, f"unknown tool {name!r}; tools: {', '.join(self._tools)}")


def _input_schema(op: Operation) -> dict[str, Any]:
    schema = codec.schema(op.params)
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema.pop("title", None)
    return schema


def _output_schema(op: Operation) -> dict[str, Any] | None:
    schema = codec.schema(op.result)
    if schema.get("type") != "object":
        return None
    schema.pop("title", None)
    return schema
