"""``processor.run``: one call to one named provider, no fallback (the seed's ``/api/processor/{name}``)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Float, Int, Name, Text, encode
from ..identity import Role
from ..operation import operation
from ._ai import kernel_note, provider_error
from .ai_chat import MAX_TEXT, ChatMessage


@dataclasses.dataclass(frozen=True, slots=True)
class ProcessorParams:
    __pydantic_config__ = WIRE
    processor: Name
    prompt: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None
    messages: Annotated[tuple[ChatMessage, ...], Field(max_length=1000)] = ()
    system: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None
    max_tokens: Annotated[Int, Field(ge=1, le=1_000_000)] = 1024
    temperature: Annotated[Float, Field(ge=0.0, le=2.0)] | None = None
    stop: Annotated[tuple[Annotated[Text, Field(min_length=1, max_length=256)], ...], Field(max_length=16)] = ()
    model: Name | None = None
    kernel_id: Name | None = None  # a notebook kernel whose variables join the system prompt


@operation("processor.run", params=ProcessorParams, result=dict[str, Any], role=Role.DEVELOPER, rate="ai",
           message="processor:run", result_message="ai:done")
async def run(call: Call, p: ProcessorParams) -> dict[str, Any]:
    """One provider's whole answer in the seed's response shape (``response``, ``usage``, ...)."""
    from nexus.engine.providers import ProviderError, run_processor

    router = call.backends.require_providers("processors")
    body = {k: v for k, v in encode(p).items() if k not in ("processor", "kernelId")}
    if p.kernel_id is not None:
        note = await kernel_note(call, p.kernel_id)
        body["system"] = f"{p.system}\n\n{note}" if p.system else note
    try:
        data: dict[str, Any] = await run_processor(router, p.processor, body)
    except ProviderError as exc:
        raise provider_error(exc) from exc
    return data
