"""``ai:chat`` ``{messages, provider?, model?, contextId?}`` -> ``ai:delta``* ``{text}`` then ``ai:done``
``{usage, receipt}``: a model's answer streamed, with token usage and the context receipt.

Not wired yet: ``nexus.engine.providers`` is being built; until then this type answers ``unavailable``.
When wiring it, add each response's usage to ``services.metrics.tokens_used`` (provider, "input" /
"output"), and close the provider stream in the generator's ``finally`` so ``cancel`` stops billing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import Registry, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "ai:chat"
MIN_ROLE = Role.DEVELOPER
FEATURE = "AI chat (the nexus.engine.providers layer)"


def register(registry: Registry, services: Services) -> None:
    registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
