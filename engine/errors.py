"""The one root of every error Nexus raises on purpose.

Each subclass carries a message a user can act on. Third-party errors are translated where they enter
(``raise WorkspaceError(...) from exc``); adapters turn these into protocol errors at their edge.

    NexusError
     ├── ConfigError            invalid nexus.toml / NEXUS_* value
     ├── WorkspaceError         root missing, unreadable, or a path outside the workspace
     │    └── BadPathError      a path that cannot name a file (a NUL byte, a lone surrogate)
     ├── IndexError_            the on-disk index cannot be used as asked
     │    └── IndexLockedError  another process is writing this workspace's index
     ├── NotFoundError          an unknown id, file or symbol
     └── UnavailableError       a feature whose requirement (toolchain, provider) is missing

Other packages (kernels, providers, contexts) add their own subclasses next to their code.
"""

from __future__ import annotations


class NexusError(Exception):
    """Base of every error Nexus raises deliberately; ``str(err)`` is meant for the user."""


class ConfigError(NexusError):
    pass


class WorkspaceError(NexusError):
    pass


class BadPathError(WorkspaceError):
    """A client sent a path no file can have: a request error rather than an access refusal."""


class IndexError_(NexusError):
    pass


class IndexLockedError(IndexError_):
    def __init__(self, pid: int | None, root: str) -> None:
        who = f"PID {pid}" if pid else "another process"
        super().__init__(f"index of {root} is being updated by {who}; try again when it finishes")
        self.pid = pid


class NotFoundError(NexusError):
    pass


class UnavailableError(NexusError):
    pass
