"""Token counting: the exact counter is tiktoken on a checksum-verified local vocabulary; the estimate
is calibrated and its error on real code is bounded."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from nexus.engine.context import EstimateCounter, TiktokenCounter, counter_for
from nexus.engine.context.tokens import encoding_for_model, load_encoding

ROOT = Path(__file__).resolve().parents[2]


def test_exact_counter_is_offline_tiktoken() -> None:
    counter = counter_for("gpt-4o")
    assert isinstance(counter, TiktokenCounter) and counter.exact and counter.name == "o200k_base"
    # Known o200k counts.
    assert counter.count("hello world") == 2
    assert counter.count("") == 0
    # Special-token text in a file is ordinary text, not an error.
    assert counter.count("<|endoftext|>") > 1
    assert counter_for("gpt-4-turbo").name == "cl100k_base"
    assert counter.count_many(["hello world", "def f():\n    pass\n"]) == [2, counter.count("def f():\n    pass\n")]


def test_model_to_encoding() -> None:
    assert encoding_for_model("gpt-4o-mini") == "o200k_base"
    assert encoding_for_model("openai/gpt-5") == "o200k_base"
    assert encoding_for_model("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_for_model("claude-sonnet-4") is None
    assert encoding_for_model(None) is None
    # Claude's tokenizer is not available offline: o200k stands in, still labelled by its encoding.
    assert counter_for("claude-sonnet-4").name == "o200k_base"


def test_a_vocabulary_with_the_wrong_checksum_is_refused(tmp_path: Path) -> None:
    (tmp_path / "o200k_base.tiktoken.gz").write_bytes(gzip.compress(b"aGVsbG8= 0\n"))
    load_encoding.cache_clear()
    try:
        encoding = load_encoding("o200k_base", tmp_path)
        # The bad file is skipped; the verified vocabulary that bpe-openai ships is used instead.
        assert encoding is not None and len(encoding.encode_ordinary("hello world")) == 2
        assert load_encoding("no_such_encoding", tmp_path) is None
    finally:
        load_encoding.cache_clear()


def test_estimate_error_on_real_code() -> None:
    exact = counter_for()
    estimate = EstimateCounter()
    assert not estimate.exact and estimate.name == "estimate"
    pieces = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").split("\n")
        pieces += ["\n".join(lines[i:i + 60]) for i in range(0, len(lines), 60)]
    true = [exact.count(p) for p in pieces]
    guess = estimate.count_many(pieces)
    errors = sorted(abs(g - t) / max(t, 1) for g, t in zip(guess, true, strict=True) if t >= 50)
    assert errors[len(errors) // 2] < 0.10  # median per piece
    assert abs(sum(guess) - sum(true)) / sum(true) < 0.05  # in total
    assert estimate.count("") == 0


@pytest.mark.parametrize("text", ["naïve café — ünïcode", "x" * 10_000, "\n\n\t  \n"])
def test_estimate_is_sane_on_odd_text(text: str) -> None:
    exact, estimate = counter_for().count(text), EstimateCounter().count(text)
    assert estimate > 0 and exact > 0
    assert 0.2 < estimate / exact < 5
