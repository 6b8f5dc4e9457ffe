"""``nexus/<operation>``: every operation of ``nexus.services`` that has no dedicated request, for editor
clients and tools (``nexus/graph``, ``nexus/files.read``, ``nexus/context.create``, ``nexus/ai.chat``, ...).

Params are the operation's (see docs/api.md) plus ``folder?`` (a workspace folder's URI or path; default
the first folder) and ``partialResultToken?``: a streaming operation's items (``ai:delta``, ``ide:output``,
``context:chunk``) are sent as ``$/progress`` partial results ``{kind, data}``; the response is the
operation's result. Errors: a bad parameter is InvalidParams (-32602) naming the field; anything else
is RequestFailed (-32803) with ``data.code`` the operation's error code (``not_found``, ``unavailable``).
The editor's user is the machine's user: the local identity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from nexus.services import Call, ErrorCode, OperationError, Registry

from ..assist import RequestFailed, progress_token, send_partial, state
from ..server import NexusServer

OPERATIONS = Registry.default()
DEDICATED = {"search": "nexus/search", "status": "nexus/status"}
"""Operations the server answers under an older, richer request (kept as contracts)."""
ALIASES = {"ai.agent": "nexus/agent"}
"""Operations also answered under a shorter name the editor clients use."""


def register(server: NexusServer) -> None:
    for op in OPERATIONS:
        if op.name not in DEDICATED:
            _register(server, op.name)
            if op.name in ALIASES:
                _register(server, op.name, ALIASES[op.name])


def _register(server: NexusServer, name: str, method: str | None = None) -> None:
    @server.feature(method or f"nexus/{name}")
    async def handler(ls: NexusServer, params: Any) -> Any:
        args = _plain(params) if params is not None else {}
        if not isinstance(args, dict):
            raise JsonRpcInvalidParams(message=f"nexus/{name} takes an object of parameters (docs/api.md)")
        token = progress_token(args)
        folder = _folder(ls, args.pop("folder", None))
        args.pop("partialResultToken", None)
        backends = folder.backends()
        if backends is None:
            raise RequestFailed(f"{folder.root} is still being opened; try again in a moment",
                                {"code": str(ErrorCode.UNAVAILABLE)})
        if backends.providers is None and backends.providers_problem is None:
            try:
                backends.providers = state(ls).assistant().router
            except RequestFailed as exc:
                backends.providers_problem = str(exc)
        result: Any = None
        items: Any = None
        try:
            items = OPERATIONS.call(name, args, Call(backends))
            async for item in items:
                if item.final:
                    result = item.data
                else:
                    send_partial(ls, token, {"kind": item.kind, "data": item.data})
        except OperationError as exc:
            if exc.code is ErrorCode.BAD_REQUEST:
                raise JsonRpcInvalidParams(message=exc.message) from exc
            raise RequestFailed(exc.message, {"code": str(exc.code), **exc.extra}) from exc
        finally:
            if items is not None:
                await items.aclose()
        return result

    handler.__name__ = (method or f"nexus_{name}").replace("/", "_").replace(".", "_")


def _folder(ls: NexusServer, wanted: Any) -> Any:
    folders = list(ls.folders)
    if not folders:
        raise RequestFailed("no workspace folder is open", {"code": str(ErrorCode.UNAVAILABLE)})
    if wanted is None:
        return folders[0]
    if not isinstance(wanted, str):
        raise JsonRpcInvalidParams(message="folder must be a workspace folder's URI or path")
    path = Path(wanted.removeprefix("file://")).resolve()
    for folder in folders:
        if folder.root == path or folder.uri == wanted:
            return folder
    raise JsonRpcInvalidParams(message=f"folder {wanted} is not one of the workspace folders")


def _plain(value: Any) -> Any:
    """pygls hands the params of custom requests over as namedtuples: back to JSON values."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
