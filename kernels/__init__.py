"""Code execution in Jupyter kernels: Python (ipykernel), JavaScript, TypeScript, Java and C++.

The public surface, for the LSP server, the WebSocket gateway, the Jupyter extension, the debugger
adapter and the CLI:

- ``ExecutionService``: ``execute`` / ``stream`` / sessions / ``interrupt`` / ``restart`` /
  ``shutdown`` / ``kernel(session_id)``; results are ``ExecutionResult`` (``to_json()`` is the seed's
  ``{output, exitCode, executionTime, outputs}``) and items ``Stream`` / ``Rich`` / ``Error``.
- ``run_code`` / ``stream_code`` with ``AttachedKernel``: the same execute/collect/timeout/truncate
  logic on any jupyter_client-style manager + client (jupyter-server's MultiKernelManager kernels).
- ``ExecutionService.stream_file`` / ``run_file``: a FILE run as its language's runner would (``python
  FILE ARGS``, ``node``, tsx, ``java FILE``, ``g++ && ./a.out``) in the sandbox; the result's ``errors``
  are ``SourceError`` s in the user's files; ``UnknownFileTypeError`` for an extension nothing runs.
- ``KernelBackend`` (``LocalBackend``, ``GatewayBackend``), ``KernelSettings`` / ``kernel_settings``.
"""

from __future__ import annotations

from .backend import Kernel, KernelBackend, LocalBackend, LocalKernel
from .errors import (
    GatewayError,
    KernelError,
    KernelStartError,
    NoSuchSessionError,
    SandboxUnavailableError,
    ToolchainMissingError,
    UnknownLanguageError,
)
from .execution import AttachedKernel, RunnableKernel, run_code, stream_code
from .gateway_client import GatewayBackend
from .languages import LANGUAGES, Language, language_for_path
from .programs import UnknownFileTypeError
from .results import (
    EXIT_ERROR,
    EXIT_KILLED,
    EXIT_OK,
    EXIT_TIMEOUT,
    Error,
    ExecutionResult,
    OutputItem,
    Rich,
    SourceError,
    Stream,
)
from .service import ExecutionService, LanguageStatus, SessionInfo, StreamEvent
from .settings import KernelSettings, Limits, OutputLimits, kernel_settings

__all__ = [
    "EXIT_ERROR",
    "EXIT_KILLED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "LANGUAGES",
    "AttachedKernel",
    "Error",
    "ExecutionResult",
    "ExecutionService",
    "GatewayBackend",
    "GatewayError",
    "Kernel",
    "KernelBackend",
    "KernelError",
    "KernelSettings",
    "KernelStartError",
    "Language",
    "LanguageStatus",
    "Limits",
    "LocalBackend",
    "LocalKernel",
    "NoSuchSessionError",
    "OutputItem",
    "OutputLimits",
    "Rich",
    "RunnableKernel",
    "SandboxUnavailableError",
    "SessionInfo",
    "SourceError",
    "Stream",
    "StreamEvent",
    "ToolchainMissingError",
    "UnknownFileTypeError",
    "UnknownLanguageError",
    "kernel_settings",
    "language_for_path",
    "run_code",
    "stream_code",
]
