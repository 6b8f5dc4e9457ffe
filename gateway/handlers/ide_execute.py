"""``ide:execute`` ``{language, code, timeout?}`` -> ``ide:output``* ``{stream, text}`` then ``ide:result``
``{output, exitCode, executionTime}`` (the seed's shape): code run in a kernel of the kernels service.

Not wired yet: ``nexus.kernels`` is being built. Until it is, this type answers ``unavailable``. To wire
it, add the service to ``Services``, write an async generator that yields ``Reply("ide:output", ...)`` per
chunk and ``Reply("ide:result", ...)`` last, and register it here with ``min_role=MIN_ROLE``; feed
``services.metrics.active_kernels`` from the service. Cancelling the request closes the generator: stop
(interrupt) the execution in its ``finally``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import Registry, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "ide:execute"
MIN_ROLE = Role.DEVELOPER
FEATURE = "code execution (the nexus.kernels execution service)"


def register(registry: Registry, services: Services) -> None:
    registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
