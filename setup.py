"""Maps the repository's top-level folders into the `nexus.` import namespace.

The folders are the architecture (engine/, kernels/, lsp_server/, ...), but a generic top-level
`engine` or `kernels` must never land in site-packages, so each installs as `nexus.<folder>`.
Everything else about the distribution lives in pyproject.toml.
"""

from setuptools import find_packages, setup

FOLDERS = ("cli", "engine", "kernels", "services", "lsp_server", "jupyter_ext", "gateway", "mcp_server", "acp_server")

packages = [
    f"nexus.{name}"
    for folder in FOLDERS
    for name in find_packages(include=[folder, f"{folder}.*"])
]

setup(
    packages=packages,
    package_dir={f"nexus.{folder}": folder for folder in FOLDERS},
    package_data={"": ["py.typed", "*.json", "*.js", "*.java", "*.scm"]},
    # Enables the Jupyter server extension on install (jupyter_server reads etc/jupyter/... under sys.prefix).
    data_files=[("etc/jupyter/jupyter_server_config.d", ["jupyter_ext/jupyter-config/jupyter_server_config.d/nexus.json"])],
)
