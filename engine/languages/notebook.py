"""Jupyter notebooks: a container, not a language. A ``.ipynb`` file is indexed as its code cells in
the language its metadata names (``language_info.name`` or the kernelspec's ``language``), looked up
in the registry by name or alias; a notebook that names none is Python, as Jupyter assumes."""

from __future__ import annotations

from typing import Any

from .base import Language, UnknownLanguageError

NAME = "notebook"  # what ``language_for`` says of a notebook file before its cells are read
SUFFIXES = (".ipynb",)
DEFAULT = "python"


def cell_language(metadata: Any) -> Language:
    """The language of a notebook's code cells; raises UnknownLanguageError for a kernel language no
    registered language claims (an R notebook is not indexed as Python)."""
    from .registry import get

    metadata = metadata if isinstance(metadata, dict) else {}
    info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    spec = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    name = str(info.get("name") or spec.get("language") or DEFAULT).strip()
    try:
        return get(name)
    except UnknownLanguageError as exc:
        raise UnknownLanguageError("notebook kernel language", name, _known()) from exc


def _known() -> list[str]:
    from .registry import LANGUAGES

    return [lang.name for lang in LANGUAGES]
