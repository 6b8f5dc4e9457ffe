"""Why a debug session could not start or go on; each message becomes a DAP error response as it is.

    NexusError
     ├── NotFoundError
     │    ├── ProgramNotFoundError     ``launch``: the program file (or cwd) does not exist
     │    └── NoSuchDebugTargetError   ``attach``: no live kernel session / kernel / connection file by that name
     └── DebugError                    a debug session could not start or continue
          ├── DebugConfigError         a launch/attach configuration that cannot be used as written
          ├── KernelUnreachableError   the kernel is dead or does not answer on its control channel
          ├── NoDebuggerError          the kernel has no debugger (a wrapper kernel, a non-Python kernel)
          └── AdapterStartError        debugpy's adapter could not be started
"""

from __future__ import annotations

from nexus.engine.errors import NexusError, NotFoundError


class DebugError(NexusError):
    pass


class DebugConfigError(DebugError):
    pass


class ProgramNotFoundError(NotFoundError):
    def __init__(self, what: str, path: str) -> None:
        super().__init__(f"{what} not found: {path}")
        self.path = path


class NoSuchDebugTargetError(NotFoundError):
    pass


class KernelUnreachableError(DebugError):
    pass


class NoDebuggerError(DebugError):
    pass


class AdapterStartError(DebugError):
    pass
