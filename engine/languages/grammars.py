"""Loading each language's tree-sitter grammar once per process, and a parser per thread."""

from __future__ import annotations

import functools
import importlib
import threading

import tree_sitter as ts

from .registry import get


@functools.cache
def grammar(name: str) -> ts.Language:
    """The tree-sitter Language of an index language (loaded once per process)."""
    ref = get(name).grammar
    return ts.Language(getattr(importlib.import_module(ref.module), ref.function)())


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
