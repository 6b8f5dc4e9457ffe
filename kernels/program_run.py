"""Running a FILE as its language's own runner would, inside the same sandbox as a kernel.

A file run is not a notebook cell: it is ``python FILE ARGS`` (``programs.plan`` says what per
language), a process of its own behind the kernel boundary (bubblewrap as the sandbox user, seccomp,
cgroups, rlimits, the allowlisted environment; see ``sandbox.py``) with:

- the file's folder (its package root for Java) and the working folder mounted, read-only unless the
  run asks to write, and the working folder (the file's, or ``cwd``) as the process's cwd, so sibling
  imports and relative paths resolve;
- stdin from the caller: a descriptor it inherits (the CLI's own stdin), bytes written then closed, or
  nothing (end-of-file at once: a program waiting for input never hangs);
- the program's exit status as the result's exit code (128+N for signal N, as a shell reports it),
  124 on timeout, and ``reason`` naming a resource limit it hit;
- its errors located in the user's files (``locations.find_errors``), in ``ExecutionResult.errors``.

Build outputs (the C++ binary, Java classes, Python's bytecode cache) live in the run's own folder
under the backend's folder and are removed with it: nothing is written into the workspace.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import sys
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nexus.engine.errors import WorkspaceError

from . import cgroups, programs, sandbox
from .locations import find_errors
from .results import EXIT_TIMEOUT, ExecutionResult, OutputCollector, OutputItem, Stream
from .sandbox import KernelPaths
from .settings import OutputLimits

if TYPE_CHECKING:
    from .backend import LocalBackend

log = logging.getLogger(__name__)

READ_CHUNK = 65536


@dataclasses.dataclass(frozen=True, slots=True)
class FileRun:
    """What to run: ``path`` (absolute), its ``args``, the working folder (default: the file's),
    the language (default: from the extension), whether mounts are writable, and stdin
    (a descriptor to inherit, bytes to feed, or None for end-of-file)."""

    path: Path
    args: tuple[str, ...] = ()
    cwd: Path | None = None
    language: str | None = None
    writable: bool = False
    stdin: int | bytes | None = None


async def stream_program(
    backend: LocalBackend, run: FileRun, *, timeout: float, output_limits: OutputLimits
) -> AsyncGenerator[OutputItem | ExecutionResult, None]:
    """Yield each output chunk as it arrives, then the ``ExecutionResult``; closing the iterator early
    kills the program. Raises UnknownLanguageError / UnknownFileTypeError / ToolchainMissingError."""
    language = programs.language_of(run.path, run.language)
    backend.check(language)
    cwd = run.cwd or run.path.parent
    if backend.user is not None:
        mounted = [str(run.path.parent), str(cwd), *([str(backend.workspace)] if backend.workspace else [])]
        for folder in (run.path.parent, cwd):
            _check_reachable(folder, backend.user, mounted, backend.hidden)
    paths = KernelPaths(backend.base / f"run-{uuid.uuid4().hex[:12]}")
    paths.make()
    process: asyncio.subprocess.Process | None = None
    tasks: list[asyncio.Future[Any]] = []
    try:
        program = await asyncio.to_thread(
            programs.plan, language, run.path, run.args, paths.work, backend.limits.memory_mb
        )
        prefix = await asyncio.to_thread(_prefix, backend, language, program, paths, run, cwd)
        stdin: int = asyncio.subprocess.DEVNULL
        if isinstance(run.stdin, int):
            stdin = run.stdin
        elif isinstance(run.stdin, bytes):
            stdin = asyncio.subprocess.PIPE
        start = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *prefix, *program.argv, stdin=stdin, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        if isinstance(run.stdin, bytes):
            assert process.stdin is not None
            feeder = asyncio.ensure_future(_feed(process.stdin, run.stdin))
        else:
            feeder = None
        collector = OutputCollector(output_limits)
        queue: asyncio.Queue[OutputItem | None] = asyncio.Queue()
        pumps = [asyncio.ensure_future(_pump(process, name, collector, queue)) for name in ("stdout", "stderr")]
        waiter = asyncio.ensure_future(_wait(process, pumps, queue, start + timeout))
        tasks += [*pumps, waiter, *([feeder] if feeder is not None else [])]
        while (item := await queue.get()) is not None:
            yield item
        status = await waiter
        if feeder is not None:
            feeder.cancel()
        reason = ""
        if status is None:
            await asyncio.to_thread(sandbox.kill_tree, process.pid, backend.cgroups, paths.root.name)
            await _finish(pumps)
            reason = f"timed out after {timeout:g} s"
            collector.add(Stream("stderr", f"\n[{reason}; the program was stopped]\n"))
            exit_code = EXIT_TIMEOUT
        else:
            exit_code = status
            reason = _limit_reason(backend, paths.root.name, status)
        items = collector.items()
        text = "".join(i.text for i in items)
        roots = [program.source_root, cwd, *([backend.workspace] if backend.workspace else [])]
        errors = await asyncio.to_thread(find_errors, language, text, roots, cwd)
        yield ExecutionResult(exit_code, items, time.monotonic() - start, collector.truncated,
                              collector.dropped_bytes, reason, language, errors=errors)
    finally:
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await asyncio.shield(_cleanup(backend, paths, process))
        for task in tasks:  # a consumer that left early: nothing may outlive the run
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _check_reachable(folder: Path, user: tuple[int, int], mounted: list[str], hidden: tuple[str, ...]) -> None:
    """Refuse, saying what to do, a folder the sandbox user could not enter (bwrap fails obscurely).

    Inside the sandbox a folder's ancestors are the real ones (that user needs search permission on
    them) unless a hidden folder's tmpfs replaces them outside every mount.
    """
    for place in [folder, *folder.parents]:
        text = str(place)
        if sandbox._under(text, hidden) and not sandbox._under(text, mounted):
            continue
        info = place.stat()
        if info.st_uid == user[0]:
            allowed = info.st_mode & 0o100
        elif info.st_gid == user[1]:
            allowed = info.st_mode & 0o010
        else:
            allowed = info.st_mode & 0o001
        if not allowed:
            raise WorkspaceError(
                f"{place} is closed to uid {user[0]}, which programs run as in the sandbox, so {folder} cannot "
                f"be entered: make it reachable (chmod o+x {place}) or set kernels.sandbox_uid to its owner")


def _prefix(
    backend: LocalBackend, language: str, program: programs.ProgramPlan, paths: KernelPaths, run: FileRun, cwd: Path,
    mounts: list[Path] | None = None,
) -> list[str]:
    from .backend import runtime_needs
    from .languages import LANGUAGES

    lang = LANGUAGES[language]
    language_env, binds = runtime_needs(language, kernel=False)
    plan = sandbox.SandboxPlan(
        backend.limits,
        headroom_mb=lang.headroom_mb,
        runtime_mb=lang.runtime_mb,
        bwrap=backend.bwrap,
        cgroups=backend.cgroups,
        seccomp_file=backend.seccomp_file,
        user=backend.user,
        env=sandbox.kernel_env(paths, backend.limits, {**language_env, **program.env},
                               backend.settings.env_for(language)),
        ro_binds=tuple(sandbox.runtime_paths(binds)),
        hidden=backend.hidden,
        cpus=backend.limits.cpus,
    )
    if mounts is None:
        mounts = [program.source_root, cwd]
    return sandbox.launch_prefix(plan, paths, backend.workspace, run.writable, mounts=mounts, cwd=cwd,
                                 log_output=False)


async def _feed(pipe: asyncio.StreamWriter, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        pipe.write(data)
        await pipe.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        pipe.close()


async def _pump(
    process: asyncio.subprocess.Process, name: str, collector: OutputCollector, queue: asyncio.Queue[OutputItem | None]
) -> None:
    pipe = process.stdout if name == "stdout" else process.stderr
    assert pipe is not None
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    stream_name: str = name
    while chunk := await pipe.read(READ_CHUNK):
        text = decoder.decode(chunk)
        if text:
            kept = collector.add(Stream("stdout" if stream_name == "stdout" else "stderr", text))
            if kept is not None:
                queue.put_nowait(kept)
    rest = decoder.decode(b"", final=True)
    if rest:
        kept = collector.add(Stream("stdout" if stream_name == "stdout" else "stderr", rest))
        if kept is not None:
            queue.put_nowait(kept)


async def _wait(
    process: asyncio.subprocess.Process, pumps: Sequence[asyncio.Future[None]], queue: asyncio.Queue[OutputItem | None],
    deadline: float,
) -> int | None:
    """The program's exit code (128+N for a signal), or None when the deadline passed first."""
    try:
        try:
            code = await asyncio.wait_for(process.wait(), max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            return None
        await _finish(pumps, 2.0)
        return 128 - code if code < 0 else code
    finally:
        queue.put_nowait(None)


async def _finish(pumps: Sequence[asyncio.Future[None]], grace: float = 2.0) -> None:
    """Let the readers drain what is left (a grandchild holding a pipe open is given ``grace``)."""
    done, pending = await asyncio.wait(pumps, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _limit_reason(backend: LocalBackend, run_id: str, status: int) -> str:
    limits = backend.limits
    layout = backend.cgroups
    if cgroups.forks_refused(layout, run_id) > 0:
        return f"process limit of {limits.processes} exceeded"
    if cgroups.oom_kills(layout, run_id) > 0:
        return f"memory limit of {limits.memory_mb} MB exceeded"
    if status == 128 + signal.SIGXCPU:
        return f"CPU time limit of {limits.cpu_seconds} s exceeded"
    if status == 128 + signal.SIGXFSZ:
        return f"file size limit of {limits.file_size_mb} MB exceeded"
    if status > 128 and status - 128 in signal.valid_signals():
        return f"the program was killed by signal {signal.Signals(status - 128).name}"
    return ""


async def _cleanup(backend: LocalBackend, paths: KernelPaths, process: asyncio.subprocess.Process | None) -> None:
    pid = process.pid if process is not None else None
    await asyncio.to_thread(sandbox.kill_tree, pid, backend.cgroups, paths.root.name)
    if process is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)
    await asyncio.to_thread(shutil.rmtree, paths.root, True)
    await asyncio.to_thread(shutil.rmtree, paths.root.with_name(paths.root.name + "-mnt"), True)


def _probe_argv(language: str) -> list[str]:
    """A command that succeeds inside the sandbox only when ``language`` can run there."""
    node = shutil.which("node") or "node"
    return {
        "python": [sys.executable, "-c", "import ipykernel"],
        "javascript": [node, "-e", ""],
        "typescript": [node, "-e", "const p = process.env.NEXUS_TYPESCRIPT || 'typescript'; try { require(p) } "
                       "catch (e) { console.error(`the typescript package ${p} cannot be loaded there: ` + "
                       "String(e.message).split('\\n')[0]); process.exit(1) }"],
        "java": ["/bin/sh", "-c", "java -Xshare:auto -Xmx64m -version && javac -J-Xmx64m -version"],
        "cpp": [shutil.which("g++") or "g++", "--version"],
    }[language]


async def probe(backend: LocalBackend, language: str, timeout: float = 60.0) -> str | None:
    """Whether ``language`` runs inside this backend's sandbox: None when it does, else what failed there
    (a toolchain found outside but hidden or unreadable inside, say)."""
    paths = KernelPaths(backend.base / f"probe-{uuid.uuid4().hex[:12]}")
    paths.make()
    process: asyncio.subprocess.Process | None = None
    try:
        program = programs.ProgramPlan(language, tuple(_probe_argv(language)), paths.work)
        run = FileRun(paths.work / "probe")
        prefix = await asyncio.to_thread(_prefix, backend, language, program, paths, run, paths.work, [])
        process = await asyncio.create_subprocess_exec(
            *prefix, *program.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            return f"its toolchain did not answer within {timeout:g} s inside the sandbox"
        if process.returncode == 0:
            return None
        text = output.decode("utf-8", "replace").strip()
        tail = "; ".join(line.strip() for line in text.splitlines()[:3] if line.strip())
        return f"found here, but it fails inside the sandbox (status {process.returncode}): {tail or 'no output'}"
    finally:
        await asyncio.shield(_cleanup(backend, paths, process))


def absolute(path: str | os.PathLike[str], base: Path | None = None) -> Path:
    """``path`` made absolute against ``base`` (default: the current folder), symlinks resolved."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = (base or Path.cwd()) / candidate
    return Path(os.path.realpath(candidate))
