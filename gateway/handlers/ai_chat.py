"""``ai:chat`` ``{prompt | messages, system?, maxTokens?, temperature?, stop?, model?, provider?, role?,
fallback?}`` -> ``ai:delta``* ``{text}`` then ``ai:done`` ``{response, usage, receipt}``: a model's answer
streamed through the provider router (retries, fallback and circuit breakers are the router's).

``role`` is the provider layer's job name (``chat`` by default, ``inline``, ``edit``); ``provider`` pins
one provider. Cancelling the request closes the stream, which stops the upstream call. Token usage
feeds ``nexus_ai_tokens_total``. ``contextId`` names a stored context (``context:create``): its text
joins the system prompt, and ``ai:done`` carries its ``receipt`` ``{contextId, tokenCount, pieces: [{path,
startLine, endLine, kind, reason, tokens}]}`` so a client can show what the model was given; without
it ``receipt`` is null.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..metrics import GatewayMetrics
from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request, Role
from ..workspace import WorkspaceHandle
from ._providers import count_tokens, provider_error

if TYPE_CHECKING:
    from nexus.engine.providers import ProviderRouter

    from . import Services

TYPE = "ai:chat"
MIN_ROLE = Role.DEVELOPER
FEATURE = "AI chat (the nexus.engine.providers layer)"


async def with_context(request: Request, workspace: WorkspaceHandle | None) -> tuple[Request, dict[str, Any] | None]:
    """``request`` with its stored context (``contextId``) in the system prompt, and the receipt."""
    if request.payload.get("contextId") is None:
        return request, None
    context_id = request.text("contextId", max_length=128)
    if workspace is None:
        raise GatewayError(ErrorCode.UNAVAILABLE, "contextId: no context store in this server")
    system = request.payload.get("system")
    if system is not None and not isinstance(system, str):
        raise request.invalid("payload.system must be a string")
    store = await workspace.contexts()
    info = await asyncio.to_thread(store.get, context_id)  # ContextNotFound: not_found
    text = await asyncio.to_thread(store.text, context_id)
    pieces = await asyncio.to_thread(store.pieces, context_id)
    block = f"<context id=\"{context_id}\">\n{text}\n</context>"
    payload = {k: v for k, v in request.payload.items() if k != "contextId"}
    payload["system"] = f"{system}\n\n{block}" if system else block
    receipt = {"contextId": context_id, "tokenCount": info.token_count,
               "pieces": [{k: v for k, v in p.to_json().items() if k not in ("hash", "offset", "length", "score")}
                          for p in pieces]}
    return Request(request.type, request.id, payload), receipt


def make_handler(router: ProviderRouter, metrics: GatewayMetrics, workspace: WorkspaceHandle | None = None) -> Handler:
    async def chat(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        from nexus.engine.providers import ProviderError
        from nexus.engine.providers import Request as ModelRequest

        request, receipt = await with_context(request, workspace)
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
        yield Reply("ai:done", {"response": answer.text, "usage": usage, "receipt": receipt})

    return chat


def register(registry: Registry, services: Services) -> None:
    if services.providers is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE, reason=services.providers_problem)
        return
    registry.register(TYPE, make_handler(services.providers, services.metrics, services.workspace), min_role=MIN_ROLE)
