"""``processor.chain``: several providers in sequence (each reviewing the previous answer), in parallel,
or racing (the seed's ``/api/processor/chain``).

The chain returns whole answers, so no ``ai:delta`` precedes ``ai:done``; each step's result carries its
own status, response and usage (a failed step is reported in its result, not as an error).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Float, Int, Name, Text, encode
from ..identity import Role
from ..operation import operation
from ._ai import provider_error, report_usage

MAX_TEXT = 4 * 1024 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ChainStep:
    __pydantic_config__ = WIRE
    processor: Name
    model: Name | None = None
    template: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None  # {{prompt}}, {{previous}}, {{step}}
    system: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ChainParams:
    __pydantic_config__ = WIRE
    processors: Annotated[tuple[Name | ChainStep, ...], Field(min_length=1, max_length=16)]
    prompt: Annotated[Text, Field(min_length=1, max_length=MAX_TEXT)]
    chain_mode: Literal["sequential", "parallel", "race"] = "sequential"
    max_tokens: Annotated[Int, Field(ge=1, le=1_000_000)] = 1024
    temperature: Annotated[Float, Field(ge=0.0, le=2.0)] | None = None
    system: Annotated[Text, Field(max_length=MAX_TEXT)] | None = None


@operation("processor.chain", params=ChainParams, result=dict[str, Any], role=Role.DEVELOPER, rate="ai",
           message="processor:chain", result_message="ai:done")
async def chain(call: Call, p: ChainParams) -> dict[str, Any]:
    """Several providers in sequence, in parallel or racing: ``{chainMode, results, response}``."""
    from nexus.engine.providers import ProviderError, run_chain

    router = call.backends.require_providers("processor chains")
    try:
        result = await run_chain(router, encode(p))
    except ProviderError as exc:
        raise provider_error(exc) from exc
    for step in result.results:
        report_usage(call, step.usage)
    data: dict[str, Any] = result.to_json()
    return data
