"""Which folders the index leaves out on its own (beyond `.gitignore`), decided by what they *are*.

A folder's name alone is weak evidence: a user's source package may be called ``build``, ``dist``,
``out``, ``target`` or ``venv``, and must be indexed. So a virtualenv is skipped when it is one
(``pyvenv.cfg``, ``conda-meta/``, an ``activate`` script), and a build folder when something in or next
to it says it is build output (CMake's cache, setuptools' ``lib.*``/``bdist.*``, Cargo's or Maven's
marker, a ``CACHEDIR.TAG``). ``dist/`` and ``out/`` carry no reliable marker: they are left out only when
a `.gitignore` says so, like any other folder.

Every rule-based skip is reported with its reason in the index summary, except the few folders no one
expects in an index and that hold no source (version control metadata, Nexus's own index, bytecode
and linter caches): listing them for every package would bury the lines that matter.
"""

from __future__ import annotations

import os

# Skipped by name, silently: metadata and caches that never hold a user's source.
SILENT_DIRS = frozenset({
    ".git", ".hg", ".svn", ".nexus", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    ".virtual_documents",  # jupyter-lsp's copies of open notebooks and files: the originals are indexed
})

# Skipped by name and reported: tool folders whose name is their marker.
NAMED_DIRS = {
    "node_modules": "installed npm packages (node_modules)",
    "bower_components": "installed bower packages",
    "site-packages": "installed Python packages (site-packages)",
    ".venv": "virtualenv (.venv)",
    ".tox": "tox environments",
    ".nox": "nox environments",
    ".eggs": "setuptools eggs",
    ".gradle": "Gradle cache",
    ".idea": "IDE settings",
    ".vscode-test": "VS Code test downloads",
    ".next": "Next.js build output",
    ".nuxt": "Nuxt build output",
    ".ipynb_checkpoints": "Jupyter checkpoints (copies of notebooks)",
}

CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"  # bford.info/cachedir
_BUILD_ENTRIES = ("CMakeCache.txt", "CMakeFiles", "build.ninja", "meson-info", ".ninja_log")
_SETUPTOOLS_PREFIXES = ("lib.", "bdist.", "temp.")
_TARGET_PROJECT_FILES = ("Cargo.toml", "pom.xml", "build.sbt", "project.clj")


def skip_reason(directory: str, name: str) -> str | None:
    """Why the walk does not enter ``directory`` (named ``name``), or None to walk it.

    "" means "skip, but do not report" (see :data:`SILENT_DIRS`).
    """
    if name in SILENT_DIRS:
        return ""
    if name in NAMED_DIRS:
        return NAMED_DIRS[name]
    try:
        entries = set(os.listdir(directory))
    except OSError:
        return None  # the walk reports an unreadable folder itself
    if "pyvenv.cfg" in entries:
        return "virtualenv (pyvenv.cfg)"
    if "conda-meta" in entries and os.path.isdir(os.path.join(directory, "conda-meta")):
        return "conda environment (conda-meta)"
    if _has_activate_script(directory, entries):
        return "virtualenv (bin/activate)"
    if "CACHEDIR.TAG" in entries and _is_cachedir_tag(os.path.join(directory, "CACHEDIR.TAG")):
        return "cache or build output (CACHEDIR.TAG)"
    if "CMakeLists.txt" not in entries:  # an in-source CMake build leaves its markers among the sources
        for marker in _BUILD_ENTRIES:
            if marker in entries:
                return f"build output ({marker})"
    if name == "build":
        for entry in sorted(entries):
            if entry.startswith(_SETUPTOOLS_PREFIXES) and os.path.isdir(os.path.join(directory, entry)):
                return f"build output (setuptools {entry}/)"
    if name == "target":
        parent = os.path.dirname(directory)
        for project_file in _TARGET_PROJECT_FILES:
            if os.path.isfile(os.path.join(parent, project_file)):
                return f"build output (target/ of {project_file})"
        if "maven-status" in entries or ".rustc_info.json" in entries:
            return "build output (target/)"
    return None


def _has_activate_script(directory: str, entries: set[str]) -> bool:
    """A virtualenv made without ``pyvenv.cfg`` (old ``virtualenv``) still has its activate script
    next to a Python library folder."""
    if not ({"lib", "Lib"} & entries):
        return False
    return any(os.path.isfile(os.path.join(directory, *script))
               for script in (("bin", "activate"), ("Scripts", "activate.bat")))


def _is_cachedir_tag(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(CACHEDIR_SIGNATURE)) == CACHEDIR_SIGNATURE
    except OSError:
        return False
