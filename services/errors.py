"""The errors an operation reports to any face, each with a stable ``code`` clients branch on.

    NexusError
     └── OperationError(code, message, **extra)   what a face turns into its own error shape
                                                  (gateway ``error`` message, HTTP status + JSON,
                                                  JSON-RPC error, CLI message and exit status)

Engine and kernel errors are translated once, by :func:`translate`, so "not found" is ``not_found`` on
every face.
"""

from __future__ import annotations

import enum
from typing import Any

from nexus.engine.errors import (
    BadPathError,
    ConfigError,
    NexusError,
    NotFoundError,
    UnavailableError,
    WorkspaceError,
)


class ErrorCode(enum.StrEnum):
    """The ``code`` of an error; clients branch on these, so they never change meaning."""

    BAD_REQUEST = "bad_request"          # not JSON, wrong shape, invalid payload field
    UNKNOWN_TYPE = "unknown_type"        # no such message type / operation
    UNAUTHENTICATED = "unauthenticated"  # no identity yet: auth:login or connect with a token
    TOKEN_EXPIRED = "token_expired"      # the session's token expired: auth:login again
    BAD_CREDENTIALS = "bad_credentials"  # auth:login with an unknown user or a wrong password
    FORBIDDEN = "forbidden"              # the role does not allow this operation
    RATE_LIMITED = "rate_limited"        # data.retryAfter says when to try again (seconds)
    BUSY = "busy"                        # too many requests in flight, or the index is being written
    TOO_MANY_CONNECTIONS = "too_many_connections"  # auth:login: that user has max_connections_per_user open
    DUPLICATE_ID = "duplicate_id"        # an in-flight request already has this id
    UNAVAILABLE = "unavailable"          # the feature is not in this build or not configured
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"                # collab:save: the file changed on disk since the session loaded it
    INVALID_PATH = "invalid_path"        # outside the workspace, binary, too large, not a file
    CANCELLED = "cancelled"              # by `cancel`, or by shutdown
    SHUTTING_DOWN = "shutting_down"
    FAILED = "failed"                    # a deliberate error from a subsystem (message says why)
    INTERNAL = "internal"                # a bug: logged with its traceback on the server


class OperationError(NexusError):
    """One error of one operation; ``extra`` fields (``retryAfter``, ``provider``) join code and message."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


_CODES: tuple[tuple[type[NexusError], ErrorCode], ...] = (
    (BadPathError, ErrorCode.BAD_REQUEST),  # a NUL byte or a lone surrogate: the request, not the file
    (NotFoundError, ErrorCode.NOT_FOUND),
    (WorkspaceError, ErrorCode.INVALID_PATH),
    (UnavailableError, ErrorCode.UNAVAILABLE),
    (ConfigError, ErrorCode.FAILED),
    (NexusError, ErrorCode.FAILED),
)


def translate(exc: BaseException) -> OperationError | None:
    """A deliberate Nexus error as an OperationError; None for anything else (a bug, to be logged)."""
    if isinstance(exc, OperationError):
        return exc
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return OperationError(code, str(exc))
    return None


def unavailable_no_index(root: object, hint: str = "") -> OperationError:
    """The error every face gives for a workspace that was never indexed."""
    return OperationError(ErrorCode.UNAVAILABLE, f"{root} has no index yet: run `nexus index {root}`"
                          f"{hint or ' (or open it with the language server)'}, then ask again")
