"""``context:create`` ``{content, metadata?}`` -> ``context:create`` ``{contextId, tokenCount, compressed}``
(the seed's ``/api/context/create``): store a large context for later ``context:stream`` / ``ai:chat``.

Not wired yet: the context store in ``nexus.engine`` is being built; until then this type answers
``unavailable``. Rate-limited per user by ``gateway.type_limits`` (100 per 15 minutes by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import Registry, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "context:create"
MIN_ROLE = Role.DEVELOPER
FEATURE = "the context store (nexus.engine context)"


def register(registry: Registry, services: Services) -> None:
    registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
