"""Python: ``.py`` sources and ``.pyi`` stubs, run on ipykernel."""

from __future__ import annotations

import builtins
import keyword
import posixpath
from typing import TYPE_CHECKING

from .base import ANY, Grammar, ImportTargets, Language, ScopeRules, TestLayout

if TYPE_CHECKING:
    from ..parsing.spec import LanguageSpec


def _spec() -> LanguageSpec:
    from ..parsing import python

    return python.SPEC


def _files(stem: str, prefix: str) -> tuple[str, ...]:
    return (f"{prefix}{stem}.py", f"{prefix}{stem}/__init__.py", f"{prefix}{stem}.pyi")


def resolve_import(from_path: str, module: str, names: tuple[str, ...]) -> ImportTargets:
    """``from ..pkg import mod`` counts dots from the importing file's folder (exact paths); an absolute
    ``pkg.mod`` may sit under any source root (path suffixes). Each imported name may be a submodule."""
    if not module:
        return ImportTargets()
    dots = len(module) - len(module.lstrip("."))
    rest = module[dots:].replace(".", "/")
    if dots:
        base = posixpath.dirname(from_path)
        for _ in range(dots - 1):
            base = posixpath.dirname(base)
        prefix = "="
        stem = posixpath.join(base, rest) if rest else base
    else:
        prefix = "~"
        stem = rest
    if rest:
        own = _files(stem, prefix)
    else:
        own = (f"={posixpath.join(stem, '__init__.py')}",)  # `from . import x`: the package
    members: list[str] = []
    for name in names:
        if name != "*" and name.isidentifier():
            members.extend(_files(posixpath.join(stem, name) if stem else name, prefix))
    return ImportTargets(own, tuple(members), members_first=not rest)


LANGUAGE = Language(
    name="python",
    display_name="Python",
    family="python",
    suffixes=(".py", ".pyi"),
    aliases=("py", "python3", "ipython"),
    lsp_ids=("python",),
    grammar=Grammar("tree_sitter_python", package="tree-sitter-python"),
    spec=_spec,
    resolve_import=resolve_import,
    scopes=ScopeRules(
        bindings=frozenset({
            ("parameters", ANY), ("lambda_parameters", ANY), ("default_parameter", "name"),
            ("typed_parameter", ANY), ("typed_default_parameter", "name"), ("assignment", "left"),
            ("for_statement", "left"), ("for_in_clause", "left"), ("as_pattern_target", ANY),
            ("named_expression", "name"), ("function_definition", "name"), ("class_definition", "name"),
            ("aliased_import", "alias"), ("global_statement", ANY), ("nonlocal_statement", ANY),
        }),
        containers=frozenset({"pattern_list", "tuple_pattern", "list_pattern", "tuple", "list",
                              "parenthesized_expression", "list_splat_pattern", "dictionary_splat_pattern"}),
        scopes=frozenset({"module", "function_definition", "lambda", "class_definition", "list_comprehension",
                          "dictionary_comprehension", "set_comprehension", "generator_expression"}),
    ),
    keywords=(*keyword.kwlist, "self"),
    builtins=tuple(sorted(name for name in dir(builtins) if not name.startswith("_"))),
    line_comment="#",
    block_comment=None,
    tests=TestLayout(("test_{stem}", "{stem}_test"), folder="tests", suffix=".py"),
    test_framework="pytest",
    kernel="python",
)
