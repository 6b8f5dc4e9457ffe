"""Each language's symbols, exactly, on small fixtures: name, kind, container and first line."""

from __future__ import annotations

from pathlib import Path

import pytest

from nexus.engine.languages import language_for
from nexus.engine.parsing import extract

FIXTURES = Path(__file__).parent / "fixtures"

EXPECTED = {
    "sample.py": [
        ("MAX_SIZE", "constant", "", 5), ("counter", "variable", "", 6), ("top", "function", "", 9),
        ("Widget", "class", "", 16), ("kind", "field", "Widget", 19), ("__init__", "method", "Widget", 21),
        ("run", "method", "Widget", 24), ("inner", "function", "Widget.run", 25),
    ],
    "sample.js": [
        ("path", "constant", "", 2), ("loadWidget", "function", "", 7), ("WidgetStore", "class", "", 12),
        ("#cache", "field", "WidgetStore", 13), ("constructor", "constructor", "WidgetStore", 14),
        ("size", "property", "WidgetStore", 18), ("create", "method", "WidgetStore", 19),
        ("parseWidget", "function", "", 22), ("counter", "variable", "", 23),
    ],
    "sample.ts": [
        ("r", "constant", "", 2), ("foo", "function", "", 3), ("Bar", "class", "", 5),
        ("count", "field", "Bar", 6), ("constructor", "constructor", "Bar", 7), ("name", "property", "Bar", 8),
        ("method", "method", "Bar", 9), ("I", "interface", "", 11), ("m", "method", "I", 11),
        ("p", "property", "I", 11), ("Alias", "type", "", 12), ("Color", "enum", "", 13),
        ("Red", "enum_member", "Color", 13), ("Green", "enum_member", "Color", 13),
        ("NS", "namespace", "", 14), ("inner", "function", "NS", 14), ("v", "variable", "", 15),
        ("w", "function", "", 15),
    ],
    "Sample.java": [
        ("Foo", "class", "", 4), ("x", "field", "Foo", 5), ("y", "field", "Foo", 5),
        ("NAME", "constant", "Foo", 6), ("Foo", "constructor", "Foo", 7), ("get", "method", "Foo", 9),
        ("E", "enum", "Foo", 11), ("A", "enum_member", "Foo.E", 11), ("B", "enum_member", "Foo.E", 11),
        ("m", "method", "Foo.E", 11), ("I", "interface", "Foo", 12), ("run", "method", "Foo.I", 12),
    ],
    "sample.cpp": [
        ("MAX", "macro", "", 2), ("ns", "namespace", "", 3), ("Foo", "class", "ns", 5),
        ("Foo", "constructor", "ns::Foo", 7), ("~Foo", "method", "ns::Foo", 8),
        ("method", "method", "ns::Foo", 9), ("count", "field", "ns::Foo", 10),
        ("method", "method", "ns::Foo", 12), ("Foo", "constructor", "ns::Foo", 13),
        ("add", "function", "", 15), ("S", "struct", "", 16), ("a", "field", "S", 16),
        ("Color", "enum", "", 17), ("Red", "enum_member", "Color", 17), ("Green", "enum_member", "Color", 17),
        ("uint", "type", "", 18), ("Str", "type", "", 19), ("proto", "function", "", 20),
        ("ptr_fn", "function", "", 21), ("LIMIT", "constant", "", 22),
    ],
    "sample.c": [
        ("BUFFER_SIZE", "macro", "", 3), ("point", "struct", "", 6), ("x", "field", "point", 7),
        ("y", "field", "point", 8), ("point_t", "type", "", 11), ("color", "enum", "", 13),
        ("RED", "enum_member", "color", 13), ("GREEN", "enum_member", "color", 13),
        ("counter", "variable", "", 15), ("add", "function", "", 17), ("add", "function", "", 20),
        ("name_of", "function", "", 24),
    ],
}


def _extract(name: str):  # type: ignore[no-untyped-def]
    path = FIXTURES / name
    language = language_for(path)
    assert language is not None
    return extract(language, path.read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_symbols_exact(name: str) -> None:
    found = _extract(name)
    assert [(s[0], s[1], s[2], s[3]) for s in found.symbols] == EXPECTED[name]
    assert found.error_count == 0


def test_python_details() -> None:
    found = {s[0]: s for s in _extract("sample.py").symbols}
    top = found["top"]
    assert top[13] == "def top(a, b=2) -> int"
    assert top[14] == "Add things.\n\nMore."
    assert (top[7], top[8], top[9], top[10]) == (9, 4, 9, 7)  # name span: rows and byte columns
    assert found["Widget"][13] == "class Widget(Base, metaclass=Meta)"
    assert found["Widget"][14] == "A widget."
    assert found["run"][13] == "async def run(self)"


def test_comment_docs_and_signatures() -> None:
    js = {s[0]: s for s in _extract("sample.js").symbols}
    assert js["loadWidget"][14] == "Loads a widget from disk."
    assert js["loadWidget"][13] == "export async function loadWidget(name)" or js["loadWidget"][13] == "async function loadWidget(name)"
    ts = {s[0]: s for s in _extract("sample.ts").symbols}
    assert ts["Bar"][14] == "Doc for Bar"
    assert ts["foo"][13] == "const foo = (a: number): string =>"
    java = {(s[0], s[1]): s for s in _extract("Sample.java").symbols}
    assert java[("get", "method")][14] == "Gets things."
    assert java[("Foo", "class")][13] == "public class Foo<T> extends Bar implements Baz"
    cpp = {(s[0], s[3]): s for s in _extract("sample.cpp").symbols}
    assert cpp[("Foo", 5)][14] == "Doc for Foo"
    assert cpp[("method", 12)][13] == "int Foo::method(int a) const"
    c = {(s[0], s[3]): s for s in _extract("sample.c").symbols}
    assert c[("add", 20)][14] == "Adds two numbers."


def test_imports() -> None:
    assert _extract("sample.py").imports == [
        ("os", (), "", 1), ("sys", (), "system", 1), (".models", ("User", "Group"), "", 2), ("..pkg", ("*",), "", 3),
    ]
    assert sorted(_extract("sample.ts").imports) == [
        ("./util", ("*",), "ns", 1), ("fs", (), "r", 2), ("mod", ("default", "a"), "x", 0),
    ]
    assert _extract("Sample.java").imports == [("java.util", ("List",), "", 1), ("java.lang.Math", ("*",), "", 2)]
    assert _extract("sample.cpp").imports == [("vector", (), "", 0), ("foo.h", (), "", 1)]


def test_references_and_calls() -> None:
    from nexus.engine.parsing import CALL_BIT

    found = _extract("sample.py")
    names = found.ref_names
    triples = [found.refs[i:i + 3] for i in range(0, len(found.refs), 3)]
    helper_calls = [t for t in triples if names[t[0] & (CALL_BIT - 1)] == "helper"]
    assert len(helper_calls) == 1 and helper_calls[0][0] & CALL_BIT
    source = (FIXTURES / "sample.py").read_bytes()
    assert source[helper_calls[0][1]:helper_calls[0][2]] == b"helper"


def test_syntax_errors_are_counted() -> None:
    found = extract("python", b"def broken(:\n    pass\n")
    assert found.error_count >= 1


def test_chunks_cover_definitions_and_module_code() -> None:
    found = _extract("sample.py")
    kinds = [(c[4], c[5]) for c in found.chunks]
    assert ("definition", "Widget") in kinds
    assert kinds[0] == ("module", "")  # imports, constants and the small function grouped
    source = (FIXTURES / "sample.py").read_bytes()
    widget = next(c for c in found.chunks if c[5] == "Widget")
    assert source[widget[2]:widget[3]].startswith(b"@decorator\nclass Widget")


def test_large_definitions_are_split_and_long_lines_bounded() -> None:
    methods = "\n".join(f"    def m{i}(self):\n" + "".join(f"        x{j} = {j}\n" for j in range(10)) for i in range(30))
    source = f"class Big:\n{methods}\n".encode()
    found = extract("python", source)
    assert len(found.chunks) > 3
    assert all(c[1] - c[0] < 80 for c in found.chunks)
    assert {c[5] for c in found.chunks} >= {"Big", "Big.m0"}
    one_line = b"var a=" + b"1+" * 20000 + b"1;"
    chunks = extract("javascript", one_line).chunks
    assert len(chunks) > 1 and all(c[3] - c[2] <= 6000 for c in chunks)
    assert chunks[0][2] == 0 and chunks[-1][3] == len(one_line)
