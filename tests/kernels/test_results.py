"""Output items, the bounded collector, the reply shape and the settings section."""

from __future__ import annotations

import pytest

from nexus.engine.config import Settings
from nexus.engine.errors import ConfigError
from nexus.kernels import Error, ExecutionResult, KernelSettings, Rich, Stream, kernel_settings
from nexus.kernels.results import OutputCollector, item_from_message
from nexus.kernels.settings import OutputLimits


def test_reply_has_the_seed_shape() -> None:
    result = ExecutionResult(0, (Stream("stdout", "Hello\n"),), 0.0451, language="python")
    assert result.to_json() == {
        "output": "Hello\n",
        "exitCode": 0,
        "executionTime": 45,
        "outputs": [{"output_type": "stream", "name": "stdout", "text": "Hello\n"}],
        "truncated": False,
    }


def test_output_joins_streams_values_and_tracebacks_without_ansi() -> None:
    result = ExecutionResult(
        1,
        (
            Stream("stdout", "a\n"),
            Rich("execute_result", {"text/plain": "2"}),
            Error("ZeroDivisionError", "x", ("\x1b[31mZeroDivisionError\x1b[39m: x",)),
        ),
        0.0,
    )
    assert result.output == "a\n2\nZeroDivisionError: x\n"
    assert result.error is not None and result.error.ename == "ZeroDivisionError"


def test_collector_merges_consecutive_stream_text() -> None:
    collector = OutputCollector(OutputLimits(max_bytes=1000, max_items=10))
    for text in ("a", "b", "c"):
        collector.add(Stream("stdout", text))
    collector.add(Stream("stderr", "e"))
    assert collector.items() == (Stream("stdout", "abc"), Stream("stderr", "e"))


def test_collector_cuts_at_the_byte_limit_and_says_so() -> None:
    collector = OutputCollector(OutputLimits(max_bytes=10, max_items=100))
    for _ in range(1000):
        collector.add(Stream("stdout", "0123456789\n"))
    items = collector.items()
    assert items[0] == Stream("stdout", "0123456789")
    assert collector.dropped_bytes == 1000 * 11 - 10
    assert isinstance(items[-1], Stream) and "output truncated" in items[-1].text


def test_collector_keeps_the_error_past_the_byte_limit() -> None:
    collector = OutputCollector(OutputLimits(max_bytes=5, max_items=100))
    collector.add(Stream("stdout", "x" * 100))
    kept = collector.add(Error("ValueError", "bad", ("ValueError: bad",)))
    assert kept is not None and any(isinstance(i, Error) for i in collector.items())


def test_collector_bounds_the_number_of_items() -> None:
    collector = OutputCollector(OutputLimits(max_bytes=10**6, max_items=3))
    for i in range(10):
        collector.add(Rich("display_data", {"text/plain": str(i)}))
    assert len([i for i in collector.items() if isinstance(i, Rich)]) == 3
    assert collector.truncated


def test_iopub_messages_become_items() -> None:
    assert item_from_message("stream", {"name": "stderr", "text": "x"}) == Stream("stderr", "x")
    rich = item_from_message("execute_result", {"data": {"text/plain": "1"}, "execution_count": 3})
    assert isinstance(rich, Rich) and rich.to_json()["execution_count"] == 3
    assert item_from_message("status", {"execution_state": "idle"}) is None


def test_settings_section_and_pool_from_environment() -> None:
    settings = kernel_settings(Settings({"kernels": {"memory_mb": "256", "pool": "python=2, javascript=1"}}))
    assert settings.memory_mb == 256 and settings.limits.memory_mb == 256
    assert settings.pool == {"python": 2, "javascript": 1}
    assert kernel_settings(Settings({})) == KernelSettings()


@pytest.mark.parametrize(
    "raw", [{"pool": "python"}, {"memory_mb": "-1"}, {"timeout_seconds": "0"}, {"memory_mb": "lots"}]
)
def test_invalid_settings_name_the_key(raw: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="kernels"):
        kernel_settings(Settings({"kernels": raw}))


def test_missing_toolchain_names_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from nexus.kernels import ToolchainMissingError
    from nexus.kernels.languages import require

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainMissingError, match=r"javascript cannot run here: node not found on PATH; install Node"):
        require("js")
    with pytest.raises(ToolchainMissingError, match=r"cpp cannot run here: g\+\+ not found on PATH"):
        require("c++")
    assert require("python").name == "python"
