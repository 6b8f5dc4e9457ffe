"""``processor:chain`` ``{processors, prompt, chainMode}`` -> ``ai:delta``* ``{processor, text}`` then
``ai:done`` ``{results, usage, receipt}`` (the seed's ``/api/processor/chain``): several providers in
sequence or in parallel.

Not wired yet: ``nexus.engine.providers`` is being built; until then this type answers ``unavailable``.
Rate-limited per user by ``gateway.type_limits`` (10 per 15 minutes by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import Registry, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "processor:chain"
MIN_ROLE = Role.DEVELOPER
FEATURE = "processor chains (the nexus.engine.providers layer)"


def register(registry: Registry, services: Services) -> None:
    registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
