"""The Assistant end to end in process: a real index, the real provider SDKs, the local fake model server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from nexus.engine import Workspace
from nexus.engine.assistant import Assistant, AssistRequest, Document, Task
from nexus.engine.config import Settings
from nexus.engine.providers import NoProviderError, ProviderRouter, StreamInterruptedError
from nexus.engine.providers.settings import load_providers_config
from tests.support.fake_llm import FakeLLM, Reply, fake_llm  # noqa: F401 - the fixture

from .conftest import GEOMETRY, REPORT

KEYS = {"ANTHROPIC_API_KEY": "assistant-test-key", "OPENAI_API_KEY": "assistant-test-key"}


@pytest.fixture
def ws(project: Path) -> Iterator[Workspace]:
    with Workspace.open(project) as workspace:
        yield workspace


@pytest.fixture
async def waits() -> list[float]:
    return []


@pytest.fixture
async def assistant(fake_llm: FakeLLM, waits: list[float]) -> AsyncIterator[Assistant]:  # noqa: F811
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    settings = Settings({"providers": {"order": ["anthropic", "openai"], "max_retries": 1},
                         "anthropic": {"base_url": fake_llm.base_url("anthropic")},
                         "openai": {"base_url": fake_llm.base_url("openai")}})
    router = ProviderRouter.from_settings(settings, env=KEYS, sleep=sleep)
    async with router:
        yield Assistant(router)


def row(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n")) if needle in line)


def ask_about_describe(question: str = "What does describe print?") -> AssistRequest:
    return AssistRequest(Task.CHAT, question, Document("pkg/report.py", REPORT, "python"),
                         cursor=(row(REPORT, "circle.area()"), 20))


async def read(assistant: Assistant, ws: Workspace, request: AssistRequest) -> tuple[list[str], Any]:
    deltas = []
    stream = assistant.answer(ws, request)
    async with stream:
        async for delta in stream:
            deltas.append(delta)
    return deltas, stream.result


async def test_an_answer_streams_and_carries_what_the_model_was_shown(
        assistant: Assistant, ws: Workspace, fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply(chunks=("It prints ", "the area ", "of the circle.")))
    deltas, answer = await read(assistant, ws, ask_about_describe())
    assert deltas == ["It prints ", "the area ", "of the circle."]
    assert answer.text == "It prints the area of the circle." and answer.generated
    assert (answer.provider, answer.model) == ("anthropic", "claude-sonnet-5-5")
    assert answer.usage.output_tokens == 3
    sent = fake_llm.requests_to("anthropic")[-1].json
    prompt = sent["messages"][-1]["content"]
    assert sent["system"].startswith("You are Nexus")
    assert prompt.startswith("<workspace_context>\n") and prompt.endswith("What does describe print?")
    assert '<code_in_question path="pkg/report.py" lines="4-5" language="python">' in prompt
    # Every piece of the prompt is in the receipt, and the other way round.
    for entry in answer.receipt[1:]:
        if entry.path:
            assert f'<piece path="{entry.path}" lines="{entry.start_line + 1}-{entry.end_line + 1}">' in prompt
    assert any(e.path == "pkg/geometry.py" and e.kind == "definition" for e in answer.receipt)
    assert answer.context_tokens == sum(e.tokens for e in answer.receipt)


async def test_a_rate_limit_is_waited_out_then_the_answer_comes(
        assistant: Assistant, ws: Workspace, fake_llm: FakeLLM, waits: list[float]) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply.error(429, retry_after=3), Reply(text="after the wait"))
    _, answer = await read(assistant, ws, ask_about_describe())
    assert answer.text == "after the wait" and answer.provider == "anthropic" and answer.usage.attempts == 2
    assert len(waits) == 1 and 3 <= waits[0] <= 3.3


async def test_a_failing_provider_falls_back_to_the_next(
        assistant: Assistant, ws: Workspace, fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply.error(500), Reply.error(500))
    fake_llm.script("openai", Reply(text="from the fallback"))
    _, answer = await read(assistant, ws, ask_about_describe())
    assert (answer.provider, answer.model, answer.text) == ("openai", "gpt-5.5", "from the fallback")
    assert [r.route for r in fake_llm.requests] == ["anthropic", "anthropic", "openai"]


async def test_a_stream_cut_midway_raises_with_the_text_so_far(
        assistant: Assistant, ws: Workspace, fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply(chunks=("one ", "two ", "three ", "four"), cut_after=2))
    deltas: list[str] = []
    with pytest.raises(StreamInterruptedError) as caught:
        stream = assistant.answer(ws, ask_about_describe())
        async with stream:
            async for delta in stream:
                deltas.append(delta)
    assert deltas == ["one ", "two "] and caught.value.partial_text == "one two "
    assert len(fake_llm.requests) == 1  # text was shown: never retried elsewhere


async def test_cancelling_the_reader_closes_the_upstream_request(
        assistant: Assistant, ws: Workspace, fake_llm: FakeLLM) -> None:  # noqa: F811
    fake_llm.script("anthropic", Reply(chunks=tuple(f"w{i} " for i in range(100)), chunk_interval=0.05))
    first = asyncio.Event()

    async def reader() -> None:
        stream = assistant.answer(ws, ask_about_describe())
        async with stream:
            async for _ in stream:
                first.set()

    task = asyncio.create_task(reader())
    await asyncio.wait_for(first.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    upstream = fake_llm.requests_to("anthropic")[-1]
    assert await fake_llm.wait_disconnected(upstream, 10)
    assert not upstream.completed and upstream.chunks_sent < 100


async def test_edits_come_back_as_replacements_and_new_test_files(
        assistant: Assistant, ws: Workspace, fake_llm: FakeLLM) -> None:  # noqa: F811
    document = Document("pkg/geometry.py", GEOMETRY, "python")
    at_scale = (row(GEOMETRY, "return Circle(circle"), 8)
    fake_llm.script("anthropic", Reply(text='Documented.\n```python\ndef scale(circle: Circle, factor: float) -> Circle:\n'
                                            '    """A copy of ``circle`` with its radius times ``factor``."""\n'
                                            '    return Circle(circle.radius * factor)\n```\n'))
    proposal = await assistant.propose_edit(ws, AssistRequest(Task.DOCSTRING, document=document, cursor=at_scale))
    (edit,) = proposal.edits
    assert (edit.path, edit.span.start_line, edit.span.end_line) == ("pkg/geometry.py", row(GEOMETRY, "def scale"),
                                                                     at_scale[0] + 1)
    assert '"""A copy of ``circle``' in edit.text and proposal.note == "Documented."
    sent = fake_llm.requests_to("anthropic")[-1].json
    assert "Add documentation" in sent["system"] and sent["model"] == "claude-sonnet-5-5"

    fake_llm.script("anthropic", Reply(text="```python\nfrom pkg.geometry import Circle\n\n\ndef test_area():\n"
                                            "    assert Circle(1.0).area() > 3.14\n```"))
    tests = await assistant.propose_edit(ws, AssistRequest(Task.TESTS, document=document,
                                                           cursor=(row(GEOMETRY, "def area"), 4)))
    (new_file,) = tests.edits
    assert new_file.create and new_file.path == "tests/test_geometry.py" and "def test_area" in new_file.text
    prompt = fake_llm.requests_to("anthropic")[-1].json["messages"][-1]["content"]
    assert "Write tests with pytest. The test file will be saved as tests/test_geometry.py." in prompt


async def test_inline_completion_fills_in_the_middle(
        assistant: Assistant, ws: Workspace, fake_llm: FakeLLM) -> None:  # noqa: F811
    text = GEOMETRY + "\n\ndef circumference(circle: Circle) -> float:\n    \n"
    cursor = (row(text, "def circumference") + 1, 4)
    fake_llm.script("anthropic", Reply(text="```python\nreturn 2 * math.pi * circle.radius\n```"))
    suggestion = await assistant.suggest(ws, AssistRequest(Task.INLINE, document=Document("pkg/geometry.py", text,
                                                                                          "python"), cursor=cursor))
    assert suggestion is not None and suggestion.text == "return 2 * math.pi * circle.radius"
    sent = fake_llm.requests_to("anthropic")[-1].json
    assert sent["model"] == "claude-haiku-5-5" and sent["max_tokens"] == 128
    assert "def circumference(circle: Circle) -> float:\n    <CURSOR/>\n" in sent["messages"][-1]["content"]
    assert suggestion.receipt[0].reason == "the code before and after the cursor"
    # Typing on the same line: the index part of the context is reused, the text around the cursor is not.
    typed = text.replace("-> float:\n    \n", "-> float:\n    ret\n")
    fake_llm.script("anthropic", Reply(text="urn 2 * math.pi * circle.radius"))
    again = await assistant.suggest(ws, AssistRequest(Task.INLINE, document=Document("pkg/geometry.py", typed,
                                                                                     "python"), cursor=(cursor[0], 7)))
    assert again is not None and again.text == "urn 2 * math.pi * circle.radius"
    assert (assistant.inline_cache.hits, assistant.inline_cache.misses) == (1, 1)
    assert again.receipt[1:] == suggestion.receipt[1:]
    assert "    ret<CURSOR/>\n" in fake_llm.requests_to("anthropic")[-1].json["messages"][-1]["content"]


async def test_without_a_provider_answers_are_retrieval_only_and_edits_say_how_to_configure(ws: Workspace) -> None:
    assistant = Assistant(ProviderRouter(load_providers_config(Settings({}), env={})))
    _, answer = await read(assistant, ws, ask_about_describe("how is the area of a circle computed?"))
    assert not answer.generated and answer.usage is None and answer.provider == ""
    assert answer.text.startswith("**Not model-generated:**") and "ANTHROPIC_API_KEY" in answer.text
    assert any(e.path == "pkg/geometry.py" for e in answer.receipt)
    for entry in answer.receipt:
        assert f"### {entry.label()}" in answer.text
    document = Document("pkg/geometry.py", GEOMETRY, "python")
    with pytest.raises(NoProviderError, match="Add docstring needs a model"):
        await assistant.propose_edit(ws, AssistRequest(Task.DOCSTRING, document=document, cursor=(9, 8)))
    assert await assistant.suggest(ws, AssistRequest(Task.INLINE, document=document, cursor=(9, 8))) is None
