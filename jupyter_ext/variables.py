"""A notebook kernel's variables through jupyter-server's kernel manager (the probe is ``nexus.kernels``')."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nexus.kernels.variables import describe, read_variables

if TYPE_CHECKING:
    from .kernels import JupyterExecutor


async def kernel_variables(executor: JupyterExecutor, kernel_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """``{kernelId, language, variables: [...], total}`` for a running kernel.

    Raises NoSuchKernelError, UnavailableError (not a Python kernel), KernelError (no answer in time).
    """
    language = await executor.kernel_language(kernel_id)
    async with executor.attached(kernel_id, language, ready_timeout=timeout) as kernel:
        return await read_variables(kernel.client, kernel_id, language, timeout)


__all__ = ["describe", "kernel_variables"]
