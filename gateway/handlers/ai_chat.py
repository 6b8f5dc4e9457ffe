"""``ai:chat`` ``{prompt | messages, system?, maxTokens?, temperature?, stop?, model?, provider?, role?,
fallback?, contextId?, context?}`` -> ``ai:delta``* ``{text}`` then ``ai:done`` ``{response, usage, receipt,
contextId}``: a model's answer streamed through the provider router (retries, fallback and circuit
breakers are the router's).

``role`` is the provider layer's job name (``chat`` by default, ``inline``, ``edit``); ``provider`` pins
one provider. Workspace context goes with the request in the system prompt, two ways:

- ``contextId``: a stored context (``context:create``, ``nexus context build``) is sent whole;
- ``context: {query?, path?, line?, budget?, openFiles?, ...}``: a context is built from the index for
  this request (``query`` defaults to the prompt, ``budget`` to 12,000 tokens).

``receipt`` lists what was sent (files, 1-based line ranges, why), empty when no context was. Cancelling
the request closes the stream, which stops the upstream call. Token usage feeds ``nexus_ai_tokens_total``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ..metrics import GatewayMetrics
from ..protocol import Context, ErrorCode, GatewayError, Handler, Registry, Reply, Request, Role
from ..workspace import WorkspaceHandle
from ._providers import count_tokens, provider_error

if TYPE_CHECKING:
    from nexus.engine import Workspace
    from nexus.engine.providers import ProviderRouter

    from . import Services

TYPE = "ai:chat"
MIN_ROLE = Role.DEVELOPER
FEATURE = "AI chat (the nexus.engine.providers layer)"
DEFAULT_BUDGET = 12_000
CONTEXT_PREAMBLE = ("The workspace context below was chosen from the user's code for this request; each piece "
                    "is marked with its path and lines. Rely on it and cite files as path:line.")


def _last_user_text(payload: Mapping[str, Any]) -> str:
    if isinstance(payload.get("prompt"), str):
        return str(payload["prompt"])
    messages = payload.get("messages")
    if isinstance(messages, list):
        for item in reversed(messages):
            if isinstance(item, Mapping) and item.get("role") == "user" and isinstance(item.get("content"), str):
                return str(item["content"])
    return ""


async def workspace_context(request: Request, handle: WorkspaceHandle | None) -> tuple[str, list[dict[str, Any]],
                                                                                    str | None]:
    """(context text, receipt, context id) for the request's ``contextId`` or ``context``; empty without."""
    context_id = request.payload.get("contextId")
    wanted = request.payload.get("context")
    if context_id is None and wanted is None:
        return "", [], None
    if context_id is not None and wanted is not None:
        raise request.invalid("give payload.contextId or payload.context, not both")
    if handle is None:
        raise GatewayError(ErrorCode.UNAVAILABLE, "workspace context needs the gateway's workspace (--root)")
    ws = await handle.get()
    from nexus.engine.context import ContextError, ContextRequest, build_context, store_for

    if context_id is not None:
        context_id = request.text("contextId", max_length=64)

        def stored(ws: Workspace) -> tuple[str, list[dict[str, Any]]]:
            store = store_for(ws)
            pieces = store.pieces(context_id)
            receipt = [{"path": p.path, "lines": [p.start_line + 1, p.end_line + 1], "kind": p.kind,
                        "reason": p.reason, "tokens": p.tokens} for p in pieces]
            return store.text(context_id), receipt

        text, receipt = await asyncio.to_thread(stored, ws)
        return text, receipt, context_id
    if not isinstance(wanted, Mapping):
        raise request.invalid("payload.context must be an object {query?, path?, line?, budget?, ...}")
    fields = {"query": _last_user_text(request.payload), "budget": DEFAULT_BUDGET, **wanted}
    try:
        context_request = ContextRequest.from_json(fields)
    except ContextError as exc:
        raise request.invalid(f"payload.context: {exc}") from exc

    def built(ws: Workspace) -> tuple[str, list[dict[str, Any]]] | None:
        if not handle.fresh(ws):
            return None
        context = build_context(ws, context_request)
        return context.text(), context.receipt()

    try:
        found = await asyncio.to_thread(built, ws)
    except ContextError as exc:
        raise request.invalid(f"payload.context: {exc}") from exc
    if found is None:
        raise GatewayError(ErrorCode.UNAVAILABLE, f"{handle.root} has no index yet: run `nexus index "
                           f"{handle.root}`, then ask again")
    return found[0], found[1], None


def make_handler(router: ProviderRouter, metrics: GatewayMetrics, handle: WorkspaceHandle | None) -> Handler:
    async def chat(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        from nexus.engine.providers import ProviderError
        from nexus.engine.providers import Request as ModelRequest
        from nexus.engine.providers import Role as ModelRole

        provider = request.text("provider", default=None, max_length=64) if "provider" in request.payload else None
        role = request.text("role", default="chat", max_length=16)
        fallback = request.payload.get("fallback")
        if fallback is not None and not isinstance(fallback, bool):
            raise request.invalid("payload.fallback must be true or false")
        try:
            model_request = ModelRequest.from_json(request.payload)
            router.config.targets(ModelRole.parse(role), provider, model_request.model, fallback)  # fail fast, before any work
        except ProviderError as exc:
            raise provider_error(exc) from exc
        text, receipt, context_id = await workspace_context(request, handle)
        if text:
            system = f"{model_request.system}\n\n" if model_request.system else ""
            model_request = model_request.replace(
                system=f"{system}{CONTEXT_PREAMBLE}\n\n<workspace_context>\n{text}</workspace_context>")
        try:
            stream = router.stream(model_request, role=role, provider=provider, fallback=fallback)
            async with stream as answer:
                async for delta in answer:
                    yield Reply("ai:delta", {"text": delta})
        except ProviderError as exc:
            raise provider_error(exc) from exc
        count_tokens(metrics, answer.usage)
        usage = answer.usage.to_json() if answer.usage is not None else None
        yield Reply("ai:done", {"response": answer.text, "usage": usage, "receipt": receipt, "contextId": context_id})

    return chat


def register(registry: Registry, services: Services) -> None:
    if services.providers is None:
        registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE, reason=services.providers_problem)
        return
    registry.register(TYPE, make_handler(services.providers, services.metrics, services.workspace),
                      min_role=MIN_ROLE)
