"""``context:stream`` ``{contextId}`` -> ``context:chunk``* (data: a piece of the text) then ``context:end``
``{contextId, chunks}`` (the seed's shape): a stored context sent back in pieces.

Not wired yet: the context store in ``nexus.engine`` is being built; until then this type answers
``unavailable``. Each chunk goes through the connection's bounded outbox, so a slow reader pauses the
stream instead of buffering the whole context.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import Registry, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "context:stream"
MIN_ROLE = Role.DEVELOPER
FEATURE = "the context store (nexus.engine context)"


def register(registry: Registry, services: Services) -> None:
    registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
