"""``ai:chat`` ``{prompt | messages, system?, maxTokens?, temperature?, stop?, model?, provider?, role?,
fallback?}`` -> ``ai:delta``* ``{text}`` then ``ai:done`` ``{response, usage, receipt}``: a model's answer
streamed through the provider router (retries, fallback and circuit breakers are the router's).

``role`` is the provider layer's job name (``chat`` by default, ``inline``, ``edit``); ``provider`` pins
one provider. Cancelling the request closes the stream, which stops the upstream call. Token usage
feeds ``nexus_ai_tokens_total``. ``receipt`` (which stored context went into the prompt) stays null and
``contextId`` is refused until the context store is part of the build.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..metrics import GatewayMetrics
from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request, Role
from ._providers import count_tokens, provider_error

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderRouter

    from . import Services

TYPE = "ai:chat"
MIN_ROLE = Role.DEVELOPER
FEATURE = "AI chat (the nexus.engine.providers layer)"


def make_handler(router: ProviderRouter, metrics: GatewayMetrics) -> Handler:
    async def chat(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        from nexus.engine.providers import ProviderError
        from nexus.engine.providers import Request as ModelRequest

        if request.payload.get("contextId") is not None:
            raise GatewayError(ErrorCode.UNAVAILABLE, "contextId: stored contexts are not available yet (the "
                               "context store is not part of this build); send the text in messages")
        provider = request.text("provider", default=None, max_length=64) if "provider" in request.payload else None
        role = request.text("role", default="chat", max_length=16)
        fallback = request.payload.get("fallback")
        if fallback is not None and not isinstance(fallback, bool):
            raise request.invalid("payload.fallback must be true or false")
        try:
            stream = router.stream(ModelRequest.from_json(request.payload), role=role, provider=provider,
                                   fallback=fallback)
            async with stream as answer:
                async for delta in answer:
                    yield Reply("ai:delta", {"text": delta})
        except ProviderError as exc:
            raise provider_error(exc) from exc
        count_tokens(metrics, answer.usage)
        usage = answer.usage.to_json() if answer.usage is not None else None
        yield Reply("ai:done", {"response": answer.text, "usage": usage, "receipt": None})

    return chat


def register(registry: Registry, services: Services) -> None:
    if services.providers is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE, reason=services.providers_problem)
        return
    registry.register(TYPE, make_handler(services.providers, services.metrics), min_role=MIN_ROLE)
