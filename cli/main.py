"""The ``nexus`` command. Subcommands load lazily so that ``nexus index`` never pays for importing the
language server, Jupyter or the AI SDKs; a subcommand whose module is not installed is simply absent."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import click

# name -> "module:attribute"; each adapter/feature owns its module under nexus.cli.
COMMANDS: dict[str, str] = {
    "index": "nexus.cli.index:index",
    "search": "nexus.cli.search:search",
    "status": "nexus.cli.status:status",
    "lsp": "nexus.cli.lsp:lsp",
    "run": "nexus.cli.run:run",
    "kernels": "nexus.cli.kernels:kernels",
    "ask": "nexus.cli.ask:ask",
    "graph": "nexus.cli.graph:graph",
    "context": "nexus.cli.context:context",
    "gateway": "nexus.cli.gateway:gateway",
    "users": "nexus.cli.users:users",
    "dap": "nexus.cli.dap:dap",
    "api": "nexus.cli.api:api",
    "mcp": "nexus.cli.mcp:mcp",
    "acp": "nexus.cli.acp:acp",
    "commit-message": "nexus.cli.git:commit_message",
    "review": "nexus.cli.git:review",
    "collab": "nexus.cli.collab:collab",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        present = [name for name, target in COMMANDS.items() if _module_exists(target.partition(":")[0])]
        return sorted(present + list(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _module_exists(target.partition(":")[0]):
            return super().get_command(ctx, cmd_name)
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.version_option(package_name="nexus-ide")
def main(verbose: int) -> None:
    """Nexus: workspace index, IntelliSense, Jupyter kernels and AI context for your editor."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":
    main()
