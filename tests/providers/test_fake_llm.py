"""The fake server itself, as other test folders will use it: both SDKs, streamed or not."""

from __future__ import annotations

import anthropic
import openai

from tests.support.fake_llm import FakeLLM, Reply


async def test_non_streaming_answers_parse_with_both_sdks(fake_llm: FakeLLM) -> None:
    fake_llm.set_default(Reply(echo=True))
    claude = anthropic.AsyncAnthropic(api_key="k", base_url=fake_llm.base_url("anthropic"), max_retries=0)
    gpt = openai.AsyncOpenAI(api_key="k", base_url=fake_llm.base_url("local"), max_retries=0)
    try:
        message = await claude.messages.create(model="m", max_tokens=10,
                                               messages=[{"role": "user", "content": "echo me back"}])
        chat = await gpt.chat.completions.create(model="m", messages=[{"role": "user", "content": "and me"}])
    finally:
        await claude.close()
        await gpt.close()
    assert message.content[0].type == "text" and message.content[0].text == "echo me back"
    assert message.usage.input_tokens == 3
    assert chat.choices[0].message.content == "and me"
    assert chat.usage is not None and chat.usage.completion_tokens == 2
    assert [r.route for r in fake_llm.requests] == ["anthropic", "local"]


async def test_the_sdk_sees_retry_after_and_error_bodies(fake_llm: FakeLLM) -> None:
    fake_llm.script("anthropic", Reply.error(429, retry_after=2, message="slow down"))
    client = anthropic.AsyncAnthropic(api_key="k", base_url=fake_llm.base_url("anthropic"), max_retries=0)
    try:
        await client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    except anthropic.RateLimitError as exc:
        assert exc.response.headers["retry-after"] == "2"
        assert exc.api_message == "slow down"
    else:
        raise AssertionError("expected a 429")
    finally:
        await client.close()


def test_env_points_every_provider_at_the_server() -> None:
    with FakeLLM() as fake:
        env = fake.env()
        assert env["NEXUS_ANTHROPIC_BASE_URL"] == f"{fake.url}/anthropic"
        assert env["NEXUS_LOCAL_BASE_URL"] == f"{fake.url}/local/v1"
    assert fake.port  # stopped cleanly; a second stop is harmless
    fake.stop()
