"""What running a FILE means in each language: the commands its own runner would run.

    python FILE ARGS...                 (sys.argv == [FILE, *ARGS]; the file's folder is on sys.path)
    node FILE ARGS...                   (process.argv == [node, FILE, *ARGS])
    TypeScript: like ``npx tsx FILE``: Node.js with a require hook (``typescript/register.js``) that
        transpiles each ``.ts`` module with ``typescript.transpileModule`` (types stripped, not checked)
        and inline source maps, so stack traces name the ``.ts`` lines
    java FILE ARGS...                   (JEP 330: the first top-level class's ``main``; packages and
        several classes in one file). Sources next to it in the same package (``Util.java`` beside
        ``Main.java``) resolve, as JDK 22's multi-file launch (JEP 458) does: javac compiles FILE with
        that source root on ``-sourcepath`` into the run's build folder, then ``java`` runs the class
    g++ FILE && ./a.out ARGS...         (gcc for ``.c``; the binary is built in the run's build folder,
        with UBSan so a division by zero or a null dereference names its line)

Each plan runs as one ``/bin/sh -c`` inside the sandbox, so compiling happens there too (a source file
can ``#include "/etc/shadow"``: compile untrusted code only where it cannot read secrets). Build
artefacts and Python's bytecode cache go to the run's own folder, never into the workspace.
"""

from __future__ import annotations

import dataclasses
import shlex
import shutil
import sys
from pathlib import Path, PurePath

from nexus.engine import languages as registry

from .errors import UnknownLanguageError
from .languages import LANGUAGES, resolve

PACKAGE = Path(__file__).resolve().parent
TS_REGISTER = PACKAGE / "typescript" / "register.js"
CXXFLAGS = ("-std=gnu++20", "-pipe", "-fdiagnostics-color=never", "-fsanitize=undefined")
CFLAGS = ("-std=gnu17", "-pipe", "-fdiagnostics-color=never", "-fsanitize=undefined")
JVM_FLAGS = ("-XX:+UseSerialGC", "-Xshare:auto", "-XX:CompressedClassSpaceSize=128m",
             "-XX:ReservedCodeCacheSize=128m", "-XX:-UsePerfData")
JAVAC_FLAGS = ("-J-Xmx256m", "-J-XX:CompressedClassSpaceSize=64m", "-J-XX:ReservedCodeCacheSize=64m",
               "-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1", "-J-XX:-UsePerfData", "-proc:none",
               "-encoding", "UTF-8", "-g", "-implicit:class", "-Xlint:none")


# claimed by a language but not programs: headers, stubs, ES modules (the TypeScript hook loads CommonJS)
NOT_PROGRAMS = frozenset({".h", ".hh", ".hpp", ".hxx", ".h++", ".pyi", ".mts"})


class UnknownFileTypeError(UnknownLanguageError):
    """A file whose extension no runnable language claims, run without ``--lang``."""

    def __init__(self, path: PurePath, known: list[str]) -> None:
        suffix = path.suffix or "(none)"
        UnknownLanguageError.__init__(self, path.name, [])
        self.args = (f"cannot tell which language runs {path.name} (extension {suffix}); known extensions: "
                     f"{', '.join(known)}; or pass --lang",)
        self.language = suffix


@dataclasses.dataclass(frozen=True, slots=True)
class ProgramPlan:
    """The command a run executes in the sandbox, and the folders its sources need."""

    language: str
    argv: tuple[str, ...]
    source_root: Path  # mounted for the run: the file's folder, or its package root (Java)
    env: dict[str, str] = dataclasses.field(default_factory=dict)


def runnable_suffixes() -> list[str]:
    """Every extension a file run knows, from the language registry (each language names its kernel)."""
    return sorted({s for lang in registry.LANGUAGES if lang.kernel in LANGUAGES for s in lang.suffixes} - NOT_PROGRAMS)


def language_of(path: Path, language: str | None) -> str:
    """The built-in language that runs ``path``: ``language`` when given, else from its extension.

    Raises UnknownLanguageError (``language`` is not a built-in one) or UnknownFileTypeError.
    """
    if language is not None:
        found = resolve(language)
        if found is None:
            raise UnknownLanguageError(language, list(LANGUAGES))
        return found.name
    lang = registry.for_path(path)
    if lang is None or lang.kernel not in LANGUAGES or path.suffix.lower() in NOT_PROGRAMS:
        raise UnknownFileTypeError(path, runnable_suffixes())
    return lang.kernel


def plan(language: str, file: Path, args: tuple[str, ...], build: Path, memory_mb: int) -> ProgramPlan:
    """The plan that runs ``file`` (absolute) with ``args``; ``build``: a folder the run may write."""
    folder = file.parent
    if language == "python":
        return ProgramPlan(language, _shell([sys.executable, str(file), *args]), folder,
                           {"PYTHONUNBUFFERED": "1", "PYTHONPYCACHEPREFIX": str(build / "pycache")})
    node = shutil.which("node") or "node"
    heap = [f"--max-old-space-size={memory_mb}"] if memory_mb else []
    if language == "javascript":
        return ProgramPlan(language, _shell([node, *heap, str(file), *args]), folder)
    if language == "typescript":
        return ProgramPlan(language, _shell([node, *heap, "--enable-source-maps", "-r", str(TS_REGISTER),
                                             str(file), *args]), folder)
    if language == "java":
        return _java(file, args, build, memory_mb)
    if language == "cpp":
        c = file.suffix.lower() == ".c"
        compiler = shutil.which("gcc" if c else "g++") or ("gcc" if c else "g++")
        binary = build / "a.out"
        compile_ = [compiler, *(CFLAGS if c else CXXFLAGS), "-o", str(binary), str(file)]
        return ProgramPlan(language, _shell(compile_, [str(binary), *args]), folder,
                           {"UBSAN_OPTIONS": "print_stacktrace=0"})
    raise UnknownLanguageError(language, list(LANGUAGES))


def _shell(*steps: list[str]) -> tuple[str, ...]:
    """One ``sh -c``: each step must succeed (its status is the run's otherwise); the last is exec'd."""
    script = " && ".join(shlex.join(step) for step in steps[:-1])
    last = "exec " + shlex.join(steps[-1])
    return ("/bin/sh", "-c", f"{script} && {last}" if script else last)


def _java(file: Path, args: tuple[str, ...], build: Path, memory_mb: int) -> ProgramPlan:
    java = shutil.which("java") or "java"
    javac = shutil.which("javac") or "javac"
    package, first, public = java_entry(file.read_text(encoding="utf-8", errors="replace"))
    jvm = [java, *JVM_FLAGS, *([f"-Xmx{memory_mb}m"] if memory_mb else [])]
    root = file.parent
    parts = package.split(".") if package else []
    if parts and list(root.parts[-len(parts):]) == parts:
        root = Path(*root.parts[:-len(parts)])
    if first is None or (public and first != file.stem) or (parts and root == file.parent):
        # what javac cannot compile as a class of its own (no class; a public class named unlike its
        # file; a package the folders do not mirror): the JDK's own single-file launcher runs it
        return ProgramPlan("java", _shell([*jvm, str(file), *args]), file.parent)
    main = f"{package}.{first}" if package else first
    compile_ = [javac, *JAVAC_FLAGS, "-d", str(build / "classes"), "-sourcepath", str(root), str(file)]
    return ProgramPlan("java", _shell(compile_, [*jvm, "-cp", str(build / "classes"), main, *args]), root)


def java_entry(source: str) -> tuple[str, str | None, bool]:
    """(package, first top-level type's name or None, whether it is public) of a Java source."""
    tree = registry.parser("java").parse(source.encode("utf-8"))
    package = ""
    for node in tree.root_node.named_children:
        if node.type == "package_declaration":
            named = next((c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None)
            package = named.text.decode() if named is not None and named.text else ""
        elif node.type in ("class_declaration", "interface_declaration", "enum_declaration", "record_declaration"):
            name = node.child_by_field_name("name")
            modifiers = next((c for c in node.children if c.type == "modifiers"), None)
            public = modifiers is not None and b"public" in (modifiers.text or b"").split()
            return package, (name.text.decode() if name is not None and name.text else None), public
    return package, None, False
