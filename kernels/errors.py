"""Errors of the execution service, under the one ``NexusError`` root.

    NexusError
     ├── NotFoundError
     │    ├── UnknownLanguageError   no built-in language, alias or installed kernelspec of that name
     │    └── NoSuchSessionError     a session id never opened, or already culled or shut down
     ├── UnavailableError
     │    ├── ToolchainMissingError  a known language whose toolchain (node, javac, g++) is absent
     │    └── SandboxUnavailableError  a face that runs others' code, on a machine without the sandbox
     └── KernelError                 a kernel could not be started, reached, or kept alive
          ├── KernelStartError       the kernel process did not come up (its log tail is in the message)
          └── GatewayError           the gateway refused or failed a request (HTTP status in the message)

Faults of the *user's code* (exceptions, timeouts, limits, a kernel that dies while running it) are not
raised: they come back as an ``ExecutionResult`` with an exit code and an ``error`` output, because the
caller asked to run the code and that is its result.
"""

from __future__ import annotations

from nexus.engine.errors import NexusError, NotFoundError, UnavailableError


class UnknownLanguageError(NotFoundError):
    def __init__(self, language: str, known: list[str]) -> None:
        super().__init__(f"unknown language {language!r}; known: {', '.join(sorted(known))}")
        self.language = language


class NoSuchSessionError(NotFoundError):
    def __init__(self, session_id: str) -> None:
        super().__init__(f"no execution session {session_id!r} (it may have been culled after being idle)")
        self.session_id = session_id


class ToolchainMissingError(UnavailableError):
    def __init__(self, language: str, what: str) -> None:
        super().__init__(f"{language} cannot run here: {what}")
        self.language = language


class SandboxUnavailableError(UnavailableError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            f"code execution is refused: kernels cannot be sandboxed here ({detail}). Install bubblewrap and "
            "allow unprivileged user namespaces (docs/kernels.md), or, to run code unsandboxed anyway, set "
            "kernels.allow_unsandboxed = true (NEXUS_KERNELS_ALLOW_UNSANDBOXED=1)"
        )
        self.detail = detail


class KernelError(NexusError):
    pass


class KernelStartError(KernelError):
    pass


class GatewayError(KernelError):
    pass
