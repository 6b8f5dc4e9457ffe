"""``nexus run``: run a FILE as its language's own runner would, or a snippet (-c) in a kernel, and print
its output; the exit status is the run's exitCode (a file: the program's own status, 128+N for signal N;
a snippet: 0 ok, 1 error, 137 killed by a limit, 128+N when the kernel died of signal N; both: 124
timeout, 2 when it could not run at all). Runs locally even where kernels cannot be sandboxed (with a
warning): it is the user's own code, run as the user.

A FILE runs in the sandbox with its folder (or ``--cwd``) as the working folder, the arguments after
``--`` as its arguments and this command's stdin as its stdin (see nexus.kernels.program_run). With a
remote gateway, which cannot see this machine's files, a FILE's text runs as a snippet."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import click


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("-c", "code", help="Code to run instead of a FILE.")
@click.option("--cwd", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Working folder of a FILE run (default: the file's folder).")
@click.option("--writable", is_flag=True, help="Let a FILE run write its folder and --cwd (default: read-only).")
@click.option(
    "--lang",
    "-l",
    "language",
    help="Language (python, javascript, typescript, java, cpp, or an "
    "installed kernelspec); default: from FILE's extension, else python.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the reply object {output, exitCode, executionTime, outputs}.",
)
@click.option(
    "--timeout", type=float, default=None, help="Seconds before the run is interrupted (default 30)."
)
@click.option(
    "--gateway-url", envvar="NEXUS_KERNELS_GATEWAY_URL", help="Run on a Jupyter Kernel/Enterprise Gateway."
)
@click.option("--gateway-token", envvar="NEXUS_KERNELS_GATEWAY_TOKEN", help="The gateway's auth token.")
def run(
    file: Path | None,
    args: tuple[str, ...],
    code: str | None,
    cwd: Path | None,
    writable: bool,
    language: str | None,
    as_json: bool,
    timeout: float | None,
    gateway_url: str | None,
    gateway_token: str | None,
) -> None:
    """Run FILE [-- ARGS...] as its language's runner would (python, node, tsx, java, g++), or CODE (-c) in
    a Jupyter kernel, sandboxed, and print what it prints."""
    from nexus.engine.config import load_settings
    from nexus.engine.errors import NexusError
    from nexus.kernels import kernel_settings

    if (code is None) == (file is None):
        raise click.UsageError("give either -c CODE or a FILE")
    if file is None and (args or cwd is not None or writable):
        raise click.UsageError("arguments, --cwd and --writable are for a FILE run")
    try:
        settings = kernel_settings(load_settings(Path.cwd()))
        # the folder it is run from is the workspace, visible read-only (homes are hidden from kernels)
        settings = dataclasses.replace(settings, pool={}, workspace=settings.workspace or Path.cwd())
        if gateway_url:
            settings = dataclasses.replace(
                settings, gateway_url=gateway_url, gateway_token=gateway_token or ""
            )
        if file is not None and gateway_url:  # the gateway's kernels cannot see this machine's files
            code, language = _file_as_snippet(file, language)
            file = None
        request = _Request(code or "", language, file, args, cwd, writable, timeout, as_json)
        exit_code = asyncio.run(_run(settings, request))
    except NexusError as exc:
        click.echo(f"nexus run: {exc}", err=True)
        sys.exit(2)
    sys.exit(exit_code)


@dataclasses.dataclass(frozen=True)
class _Request:
    code: str
    language: str | None  # None: a FILE's from its extension, a snippet's python
    file: Path | None
    args: tuple[str, ...]
    cwd: Path | None
    writable: bool
    timeout: float | None
    as_json: bool


def _file_as_snippet(file: Path, language: str | None) -> tuple[str, str]:
    from nexus.kernels.programs import language_of

    try:
        code = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"cannot read {file}: {exc}") from exc
    return code, language_of(file, language)


def _stdin() -> int | None:
    """This command's stdin for the program to read (end-of-file when it has none)."""
    try:
        return sys.stdin.fileno() if sys.stdin is not None and not sys.stdin.closed else None
    except (OSError, ValueError):
        return None


async def _read_line(prompt: str, password: bool) -> str | None:
    """A line of this command's stdin for a snippet's ``input()`` (Jupyter's input_request); None at EOF.

    Read in a daemon thread: a run that ends while the user has not typed must not keep the command
    waiting for a line nobody needs."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def read() -> None:
        try:
            if password and sys.stdin.isatty():
                import getpass

                line: str | None = getpass.getpass(prompt)
            else:
                if prompt:
                    sys.stdout.write(prompt)
                    sys.stdout.flush()
                text = sys.stdin.readline()
                line = text.removesuffix("\n") if text else None
        except (OSError, ValueError, EOFError):
            line = None
        def deliver() -> None:
            if not answer.done():
                answer.set_result(line)

        loop.call_soon_threadsafe(deliver)

    if sys.stdin is None or sys.stdin.closed:
        return None
    threading.Thread(target=read, name="nexus-run-stdin", daemon=True).start()
    return await answer


async def _run(settings: object, request: _Request) -> int:
    from nexus.kernels import Error, ExecutionResult, ExecutionService, Rich, Stream, StreamEvent
    from nexus.kernels.results import strip_ansi

    as_json = request.as_json
    async with ExecutionService(settings) as service:  # type: ignore[arg-type]
        result: ExecutionResult | None = None
        events: AsyncIterator[StreamEvent]
        if request.file is not None:
            events = service.stream_file(request.file, request.args, language=request.language, cwd=request.cwd,
                                         writable=request.writable, stdin=_stdin(), timeout=request.timeout)
        else:
            events = service.stream(request.code, request.language or "python", timeout=request.timeout,
                                    stdin=_read_line)
        async for event in events:
            if isinstance(event, ExecutionResult):
                result = event
            elif as_json:
                continue
            elif isinstance(event, Stream):
                target = sys.stdout if event.name == "stdout" else sys.stderr
                target.write(event.text)
                target.flush()
            elif isinstance(event, Rich):
                sys.stdout.write(event.text)
            elif isinstance(event, Error):
                sys.stderr.write(event.text if not sys.stderr.isatty() else "\n".join(event.traceback) + "\n")
        assert result is not None
        if not as_json and result.truncated:  # the notice is the result's last item, never streamed
            notice = next((i for i in reversed(result.outputs) if isinstance(i, Stream)), None)
            if notice is not None and notice.text.lstrip().startswith("[output truncated"):
                sys.stderr.write(notice.text)
        if as_json:
            click.echo(json.dumps(result.to_json(), indent=2))
            return result.exit_code
        if result.reason and not any(
            result.reason in strip_ansi(i.text) for i in result.outputs if isinstance(i, Stream)
        ):
            click.echo(f"nexus run: {result.reason}", err=True)
        for error in (result.errors or ())[:1]:  # where to look, in the form editors and terminals link
            where = _shown(Path(error.path))
            column = f":{error.column}" if error.column else ""
            click.echo(f"nexus run: {where}:{error.line}{column}: {error.message}", err=True)
        return result.exit_code


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
