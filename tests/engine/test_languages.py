"""The language registry: lookups, unknown names, test layouts, and the one import resolver that
navigation and the code graph share, checked end to end on a real index."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexus.engine import Workspace
from nexus.engine import languages as registry
from nexus.engine.errors import NexusError
from nexus.engine.graph import CodeGraph, sync
from nexus.engine.graph import facts as graph_facts
from nexus.engine.languages import LANGUAGES, UnknownLanguageError
from nexus.engine.navigation import Navigator
from nexus.engine.navigation import import_keys as navigation_keys
from nexus.engine.parsing import notebook_source
from nexus.engine.scopes import FileScopes, family
from nexus.engine.source import SourceFile

from .conftest import write


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.name)
def test_every_language_round_trips_by_name_alias_suffix_and_lsp_id(lang: registry.Language) -> None:
    assert registry.get(lang.name) is lang
    assert registry.get(lang.name.upper()) is lang
    for alias in lang.aliases:
        assert registry.get(alias) is lang, alias
    assert lang.suffixes and lang.lsp_ids
    for suffix in lang.suffixes:
        assert registry.for_suffix(suffix) is lang
        assert registry.language_for(f"src/file{suffix}") == lang.name
        assert registry.language_for(f"src/FILE{suffix.upper()}") == lang.name
    for language_id in (*lang.lsp_ids, *lang.other_lsp_ids):
        assert registry.for_lsp_id(language_id) is lang
    assert registry.expand_language(lang.name)[0] == lang.name
    # The grammar loads and the extraction spec compiles against it.
    assert registry.parser(lang.name).parse(b"").root_node is not None
    assert lang.spec().query
    assert lang.keywords and lang.line_comment in ("#", "//")


def test_search_aliases_cover_their_dialects() -> None:
    assert registry.expand_language("ts") == ("typescript", "tsx")
    assert registry.expand_language("C++") == ("cpp", "c")
    assert registry.expand_language("javascript") == ("javascript",)
    assert registry.language_for("analysis.ipynb") == "notebook"
    assert registry.language_for("README.md") is None


@pytest.mark.parametrize("call", [
    lambda: registry.get("cobol"),
    lambda: registry.for_suffix(".cob"),
    lambda: registry.for_lsp_id("cobol"),
    lambda: registry.expand_language("cobol"),
    lambda: registry.grammar("cobol"),
    lambda: family("cobol"),
    lambda: FileScopes(SourceFile("x.cob", "MOVE A TO B.", "cobol")),
])
def test_an_unknown_language_is_an_error_that_names_the_known_ones(call: object) -> None:
    with pytest.raises(UnknownLanguageError, match=r"unknown .*'(cobol|\.cob)'; known: .*py") as info:
        call()  # type: ignore[operator]
    assert isinstance(info.value, NexusError) and isinstance(info.value, ValueError)


def test_no_language_is_not_c() -> None:
    # A plain-text buffer has no family and no scope rules, rather than C's.
    assert family(None) == ""
    scopes = FileScopes(SourceFile("notes.txt", "int x = 1;"))
    assert scopes.family == "" and not scopes.table and not scopes.scope_types


def test_a_notebook_in_a_language_nexus_does_not_index_is_refused() -> None:
    raw = json.dumps({"cells": [{"cell_type": "code", "source": "x <- 1"}],
                      "metadata": {"kernelspec": {"language": "R"}}}).encode()
    with pytest.raises(ValueError, match="unknown notebook kernel language 'R'"):
        notebook_source(raw)
    cpp = json.dumps({"cells": [], "metadata": {"language_info": {"name": "C++17"}}}).encode()
    assert notebook_source(cpp).language == "cpp"
    assert notebook_source(b'{"cells": []}').language == "python"


@pytest.mark.parametrize(("path", "test", "stem"), [
    ("pkg/foo.py", "pkg/test_foo.py", "foo"),
    ("web/util.ts", "web/util.test.ts", "util"),
    ("web/view.jsx", "web/view.test.jsx", "view"),
    ("src/Main.java", "src/MainTest.java", "Main"),
    ("native/vec.cpp", "native/vec_test.cpp", "vec"),
    ("native/vec.h", "native/vec_test.cpp", "vec"),
    ("native/str.c", "native/str_test.c", "str"),
])
def test_test_layout_names_the_tested_file(path: str, test: str, stem: str) -> None:
    layout = registry.for_path(path).tests  # type: ignore[union-attr]
    assert layout.test_path(path) == test
    assert layout.tested_stem(test) == stem
    assert layout.tested_stem(path) is None


def test_other_test_namings_are_recognised() -> None:
    assert registry.get("python").tests.tested_stem("tests/foo_test.py") == "foo"
    assert registry.get("python").tests.test_path("pkg/foo.py", has_tests_folder=True) == "tests/test_foo.py"
    assert registry.get("typescript").tests.tested_stem("a/foo.spec.ts") == "foo"
    assert registry.get("java").tests.tested_stem("FooTests.java") == "Foo"
    assert registry.get("cpp").tests.tested_stem("test_vec.cpp") == "vec"


# -- the one import resolver -------------------------------------------------------------------------

RESOLVER_CASES = [
    ("typescript", "web/app.ts", "./x", ()),
    ("typescript", "web/app.ts", "./y.js", ("b",)),
    ("javascript", "web/app.js", "./dir", ("default",)),
    ("tsx", "web/view.tsx", "../lib", ("*",)),
    ("javascript", "web/app.js", "react", ()),
    ("python", "pkg/sub/helper.py", "..mod", ("f",)),
    ("python", "pkg/sub/helper.py", ".", ("util",)),
    ("python", "pkg/sub/helper.py", "pkg.mod", ("f",)),
    ("java", "src/com/app/Main.java", "com.acme", ("Widget",)),
    ("java", "src/com/app/Main.java", "com.acme", ("*",)),
    ("cpp", "native/main.cpp", "inc/vec.h", ()),
    ("c", "native/calc.c", "stdio.h", ()),
]


@pytest.mark.parametrize(("language", "path", "module", "names"), RESOLVER_CASES)
def test_navigation_and_the_graph_ask_the_same_resolver(language: str, path: str, module: str,
                                                         names: tuple[str, ...]) -> None:
    expected = registry.get(language).resolve_import(path, module, names).keys
    assert tuple(graph_facts.import_keys(path, language, module, names)) == expected
    assert navigation_keys(language, path, module, names).keys == expected


def test_js_specifiers_name_sources_and_index_files() -> None:
    keys = registry.get("typescript").resolve_import("web/app.ts", "./dir", ()).keys
    for index in ("index.js", "index.jsx", "index.ts", "index.tsx"):
        assert f"=web/dir/{index}" in keys
    assert registry.get("typescript").resolve_import("web/app.ts", "./y.js", ()).keys[:2] == \
        ("=web/y.js", "=web/y.ts")
    assert registry.get("javascript").resolve_import("app.js", "../outside", ()).keys == ()
    assert registry.get("javascript").resolve_import("app.js", "lodash", ()).keys == ()


WORKSPACE: dict[str, str] = {
    # JavaScript / TypeScript: a bare specifier, an emitted `.js` name, folders with each index file.
    "web/app.ts": (
        'import { a } from "./x";\n'
        'import { b } from "./y.js";\n'
        'import { c } from "./dir";\n'
        'import { d } from "./jdir";\n'
        'import { e } from "./tdir";\n'
        "export const all = [a, b, c, d, e];\n"
    ),
    "web/x.ts": "export function a(): number { return 1; }\n",
    "web/x.js": "export function a() { return 2; }\n",  # `./x` is x.ts first, in both
    "web/y.ts": "export function b(): number { return 1; }\n",
    "web/dir/index.js": "export function c() { return 1; }\n",
    "web/jdir/index.jsx": "export function d() { return <div />; }\n",
    "web/tdir/index.ts": "export function e(): number { return 1; }\n",
    "web/legacy.js": 'import { c } from "./dir/index.js";\nexport const again = c;\n',
    # Python: relative and absolute imports, a submodule imported from its package.
    "pkg/__init__.py": "",
    "pkg/mod.py": "def f():\n    return 1\n",
    "pkg/sub/__init__.py": "",
    "pkg/sub/util.py": "def u():\n    return 1\n",
    "pkg/sub/helper.py": (
        "from ..mod import f\n"
        "from pkg.mod import f as g\n"
        "from . import util\n"
        "import pkg.sub.util\n"
    ),
    # Java: a class import, with a class of the same name in another package.
    "src/com/acme/Widget.java": "package com.acme;\n\npublic class Widget {\n}\n",
    "src/com/other/Widget.java": "package com.other;\n\npublic class Widget {\n}\n",
    "src/com/app/Main.java": (
        "package com.app;\n"
        "import com.acme.Widget;\n"
        "public class Main {\n"
        "    Widget w = new Widget();\n"
        "}\n"
    ),
    # C and C++: quoted includes next to the file, with same-named headers elsewhere.
    "native/inc/vec.h": "int vec_len(int n);\n",
    "other/inc/vec.h": "int vec_len(int n);\n",
    "native/main.cpp": '#include "inc/vec.h"\nint main() {\n    return vec_len(3);\n}\n',
    "native/util.h": "int twice(int x);\n",
    "other/util.h": "int twice(int x);\n",
    "native/calc.c": '#include "util.h"\nint four(void) {\n    return twice(2);\n}\n',
}

# (importing file, line, the name to go to, expected target): navigation on the name and the graph's
# import edge for that line must both land on the target.
AGREEMENT = [
    ("web/app.ts", 0, "a", "web/x.ts"),
    ("web/app.ts", 1, "b", "web/y.ts"),
    ("web/app.ts", 2, "c", "web/dir/index.js"),
    ("web/app.ts", 3, "d", "web/jdir/index.jsx"),
    ("web/app.ts", 4, "e", "web/tdir/index.ts"),
    ("web/legacy.js", 0, "c", "web/dir/index.js"),
    ("pkg/sub/helper.py", 0, "f", "pkg/mod.py"),
    ("pkg/sub/helper.py", 1, "g", "pkg/mod.py"),
    ("pkg/sub/helper.py", 2, "util", "pkg/sub/util.py"),
    ("pkg/sub/helper.py", 3, "pkg", "pkg/sub/util.py"),
    ("src/com/app/Main.java", 1, "Widget", "src/com/acme/Widget.java"),
]
# Includes bind no name: the name used after the include goes to the included header.
USES = [
    ("native/main.cpp", 0, (2, "vec_len"), "native/inc/vec.h"),
    ("native/calc.c", 0, (2, "twice"), "native/util.h"),
]


@pytest.fixture
def resolved(tmp_path: Path) -> Iterator[Workspace]:
    write(tmp_path, dict(WORKSPACE))
    ws = Workspace.open(tmp_path)
    try:
        ws.index()
        sync(ws)
        yield ws
    finally:
        ws.close()


def _graph_target(graph: CodeGraph, path: str, line: int) -> str | None:
    edges = [e for e in graph.imports(path) if e.line == line]
    assert len(edges) == 1, edges
    return edges[0].target


def _definition(ws: Workspace, path: str, line: int, name: str) -> list[str]:
    text = WORKSPACE[path]
    row = text.split("\n")[line]
    found_at = re.search(rf"\b{re.escape(name)}\b", row)
    assert found_at is not None
    col = len(row[:found_at.start()].encode())
    targets = Navigator(ws, SourceFile(path, text)).definitions(line, col)
    return sorted({t.path for t in targets})


@pytest.mark.parametrize(("path", "line", "name", "target"), AGREEMENT,
                         ids=[f"{p}:{line}:{n}" for p, line, n, _ in AGREEMENT])
def test_navigation_and_the_graph_resolve_each_import_alike(resolved: Workspace, path: str, line: int,
                                                             name: str, target: str) -> None:
    graph = CodeGraph(resolved)
    assert _graph_target(graph, path, line) == target
    assert _definition(resolved, path, line, name) == [target]


@pytest.mark.parametrize(("path", "line", "use", "target"), USES, ids=[u[0] for u in USES])
def test_an_included_header_is_where_its_names_go(resolved: Workspace, path: str, line: int,
                                                  use: tuple[int, str], target: str) -> None:
    graph = CodeGraph(resolved)
    assert _graph_target(graph, path, line) == target
    assert _definition(resolved, path, use[0], use[1]) == [target]
