"""A live kernel's variables (names, types, shapes and columns of arrays and data frames), fetched through
the kernel itself, so an AI prompt can say what a notebook is working with.

The probe is one *user expression* of a silent ``execute_request``: it runs in the kernel's namespace but
leaves nothing there (no helper names, no history entry, no execution count, no output in the notebook),
and it imports neither numpy nor pandas: arrays and frames are recognised by their ``shape`` /
``dtype`` / ``columns`` attributes. Per variable it reads attributes and a short ``reprlib`` preview, never
the data, so a gigabyte frame costs the same as an integer. Python kernels only: other kernels have no
user expressions in this form.
"""

from __future__ import annotations

import ast
import json
import queue
import time
from typing import Any

from nexus.engine.errors import UnavailableError

from .errors import KernelError

MAX_VARIABLES = 200

PROBE = """
import json as _json, reprlib as _reprlib, types as _types
_short = _reprlib.Repr()
_short.maxstring = _short.maxother = 80
_short.maxlist = _short.maxtuple = _short.maxdict = _short.maxset = 6
_hidden = (_types.ModuleType, _types.FunctionType, _types.BuiltinFunctionType, _types.MethodType, type)
_out = []
_total = 0
for _name, _value in list(ns.items()):
    if _name.startswith("_") or _name in ("In", "Out", "exit", "quit", "get_ipython") or isinstance(_value, _hidden):
        continue
    _total += 1
    if len(_out) >= LIMIT:
        continue
    _kind = type(_value)
    _module = getattr(_kind, "__module__", "") or ""
    _entry = {"name": _name, "type": _kind.__qualname__ if _module == "builtins" else _module + "." + _kind.__qualname__}
    try:
        _shape = getattr(_value, "shape", None)
        if isinstance(_shape, tuple) and all(isinstance(_n, int) for _n in _shape):
            _entry["shape"] = list(_shape)
            _dtype = getattr(_value, "dtype", None)
            if _dtype is not None:
                _entry["dtype"] = str(_dtype)
            _columns = getattr(_value, "columns", None)
            if _columns is not None:
                _entry["columns"] = [str(_c) for _c in list(_columns[:50])]
                _dtypes = getattr(_value, "dtypes", None)
                if _dtypes is not None:
                    _entry["dtypes"] = [str(_d) for _d in list(_dtypes[:50])]
        elif hasattr(_value, "__len__") and not isinstance(_value, (str, bytes)):
            _entry["length"] = len(_value)
        if len(_entry.get("shape", ())) == 0:
            _entry["preview"] = _short.repr(_value)
    except Exception as _exc:
        _entry["error"] = (type(_exc).__name__ + ": " + str(_exc))[:200]
    _out.append(_entry)
result = _json.dumps({"variables": _out, "total": _total})
"""


def probe_expression(limit: int = MAX_VARIABLES) -> str:
    """One expression that runs the probe in a private namespace and evaluates to its JSON."""
    source = PROBE.replace("LIMIT", str(int(limit)))
    return f"(lambda __nexus: (exec({source!r}, __nexus), __nexus['result'])[1])({{'ns': globals()}})"


async def read_variables(client: Any, kernel_id: str, language: str, timeout: float = 10.0) -> dict[str, Any]:
    """``{kernelId, language, variables: [...], total}`` read through ``client`` (an async kernel client of
    a running kernel: a Nexus session's or a notebook's).

    Raises UnavailableError (not a Python kernel), KernelError (no answer within ``timeout`` seconds, e.g.
    busy with a long cell, or the probe failed).
    """
    if language != "python":
        raise UnavailableError(f"kernel variables are available for Python kernels; kernel {kernel_id} runs {language}")
    deadline = time.monotonic() + timeout
    msg_id = client.execute("", silent=True, store_history=False, user_expressions={"v": probe_expression()},
                            allow_stdin=False, stop_on_error=False)
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KernelError(f"kernel {kernel_id} did not answer within {timeout:g} s (busy with a long cell?)")
        try:
            reply = await client.get_shell_msg(timeout=remaining)
        except queue.Empty:
            continue
        if reply.get("parent_header", {}).get("msg_id") == msg_id:
            break
    value = reply.get("content", {}).get("user_expressions", {}).get("v", {})
    if value.get("status") != "ok":
        raise KernelError(f"reading the variables of kernel {kernel_id} failed: "
                          f"{value.get('ename', 'no reply')}: {value.get('evalue', '')}")
    try:
        data = json.loads(ast.literal_eval(value["data"]["text/plain"]))
    except (KeyError, ValueError, SyntaxError, TypeError) as exc:
        raise KernelError(f"kernel {kernel_id} answered the variables probe with something unexpected") from exc
    return {"kernelId": kernel_id, "language": language, **data}


def describe(variables: dict[str, Any]) -> str:
    """The variables as a few plain lines for an AI prompt."""
    lines = []
    for var in variables.get("variables", []):
        parts = [f"{var['name']}: {var['type']}"]
        if "shape" in var:
            parts.append("shape=(" + ", ".join(str(n) for n in var["shape"]) + ("," if len(var["shape"]) == 1 else "")
                         + ")")
        if "dtype" in var:
            parts.append(f"dtype={var['dtype']}")
        if "columns" in var:
            columns = var["columns"]
            dtypes = var.get("dtypes") or [None] * len(columns)
            parts.append("columns=[" + ", ".join(c if d is None else f"{c}: {d}" for c, d in zip(columns, dtypes,
                                                                                              strict=False)) + "]")
        if "length" in var:
            parts.append(f"len={var['length']}")
        if "preview" in var:
            parts.append(f"= {var['preview']}")
        lines.append(" ".join(parts))
    hidden = variables.get("total", len(lines)) - len(lines)
    if hidden > 0:
        lines.append(f"... and {hidden} more")
    return "\n".join(lines)
