"""The kernels run the languages the engine's registry says they run (no kernel is started here)."""

from __future__ import annotations

from pathlib import Path

from nexus.engine import languages as registry
from nexus.kernels import LANGUAGES, language_for_path
from nexus.kernels.languages import resolve


def test_every_registered_language_names_a_kernel_that_exists() -> None:
    named = [lang for lang in registry.LANGUAGES if lang.kernel is not None]
    assert {lang.kernel for lang in named} == set(LANGUAGES)  # and every kernel runs some language
    for lang in named:
        assert lang.kernel in LANGUAGES, lang.name


def test_a_file_runs_in_the_kernel_its_language_names() -> None:
    for lang in registry.LANGUAGES:
        for suffix in lang.suffixes:
            found = language_for_path(Path(f"src/file{suffix}"))
            assert (found.name if found is not None else None) == lang.kernel, suffix
    assert language_for_path(Path("Scratch.jsh")) is LANGUAGES["java"]  # jshell's own scripts
    assert language_for_path(Path("notes.txt")) is None


def test_a_kernel_is_found_by_its_language_names() -> None:
    for lang in registry.LANGUAGES:
        if lang.name == lang.kernel:
            assert resolve(lang.name) is LANGUAGES[lang.name]
