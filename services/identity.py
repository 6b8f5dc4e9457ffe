"""Who is calling an operation, and what their role lets them do.

Every face authenticates in its own way (a JWT on the gateway, Jupyter's login, the editor that started the
language server, the shell that runs the CLI) and hands the operations one :class:`Identity`; the
operation's declared role is checked in one place, :meth:`nexus.services.Registry.call`.
"""

from __future__ import annotations

import dataclasses
import enum


class Role(enum.IntEnum):
    """Who may call what: each role may do everything the roles below it may."""

    VIEWER = 1
    DEVELOPER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Role:
        """Raises ValueError naming the valid roles."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            valid = ", ".join(r.label for r in cls)
            raise ValueError(f"unknown role {name!r}; valid roles: {valid}") from None


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    """Who is on a connection: from a verified token, a successful login, or the host that vouches."""

    user: str
    role: Role
    expires_at: float | None = None  # UNIX time; None for identities the host vouches for
    authenticated_at: float | None = None  # UNIX time the password was checked; refreshes keep it


LOCAL = Identity("local", Role.ADMIN)
"""The user at the keyboard: the CLI and an editor's own language server act for them."""
