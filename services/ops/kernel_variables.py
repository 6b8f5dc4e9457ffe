"""``kernel.variables``: a live notebook kernel's variables (names, types, shapes, columns), read through
the kernel itself without touching its namespace (``nexus.kernels.variables``)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Float, Name
from ..errors import ErrorCode, OperationError
from ..identity import Role
from ..operation import operation


@dataclasses.dataclass(frozen=True, slots=True)
class VariablesParams:
    __pydantic_config__ = WIRE
    kernel_id: Name
    timeout: Annotated[Float, Field(ge=0.1, le=120)] = 10.0  # seconds


@operation("kernel.variables", params=VariablesParams, result=dict[str, Any], role=Role.DEVELOPER, rate="read",
           message="kernel:variables")
async def variables(call: Call, p: VariablesParams) -> dict[str, Any]:
    """``{kernelId, language, variables: [...], total}`` of a running Python kernel."""
    reader = call.backends.variables
    if reader is None:
        raise OperationError(ErrorCode.UNAVAILABLE, "kernel:variables: this server has no notebook kernels")
    return await reader(p.kernel_id, p.timeout)
