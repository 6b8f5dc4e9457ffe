"""Every language Nexus knows, one module each (python, javascript, typescript, java, c, cpp; notebooks
are a container, in ``notebook``), and the registry that finds them.

A language module builds one :class:`Language` record holding everything the code knows about the
language; nothing else in Nexus keeps a per-language table. Adding a language is one new module here,
its entry in ``registry.LANGUAGES`` and its grammar package (docs/architecture.md, "Adding a language").
"""

from __future__ import annotations

from .base import (
    ANY,
    Grammar,
    ImportResolver,
    ImportTargets,
    Language,
    ScopeRules,
    TestLayout,
    UnknownLanguageError,
)
from .grammars import grammar, parser
from .modules import key_matches, keys_matching
from .registry import (
    LANGUAGE_ALIASES,
    LANGUAGE_BY_SUFFIX,
    LANGUAGES,
    editor_language_ids,
    expand_language,
    family,
    family_members,
    find,
    find_lsp_id,
    for_lsp_id,
    for_path,
    for_suffix,
    get,
    language_for,
    lookup,
)

__all__ = [
    "ANY", "LANGUAGES", "LANGUAGE_ALIASES", "LANGUAGE_BY_SUFFIX", "Grammar", "ImportResolver", "ImportTargets",
    "Language", "ScopeRules", "TestLayout", "UnknownLanguageError", "editor_language_ids", "expand_language",
    "family", "family_members", "find", "find_lsp_id", "for_lsp_id", "for_path", "for_suffix", "get",
    "grammar", "key_matches", "keys_matching", "language_for", "lookup", "parser",
]
