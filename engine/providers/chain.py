"""The seed's processor API as engine calls, with JSON in and out in the seed's shapes, so the gateway
and the Jupyter extension return these results unchanged.

``POST /api/processor/{provider}`` -> :func:`run_processor`::

    {"prompt": "...", "maxTokens": 1000, "temperature": 0.7}  ->  {"response", "tokensUsed", "model", ...}

``POST /api/processor/chain`` -> :func:`run_chain`::

    {"processors": ["claude", "gpt"], "prompt": "...", "chainMode": "sequential"}
    -> {"chainMode", "results": [{"processor": "claude", "response": "...", ...}, ...], "response", "winner"}

A processor is a provider name or alias (``claude``, ``gpt``, ``gemini``, ``local``) or an object
``{"processor", "model", "template", "system"}``. Modes:

- ``sequential``: each step's answer feeds the next step's prompt template (``{{prompt}}`` is the
  chain's prompt, ``{{previous}}`` the previous answer, ``{{step}}`` the 1-based step number); a failed
  step stops the chain and the rest are ``skipped``.
- ``parallel``: all at once; results in the order given, each with its own usage or error.
- ``race``: all at once; the first complete answer wins and the others are cancelled (their
  upstream requests closed). Failed entries do not win; the race is lost only if all fail.

Steps never fall back to another provider: the caller named them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

from .errors import InvalidRequestError, ProviderError
from .router import ProviderRouter
from .types import Completion, Request, Role, Usage

ChainMode = Literal["sequential", "parallel", "race"]
CHAIN_MODES: tuple[ChainMode, ...] = ("sequential", "parallel", "race")
StepStatus = Literal["ok", "error", "cancelled", "skipped"]

PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
PLACEHOLDERS = frozenset({"prompt", "previous", "step"})
FIRST_TEMPLATE = "{{prompt}}"
NEXT_TEMPLATE = (
    "{{prompt}}\n\nAn earlier step answered the above as follows. Review it, correct anything wrong, "
    "and give the improved answer.\n\n{{previous}}"
)


@dataclasses.dataclass(frozen=True, slots=True)
class ChainStep:
    processor: str
    model: str | None = None
    template: str | None = None
    system: str | None = None

    def render(self, prompt: str, previous: str | None, step: int) -> str:
        template = self.template or (FIRST_TEMPLATE if previous is None else NEXT_TEMPLATE)
        values = {"prompt": prompt, "previous": previous or "", "step": str(step)}
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


@dataclasses.dataclass(frozen=True, slots=True)
class ChainRequest:
    processors: tuple[ChainStep, ...]
    prompt: str
    chain_mode: ChainMode = "sequential"
    max_tokens: int = 1024
    temperature: float | None = None
    system: str | None = None

    def __post_init__(self) -> None:
        if not self.processors:
            raise InvalidRequestError("processors must name at least one processor")
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise InvalidRequestError("prompt must be a non-empty string")
        if self.chain_mode not in CHAIN_MODES:
            raise InvalidRequestError(f"chainMode must be one of {', '.join(CHAIN_MODES)}, not {self.chain_mode!r}")
        for step in self.processors:
            if step.template is not None:
                unknown = set(PLACEHOLDER.findall(step.template)) - PLACEHOLDERS
                if unknown:
                    raise InvalidRequestError(
                        f"template of {step.processor} uses unknown placeholder(s) "
                        f"{', '.join(sorted('{{' + u + '}}' for u in unknown))}; known: "
                        "{{prompt}}, {{previous}}, {{step}}")
        Request(prompt=self.prompt, max_tokens=self.max_tokens, temperature=self.temperature)  # validates

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ChainRequest:
        """Parse the seed's chain body; raises InvalidRequestError saying what is wrong."""
        if not isinstance(body, Mapping):
            raise InvalidRequestError("the chain body must be a JSON object")
        raw = body.get("processors")
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise InvalidRequestError('processors must be a list such as ["claude", "gpt"]')
        steps = []
        for item in raw:
            if isinstance(item, str):
                steps.append(ChainStep(item))
            elif isinstance(item, Mapping) and isinstance(item.get("processor"), str):
                for key in ("model", "template", "system"):
                    if item.get(key) is not None and not isinstance(item[key], str):
                        raise InvalidRequestError(f"processor {key} must be a string")
                steps.append(ChainStep(item["processor"], item.get("model"), item.get("template"),
                                       item.get("system")))
            else:
                raise InvalidRequestError("each processor must be a name or an object with a 'processor' name")
        temperature = body.get("temperature")
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, int | float)):
            raise InvalidRequestError(f"temperature must be a number, not {temperature!r}")
        system = body.get("system")
        if system is not None and not isinstance(system, str):
            raise InvalidRequestError("system must be a string")
        return cls(
            processors=tuple(steps),
            prompt=body.get("prompt"),  # type: ignore[arg-type]  # validated in __post_init__
            chain_mode=body.get("chainMode", body.get("chain_mode", "sequential")),
            max_tokens=body.get("maxTokens", body.get("max_tokens", 1024)),
            temperature=temperature,
            system=system,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class StepResult:
    processor: str
    provider: str
    status: StepStatus
    response: str | None = None
    usage: Usage | None = None
    error: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "provider": self.provider,
            "status": self.status,
            "response": self.response,
            "model": self.usage.model if self.usage else None,
            "tokensUsed": self.usage.total_tokens if self.usage else None,
            "usage": self.usage.to_json() if self.usage else None,
            "error": dict(self.error) if self.error else None,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class ChainResult:
    chain_mode: ChainMode
    results: tuple[StepResult, ...]
    response: str | None = None  # sequential: the last answer; race: the winner's; parallel: None
    winner: str | None = None  # race only: the processor that won

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"chainMode": self.chain_mode, "results": [r.to_json() for r in self.results],
                                "response": self.response}
        if self.chain_mode == "race":
            body["winner"] = self.winner
        return body


async def run_processor(router: ProviderRouter, processor: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """``/api/processor/{processor}``: one call to the named provider, no fallback. Returns the seed's
    response shape; raises ProviderError subclasses (InvalidRequestError for a bad body)."""
    request = Request.from_json(body)
    completion = await router.complete(request, role=Role.CHAT, provider=processor, fallback=False)
    return completion.to_json()


async def run_chain(router: ProviderRouter, chain: ChainRequest | Mapping[str, Any]) -> ChainResult:
    """Run a chain. Raises InvalidRequestError for a malformed chain or an unknown processor before
    anything is sent; failures of individual steps are reported in their results, not raised."""
    if not isinstance(chain, ChainRequest):
        chain = ChainRequest.from_json(chain)
    providers = [router.config.get(step.processor).name for step in chain.processors]
    if chain.chain_mode == "sequential":
        return await _sequential(router, chain, providers)
    if chain.chain_mode == "parallel":
        results = await asyncio.gather(*(_step(router, chain, s, p, chain.prompt)
                                         for s, p in zip(chain.processors, providers, strict=True)))
        return ChainResult("parallel", tuple(_result(s, p, r) for s, p, r in
                                             zip(chain.processors, providers, results, strict=True)))
    return await _race(router, chain, providers)


async def _step(router: ProviderRouter, chain: ChainRequest, step: ChainStep, provider: str,
                prompt: str) -> Completion | ProviderError:
    request = Request(prompt=prompt, system=step.system or chain.system, max_tokens=chain.max_tokens,
                      temperature=chain.temperature)
    try:
        return await router.complete(request, role=Role.CHAT, provider=provider, model=step.model, fallback=False)
    except ProviderError as exc:
        return exc


def _result(step: ChainStep, provider: str, outcome: Completion | ProviderError) -> StepResult:
    if isinstance(outcome, ProviderError):
        return StepResult(step.processor, provider, "error", error=outcome.to_json())
    return StepResult(step.processor, provider, "ok", outcome.text, outcome.usage)


async def _sequential(router: ProviderRouter, chain: ChainRequest, providers: list[str]) -> ChainResult:
    results: list[StepResult] = []
    previous: str | None = None
    failed = False
    for number, (step, provider) in enumerate(zip(chain.processors, providers, strict=True), start=1):
        if failed:
            results.append(StepResult(step.processor, provider, "skipped"))
            continue
        outcome = await _step(router, chain, step, provider, step.render(chain.prompt, previous, number))
        results.append(_result(step, provider, outcome))
        if isinstance(outcome, ProviderError):
            failed = True
        else:
            previous = outcome.text
    return ChainResult("sequential", tuple(results), response=None if failed else previous)


async def _race(router: ProviderRouter, chain: ChainRequest, providers: list[str]) -> ChainResult:
    tasks = [asyncio.create_task(_step(router, chain, step, provider, chain.prompt))
             for step, provider in zip(chain.processors, providers, strict=True)]
    outcomes: dict[int, Completion | ProviderError] = {}
    winner: int | None = None
    pending = set(tasks)
    try:
        while pending and winner is None:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=tasks.index):
                outcomes[tasks.index(task)] = task.result()
                if winner is None and isinstance(task.result(), Completion):
                    winner = tasks.index(task)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    results = []
    for index, (step, provider) in enumerate(zip(chain.processors, providers, strict=True)):
        if index in outcomes:
            results.append(_result(step, provider, outcomes[index]))
        else:
            results.append(StepResult(step.processor, provider, "cancelled"))
    won = cast(Completion, outcomes[winner]) if winner is not None else None
    return ChainResult("race", tuple(results), response=won.text if won else None,
                       winner=chain.processors[winner].processor if winner is not None else None)
