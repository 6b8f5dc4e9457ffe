"""The registry: every language Nexus knows, found by name, alias, file suffix or LSP language id.

The order of ``LANGUAGES`` is the order lists are shown in (editors, ``--help``). A name nobody
registered is an :class:`UnknownLanguageError` with the known names in its message: no lookup falls
back to a default language.
"""

from __future__ import annotations

from pathlib import PurePath

from . import c, cpp, java, javascript, notebook, python, typescript
from .base import Language, UnknownLanguageError

LANGUAGES: tuple[Language, ...] = (
    python.LANGUAGE, javascript.LANGUAGE, typescript.LANGUAGE, typescript.TSX, java.LANGUAGE, c.LANGUAGE,
    cpp.LANGUAGE,
)


def _index(key: str, pairs: list[tuple[str, Language]]) -> dict[str, Language]:
    out: dict[str, Language] = {}
    for value, lang in pairs:
        value = value.lower()
        if value in out and out[value] is not lang:
            raise RuntimeError(f"{key} {value!r} is claimed by both {out[value].name} and {lang.name}")
        out[value] = lang
    return out


_BY_NAME = _index("name", [(name, lang) for lang in LANGUAGES for name in lang.names])
_BY_SUFFIX = _index("suffix", [(suffix, lang) for lang in LANGUAGES for suffix in lang.suffixes])
_BY_LSP_ID = _index("LSP id", [(i, lang) for lang in LANGUAGES for i in (*lang.lsp_ids, *lang.other_lsp_ids)])


def get(name: str) -> Language:
    """The language called ``name`` or one of its aliases (case-insensitive)."""
    found = _BY_NAME.get(name.strip().lower())
    if found is None:
        raise UnknownLanguageError("language", name, [lang.name for lang in LANGUAGES])
    return found


def find(name: str | None) -> Language | None:
    """Like :func:`get`, None for no name or an unknown one (for data that may name anything)."""
    return _BY_NAME.get(name.strip().lower()) if name else None


def lookup(language: str | None) -> Language | None:
    """The record of an index language; None for no language (plain text) or the notebook container.
    Raises UnknownLanguageError for any other name."""
    if language is None or language == notebook.NAME:
        return None
    return get(language)


def for_suffix(suffix: str) -> Language:
    found = _BY_SUFFIX.get(suffix.lower())
    if found is None:
        raise UnknownLanguageError("file suffix", suffix, sorted(_BY_SUFFIX))
    return found


def for_lsp_id(language_id: str) -> Language:
    found = _BY_LSP_ID.get(language_id.lower())
    if found is None:
        raise UnknownLanguageError("LSP language id", language_id, sorted(_BY_LSP_ID))
    return found


def find_lsp_id(language_id: str) -> Language | None:
    return _BY_LSP_ID.get(language_id.lower())


def for_path(path: str | PurePath) -> Language | None:
    """The language of a source file by its suffix; None for anything else (notebooks included: their
    language is in their metadata, see ``notebook.cell_language``)."""
    return _BY_SUFFIX.get(PurePath(path).suffix.lower())


def language_for(path: str | PurePath) -> str | None:
    """The index language of a path (``notebook`` for a notebook), or None when Nexus does not index
    that kind of file."""
    suffix = PurePath(path).suffix.lower()
    if suffix in notebook.SUFFIXES:
        return notebook.NAME
    found = _BY_SUFFIX.get(suffix)
    return found.name if found is not None else None


def expand_language(name: str) -> tuple[str, ...]:
    """Index languages a user's ``--lang`` value selects (``ts``: typescript and tsx)."""
    return get(name).search_languages


def family(language: str | None) -> str:
    """The family of an index language (languages of one family see each other's names); "" for no
    language (a plain-text buffer) or a notebook. Raises UnknownLanguageError for any other name."""
    found = lookup(language)
    return found.family if found is not None else ""


def family_members(language: str) -> tuple[str, ...]:
    """Every index language in the family of ``language``."""
    fam = family(language)
    return tuple(lang.name for lang in LANGUAGES if lang.family == fam)


def editor_language_ids() -> tuple[str, ...]:
    """The LSP language ids editors attach the server to, in registry order."""
    return tuple(i for lang in LANGUAGES for i in lang.lsp_ids)


# The tables older callers read, derived from the records.
LANGUAGE_BY_SUFFIX: dict[str, str] = {
    **{suffix: lang.name for lang in LANGUAGES for suffix in lang.suffixes},
    **dict.fromkeys(notebook.SUFFIXES, notebook.NAME),
}
LANGUAGE_ALIASES: dict[str, tuple[str, ...]] = {name: lang.search_languages for name, lang in _BY_NAME.items()}
