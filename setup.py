"""Maps the repository's top-level folders into the `nexus.` import namespace.

The folders are the architecture (engine/, kernels/, lsp_server/, ...), but a generic top-level
`engine` or `kernels` must never land in site-packages, so each installs as `nexus.<folder>`.
Everything else about the distribution lives in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

FOLDERS = ("cli", "engine", "kernels", "services", "lsp_server", "jupyter_ext", "gateway", "mcp_server", "acp_server")

packages = [
    f"nexus.{name}"
    for folder in FOLDERS
    for name in find_packages(include=[folder, f"{folder}.*"])
]

# The prebuilt JupyterLab extension (editors/jupyterlab builds it into jupyter_ext/labextension; it is not
# in git): JupyterLab finds it under <prefix>/share/jupyter/labextensions/<name>, so `pip install` is all a
# user does. A wheel built before the extension is, has none (and says so).
LABEXTENSION = Path(__file__).parent / "jupyter_ext" / "labextension"
LAB_TARGET = "share/jupyter/labextensions/nexus-jupyterlab"
lab_files: dict[str, list[str]] = {}
for file in sorted(LABEXTENSION.rglob("*")) if LABEXTENSION.is_dir() else ():
    if file.is_file():
        folder = file.parent.relative_to(LABEXTENSION).as_posix()
        target = LAB_TARGET if folder == "." else f"{LAB_TARGET}/{folder}"
        lab_files.setdefault(target, []).append(file.relative_to(Path(__file__).parent).as_posix())
if not lab_files:
    print("setup.py: jupyter_ext/labextension is not built (npm run build in editors/jupyterlab): "  # noqa: T201
          "the package has no JupyterLab extension")

setup(
    packages=packages,
    package_dir={f"nexus.{folder}": folder for folder in FOLDERS},
    package_data={"": ["py.typed", "*.json", "*.js", "*.java", "*.scm"]},
    # Enables the Jupyter server extension on install (jupyter_server reads etc/jupyter/... under sys.prefix).
    data_files=[("etc/jupyter/jupyter_server_config.d", ["jupyter_ext/jupyter-config/jupyter_server_config.d/nexus.json"]),
                *lab_files.items()],
)
