"""Which language a file is, and its tree-sitter grammar.

Grammars come from the individual ``tree-sitter-<lang>`` packages (the language pack downloads its
grammars at run time and fails offline). `.h` is parsed as C++: the C++ grammar accepts C headers,
while the C grammar rejects the C++ found in many `.h` files.
"""

from __future__ import annotations

import functools
import importlib
import threading
from pathlib import PurePath

import tree_sitter as ts

LANGUAGE_BY_SUFFIX: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".java": "java",
    ".c": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".h": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".ipynb": "notebook",
}

# What users call the languages (`--lang`), to the grammar names above.
LANGUAGE_ALIASES: dict[str, tuple[str, ...]] = {
    "python": ("python",), "py": ("python",),
    "javascript": ("javascript",), "js": ("javascript",),
    "typescript": ("typescript", "tsx"), "ts": ("typescript", "tsx"), "tsx": ("tsx",),
    "java": ("java",),
    "c": ("c",), "cpp": ("cpp", "c"), "c++": ("cpp", "c"),
}


def language_for(path: str | PurePath) -> str | None:
    """Return the grammar name for a path, or None when Nexus does not index that kind of file."""
    return LANGUAGE_BY_SUFFIX.get(PurePath(path).suffix.lower())


def expand_language(name: str) -> tuple[str, ...]:
    """Grammar names for a user's ``--lang`` value; raises ValueError for an unknown language."""
    try:
        return LANGUAGE_ALIASES[name.lower()]
    except KeyError:
        known = ", ".join(sorted(LANGUAGE_ALIASES))
        raise ValueError(f"unknown language {name!r}; known: {known}") from None


@functools.cache
def grammar(name: str) -> ts.Language:
    """The tree-sitter Language for a grammar name (loaded once per process)."""
    if name in ("typescript", "tsx"):
        import tree_sitter_typescript

        return ts.Language(tree_sitter_typescript.language_typescript() if name == "typescript"
                           else tree_sitter_typescript.language_tsx())
    module = _GRAMMAR_MODULES.get(name)
    if module is None:
        raise ValueError(f"no grammar for {name!r}")
    return ts.Language(importlib.import_module(module).language())


_GRAMMAR_MODULES = {
    "python": "tree_sitter_python", "javascript": "tree_sitter_javascript", "java": "tree_sitter_java",
    "cpp": "tree_sitter_cpp", "c": "tree_sitter_c",
}


_local = threading.local()


def parser(name: str) -> ts.Parser:
    """A parser for this thread: tree-sitter parsers are not safe to share between threads."""
    parsers: dict[str, ts.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    found = parsers.get(name)
    if found is None:
        found = parsers[name] = ts.Parser(grammar(name))
    return found
