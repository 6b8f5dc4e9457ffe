"""How far an operation reaches: what a tool-calling client (MCP, the agent, ACP) must be allowed before
it may call it.

    READ     reads the workspace, the index and stored contexts; changes nothing
    EDIT     changes Nexus's own state (the index, stored contexts) or proposes an edit the user accepts;
             never writes the user's files
    EXECUTE  runs code or spends money (kernels, tests, AI providers)
    USER     only the user's own act (applying an accepted edit to their files): never granted to a
             tool-calling client, whatever it was allowed

Roles say *who* may call an operation; permissions say what a client acting for that person was allowed
to do on its own. A declaration without one gets READ for viewer operations and EXECUTE otherwise, so a
new operation is never more open than its role.
"""

from __future__ import annotations

import enum

from .identity import Role


class Permission(enum.IntEnum):
    READ = 1
    EDIT = 2
    EXECUTE = 3
    USER = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Permission:
        """``read``/``read-only``, ``edit``, ``execute``; raises ValueError naming the valid levels."""
        key = name.strip().lower().replace("_", "-")
        if key in ("read-only", "readonly"):
            key = "read"
        if key in ("read", "edit", "execute"):
            return cls[key.upper()]
        raise ValueError(f"unknown permission {name!r}; valid: read, edit, execute")

    @classmethod
    def default_for(cls, role: Role) -> Permission:
        return cls.READ if role is Role.VIEWER else cls.EXECUTE

    def role(self) -> Role:
        """The role an identity needs for every operation this permission allows."""
        return Role.VIEWER if self is Permission.READ else Role.DEVELOPER
