"""``python -m nexus.jupyter_ext.develop``: what ``pip install nexus-ide`` lays down for Jupyter, for a
checkout installed with ``pip install -e``.

A wheel installs two data files trees under the environment's prefix: the ``jupyter_server_config.d``
file that enables the server extension, and the prebuilt JupyterLab extension under
``share/jupyter/labextensions/nexus-jupyterlab``. An editable install lays down neither, and
``jupyter server extension enable NAME`` refuses a name that no installed config file lists ("could not
be found"), so a checkout runs this once: it copies the config file and links the built lab extension
(``editors/jupyterlab`` builds it into ``jupyter_ext/labextension``), so a rebuild is seen at the next
page load. Afterwards ``jupyter server extension enable/disable nexus.jupyter_ext`` work as usual.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from pathlib import Path

from nexus.engine.errors import NexusError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "jupyter-config" / "jupyter_server_config.d" / "nexus.json"
LABEXTENSION = HERE / "labextension"  # the build output of editors/jupyterlab (not in git)
LAB_NAME = "nexus-jupyterlab"


class DevelopError(NexusError):
    """The files could not be installed under the prefix."""


def install(prefix: Path, *, link: bool = True) -> dict[str, str | None]:
    """Install the config file and the lab extension under ``prefix``; returns what went where (the lab
    extension is None when it has not been built: ``npm run build`` in editors/jupyterlab). Raises
    DevelopError saying what failed."""
    config_target = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / CONFIG.name
    lab_target = prefix / "share" / "jupyter" / "labextensions" / LAB_NAME
    try:
        config_target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CONFIG, config_target)
        lab: str | None = None
        if (LABEXTENSION / "package.json").is_file():
            lab_target.parent.mkdir(parents=True, exist_ok=True)
            if lab_target.is_symlink() or lab_target.is_file():
                lab_target.unlink()
            elif lab_target.is_dir():
                shutil.rmtree(lab_target)
            if link:
                os.symlink(LABEXTENSION, lab_target, target_is_directory=True)
            else:
                shutil.copytree(LABEXTENSION, lab_target)
            lab = str(lab_target)
    except OSError as exc:
        raise DevelopError(f"cannot install the Jupyter files under {prefix}: {exc}") from exc
    return {"config": str(config_target), "labextension": lab}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nexus.jupyter_ext.develop", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sys-prefix", action="store_true", help="this environment (the default)")
    where.add_argument("--prefix", type=Path, help="another prefix (what JUPYTER_PATH / JUPYTER_CONFIG_PATH name)")
    parser.add_argument("--copy", action="store_true", help="copy the lab extension instead of linking it")
    args = parser.parse_args(argv)
    prefix = args.prefix if args.prefix is not None else Path(sys.prefix)
    try:
        done = install(prefix, link=not args.copy)
    except DevelopError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(done) + "\n")
    if done["labextension"] is None:
        sys.stderr.write("note: the JupyterLab extension is not built yet: run `npm ci && npm run build` in "
                         "editors/jupyterlab, then this again\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
