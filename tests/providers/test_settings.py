"""Settings and roles, the no-provider error, and secrets that never show."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest

from nexus.engine.config import Settings, load_settings
from nexus.engine.errors import ConfigError, NexusError, UnavailableError
from nexus.engine.providers import (
    NoProviderError,
    ProviderAuthError,
    ProviderRouter,
    Request,
    Role,
    Target,
    load_providers_config,
)
from nexus.engine.providers.errors import redact
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import API_KEY, RouterFactory


def test_no_provider_error_says_exactly_how_to_configure_one() -> None:
    router = ProviderRouter(load_providers_config(Settings({}), env={}))
    assert not router.available
    with pytest.raises(NoProviderError) as caught:
        router.stream(Request(prompt="hi"))
    message = str(caught.value)
    for hint in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "NEXUS_LOCAL_BASE_URL", "nexus.toml"):
        assert hint in message
    assert isinstance(caught.value, NexusError) and isinstance(caught.value, UnavailableError)


def test_naming_an_unconfigured_provider_says_what_is_missing() -> None:
    config = load_providers_config(Settings({}), env={"OPENAI_API_KEY": "k"})
    with pytest.raises(NoProviderError, match="anthropic is not configured: set ANTHROPIC_API_KEY"):
        config.targets(Role.CHAT, provider="claude")
    with pytest.raises(NoProviderError, match="local is not configured: set NEXUS_LOCAL_BASE_URL"):
        config.targets(Role.CHAT, provider="local")


def test_workspace_file_user_file_and_env_configure_providers_and_roles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # where a provider lives (and so where the user's key goes) is the user's to say, not the repository's:
    # base_url in the workspace file is ignored (tests/engine/test_config.py); roles and order are not
    (tmp_path / ".nexus.toml").write_text(
        '[providers]\norder = ["local", "openai"]\ninline = "local"\ntimeout = 12\n'
        '[providers.local]\nbase_url = "http://attacker.example/v1"\n', encoding="utf-8")
    user = tmp_path / "user"
    user.mkdir()
    (user / "nexus.toml").write_text(
        '[providers.local]\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = "qwen2.5-coder:7b"\n'
        'inline_model = "qwen2.5-coder:1.5b"\n'
        '[providers.vllm]\nkind = "local"\nbase_url = "http://gpu-box:8000/v1"\nmodel = "big"\n',
        encoding="utf-8")
    monkeypatch.setenv("NEXUS_CONFIG_DIR", str(user))
    env = {"NEXUS_CONFIG_DIR": str(user), "OPENAI_API_KEY": "k",
           "NEXUS_OPENAI_BASE_URL": "http://proxy.internal/v1", "NEXUS_PROVIDERS_CHAT": "gpt:gpt-5.4-mini"}
    config = load_providers_config(load_settings(tmp_path, env), env=env)

    assert config.timeout == 12
    assert [p.name for p in config.configured] == ["local", "openai", "vllm"]
    assert config.get("local").base_url == "http://127.0.0.1:11434/v1"
    assert config.get("openai").base_url == "http://proxy.internal/v1"
    assert config.get("vllm").kind == "local"
    assert config.targets(Role.INLINE) == (
        Target("local", "qwen2.5-coder:1.5b"), Target("openai", "gpt-5.4-mini"), Target("vllm", "big"))
    assert config.targets(Role.CHAT)[0] == Target("openai", "gpt-5.4-mini")
    assert config.targets(Role.EDIT, model="override", fallback=False) == (Target("local", "override"),)


@pytest.mark.parametrize(("raw", "message"), [
    ({"providers": {"order": ["claude", "nope"]}}, "unknown provider 'nope'"),
    ({"providers": {"chat": "bard:x"}}, r"providers.chat: unknown provider 'bard'"),
    ({"providers": {"timeout": 0}}, "providers.timeout must be positive"),
    ({"providers": {"timeout": "soon"}}, "providers.timeout"),
    ({"local": {"base_url": "localhost:11434"}}, "must start with http"),
    ({"providers": {"mine": {"kind": "cohere"}}}, "kind must be one of"),
])
def test_invalid_settings_name_the_key(raw: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_providers_config(Settings(raw), env={})


def test_a_local_provider_without_a_model_says_which_setting_to_add() -> None:
    settings = Settings({"providers": {"order": ["local"]}, "local": {"base_url": "http://127.0.0.1:1/v1"}})
    config = load_providers_config(settings, env={})
    with pytest.raises(ConfigError, match="NEXUS_LOCAL_MODEL"):
        config.targets(Role.CHAT)
    # ...unless another configured provider can serve the role.
    config = load_providers_config(settings, env={"GEMINI_API_KEY": "k"})
    assert [t.provider for t in config.targets(Role.CHAT)] == ["gemini"]


def test_a_disabled_provider_is_not_used() -> None:
    config = load_providers_config(Settings({"anthropic": {"enabled": "false"}}),
                                   env={"ANTHROPIC_API_KEY": "k", "GEMINI_API_KEY": "k"})
    assert [t.provider for t in config.targets(Role.CHAT)] == ["gemini"]


async def test_secrets_never_reach_reprs_logs_or_errors(fake_llm: FakeLLM, make_router: RouterFactory,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the SDKs' and httpx's included
    fake_llm.script("anthropic", Reply.error(401, message="invalid key"))
    fake_llm.script("openai", Reply.error(500))
    router = make_router(max_retries=0)

    await router.complete(Request(prompt="hi"))  # anthropic 401, openai 500, gemini answers
    with pytest.raises(ProviderAuthError) as caught:
        fake_llm.script("anthropic", Reply.error(401, message="invalid key"))
        await router.complete(Request(prompt="hi"), provider="anthropic")

    assert fake_llm.requests[0].headers["authorization"] == f"Bearer {API_KEY}"  # it was used...
    shown = [str(caught.value), repr(caught.value), repr(router.config), str(router.config),
             repr(router.config.get("anthropic")), repr(router.provider("anthropic")),
             repr(router.provider("openai")), str(router.status()), caplog.text]
    assert caplog.text  # ...the debug logs were captured...
    for text in shown:
        assert API_KEY not in text  # ...and shown nowhere
    with pytest.raises(TypeError):
        pickle.dumps(router.config.get("anthropic").api_key)


def test_redact_hides_given_secrets_and_key_shaped_tokens() -> None:
    text = "key sk-ant-api03-abcdefgh and sk-proj-0123456789abcdefXYZ, AIzaSyA0123456789abcdefghij, mine"
    cleaned = redact(text, ["mine"])
    assert "abcdefgh" not in cleaned and "0123456789abcdef" not in cleaned and "AIza" not in cleaned
    assert cleaned.endswith("***")


async def test_credentials_inside_a_base_url_are_not_shown() -> None:
    settings = Settings({"local": {"base_url": "https://user:hunter2@llm.internal:8443/v1?token=abc123",
                                   "model": "m"}})
    async with ProviderRouter(load_providers_config(settings, env={})) as router:
        shown = str(router.status()) + repr(router.provider("local"))
        assert "hunter2" not in shown and "abc123" not in shown
        assert "https://llm.internal:8443/v1" in shown
