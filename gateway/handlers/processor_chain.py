"""``processor:chain`` ``{processors, prompt, chainMode?, maxTokens?, temperature?, system?}`` ->
``ai:done`` ``{chainMode, results, response}`` (the seed's ``/api/processor/chain``): several providers
in sequence (each reviewing the previous answer), in parallel, or racing.

The chain runs through ``nexus.engine.providers.run_chain``, which returns whole answers, so no
``ai:delta`` precedes ``ai:done`` here; each step's result carries its own status, response and usage
(a failed step is reported in its result, not as an error). Rate-limited per user by
``gateway.type_limits`` (10 per 15 minutes by default).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..metrics import GatewayMetrics
from ..protocol import Context, Handler, Registry, Reply, Request, Role
from ._providers import count_tokens, provider_error

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderRouter

    from . import Services

TYPE = "processor:chain"
MIN_ROLE = Role.DEVELOPER
FEATURE = "processor chains (the nexus.engine.providers layer)"


def make_handler(router: ProviderRouter, metrics: GatewayMetrics) -> Handler:
    async def chain(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        from nexus.engine.providers import ProviderError, run_chain

        try:
            result = await run_chain(router, request.payload)
        except ProviderError as exc:
            raise provider_error(exc) from exc
        for step in result.results:
            count_tokens(metrics, step.usage)
        yield Reply("ai:done", result.to_json())

    return chain


def register(registry: Registry, services: Services) -> None:
    if services.providers is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE, reason=services.providers_problem)
        return
    registry.register(TYPE, make_handler(services.providers, services.metrics), min_role=MIN_ROLE)
