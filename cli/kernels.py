"""``nexus kernels list`` (which languages can run here, and the sandbox layers in force) and
``nexus kernels install`` (kernelspecs for Jupyter, the TypeScript compiler, the Java runner)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path

import click


@click.group()
def kernels() -> None:
    """Jupyter kernels that run code for Nexus (Python, JavaScript, TypeScript, Java, C++)."""


@kernels.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(as_json: bool) -> None:
    """Show which languages are ready to run and which sandbox layers are active."""
    from nexus.engine.config import load_settings
    from nexus.kernels import ExecutionService, kernel_settings
    from nexus.kernels.sandbox import describe

    settings = kernel_settings(load_settings(Path.cwd()))

    async def gather() -> list[dict[str, object]]:
        # the settings a run uses: readiness is probed inside the same sandbox, as the same user
        service = ExecutionService(dataclasses.replace(settings, pool={}))
        try:
            return [
                {"language": s.name, "name": s.display_name, "ready": s.ready, "detail": s.detail}
                for s in await service.languages()
            ]
        finally:
            await service.close()

    rows = asyncio.run(gather())
    sandbox = describe(settings)
    if as_json:
        click.echo(json.dumps({"languages": rows, "sandbox": sandbox}, indent=2))
        return
    for row in rows:
        mark = "ready  " if row["ready"] else "missing"
        click.echo(f"{row['language']:<11} {mark} {row['detail'] if not row['ready'] else row['name']}")
    click.echo("")
    for layer, state in sandbox.items():
        click.echo(f"sandbox {layer}: {state}")


@kernels.command("install")
@click.option("--prefix", default=None, help="Install kernelspecs under this prefix (e.g. sys.prefix).")
@click.option("--sys-prefix", is_flag=True, help="Install kernelspecs into this Python environment.")
@click.option("--no-npm", is_flag=True, help="Do not run npm install for the TypeScript compiler.")
def install(prefix: str | None, sys_prefix: bool, no_npm: bool) -> None:
    """Install kernelspecs (nexus-python, nexus-javascript, ...) and the toolchain pieces they need."""
    from nexus.kernels.install import install_all

    steps = install_all(prefix=sys.prefix if sys_prefix else prefix, npm=not no_npm)
    for step in steps:
        click.echo(f"{'ok  ' if step.ok else 'FAIL'} {step.what}: {step.detail}")
    if not all(step.ok for step in steps):
        click.echo("some languages are not ready: install what is named above, then run this again", err=True)
