"""JavaScript (``.js``, ``.jsx``, ES modules and CommonJS), run on Node.js; also the import resolver and
scope rules the TypeScript module shares (one family: either imports the other)."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from .base import ANY, Grammar, ImportTargets, Language, ScopeRules, TestLayout
from .modules import relative_to

if TYPE_CHECKING:
    from ..parsing.spec import LanguageSpec

# What a bare `./x` may be, in the order a bundler or TypeScript's resolver tries them.
EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
INDEX_FILES = ("index.ts", "index.tsx", "index.js", "index.jsx", "index.mjs", "index.cjs")
# TypeScript sources are imported by their output's name: `./x.js` is `x.ts` before compilation.
_COMPILED = {".js": (".ts", ".tsx", ".d.ts"), ".jsx": (".tsx",), ".mjs": (".mts", ".d.mts"),
             ".cjs": (".cts", ".d.cts")}
_WRITTEN = frozenset({*_COMPILED, ".ts", ".tsx", ".mts", ".cts", ".json"})


def resolve_import(from_path: str, module: str, names: tuple[str, ...]) -> ImportTargets:
    """Relative specifiers only (``./x``, ``../lib``): ``x`` itself, ``x`` plus each extension, a
    TypeScript source for a ``.js`` name, and a folder's index file. A bare specifier (``react``) is a
    package from node_modules, outside the workspace."""
    if not module.startswith("."):
        return ImportTargets()
    base = relative_to(from_path, module)
    if base is None:
        return ImportTargets()
    keys: list[str] = []
    if base:
        keys.append(f"={base}")
        written = posixpath.splitext(base)[1]
        if written in _WRITTEN:  # `./x.js`: that file, or the TypeScript source compiled to it
            keys.extend(f"={base[:-len(written)]}{ext}" for ext in _COMPILED.get(written, ()))
            return ImportTargets(tuple(keys))
        keys.extend(f"={base}{ext}" for ext in EXTENSIONS)
    folder = f"{base}/" if base else ""
    keys.extend(f"={folder}{index}" for index in INDEX_FILES)
    return ImportTargets(tuple(keys))


SCOPES = ScopeRules(
    bindings=frozenset({
        ("variable_declarator", "name"), ("formal_parameters", ANY), ("required_parameter", "pattern"),
        ("optional_parameter", "pattern"), ("catch_clause", "parameter"), ("for_in_statement", "left"),
        ("arrow_function", "parameter"), ("function_declaration", "name"), ("function_expression", "name"),
        ("generator_function_declaration", "name"), ("class_declaration", "name"), ("class", "name"),
        ("abstract_class_declaration", "name"), ("import_clause", ANY), ("namespace_import", ANY),
        ("method_definition", "name"), ("field_definition", "property"), ("public_field_definition", "name"),
        ("interface_declaration", "name"), ("type_alias_declaration", "name"), ("enum_declaration", "name"),
        ("type_parameter", "name"), ("internal_module", "name"), ("function_signature", "name"),
    }),
    containers=frozenset({"object_pattern", "array_pattern", "rest_pattern", "assignment_pattern",
                          "pair_pattern"}),
    scopes=frozenset({"program", "function_declaration", "function_expression", "arrow_function",
                      "method_definition", "generator_function_declaration", "statement_block", "for_statement",
                      "for_in_statement", "catch_clause", "class_body"}),
)
KEYWORDS = ("async", "await", "break", "case", "catch", "class", "const", "continue", "default", "delete", "do",
            "else", "export", "extends", "false", "finally", "for", "function", "if", "import", "in",
            "instanceof", "let", "new", "null", "return", "static", "super", "switch", "this", "throw", "true",
            "try", "typeof", "undefined", "var", "void", "while", "yield", "interface", "type", "enum",
            "readonly")
TESTS = TestLayout(("{stem}.test", "{stem}.spec"))
TEST_FRAMEWORK = "node:test and node:assert"


def _spec() -> LanguageSpec:
    from ..parsing import javascript

    return javascript.JAVASCRIPT


LANGUAGE = Language(
    name="javascript",
    display_name="JavaScript",
    family="js",
    suffixes=(".js", ".jsx", ".mjs", ".cjs"),
    aliases=("js",),
    lsp_ids=("javascript", "javascriptreact"),
    grammar=Grammar("tree_sitter_javascript", package="tree-sitter-javascript"),
    spec=_spec,
    resolve_import=resolve_import,
    scopes=SCOPES,
    keywords=KEYWORDS,
    tests=TESTS,
    test_framework=TEST_FRAMEWORK,
    kernel="javascript",
)
