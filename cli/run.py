"""``nexus run``: run code in a kernel and print its output; the exit status is the run's exitCode
(0 ok, 1 error, 124 timeout, 137 killed by a limit, 128+N when the kernel died of signal N; 2 when it
could not run at all). Runs locally even where kernels cannot be sandboxed (with a warning): it is the
user's own code, run as the user."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path

import click


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-c", "code", help="Code to run instead of a FILE.")
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
    code: str | None,
    language: str | None,
    as_json: bool,
    timeout: float | None,
    gateway_url: str | None,
    gateway_token: str | None,
) -> None:
    """Run CODE (-c) or FILE in a sandboxed Jupyter kernel and print what it prints."""
    from nexus.engine.config import load_settings
    from nexus.engine.errors import NexusError
    from nexus.kernels import kernel_settings, language_for_path

    if (code is None) == (file is None):
        raise click.UsageError("give either -c CODE or a FILE")
    if file is not None:
        try:
            code = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.UsageError(f"cannot read {file}: {exc}") from exc
        if language is None:
            found = language_for_path(file)
            language = found.name if found else None
    try:
        settings = kernel_settings(load_settings(Path.cwd()))
        # the folder it is run from is the workspace, visible read-only (homes are hidden from kernels)
        settings = dataclasses.replace(settings, pool={}, workspace=settings.workspace or Path.cwd())
        if gateway_url:
            settings = dataclasses.replace(
                settings, gateway_url=gateway_url, gateway_token=gateway_token or ""
            )
        exit_code = asyncio.run(_run(settings, code or "", language or "python", timeout, as_json))
    except NexusError as exc:
        click.echo(f"nexus run: {exc}", err=True)
        sys.exit(2)
    sys.exit(exit_code)


async def _run(settings: object, code: str, language: str, timeout: float | None, as_json: bool) -> int:
    from nexus.kernels import Error, ExecutionResult, ExecutionService, Rich, Stream
    from nexus.kernels.results import strip_ansi

    async with ExecutionService(settings) as service:  # type: ignore[arg-type]
        result: ExecutionResult | None = None
        async for event in service.stream(code, language, timeout=timeout):
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
        elif result.reason and not any(
            result.reason in strip_ansi(i.text) for i in result.outputs if isinstance(i, Stream)
        ):
            click.echo(f"nexus run: {result.reason}", err=True)
        return result.exit_code
