"""What `pip install` gives a Jupyter installation: the extension enabled by the shipped config file, and
``nexus lsp`` registered with jupyter-lsp."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .conftest import Fetch

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = "etc/jupyter/jupyter_server_config.d/nexus.json"

# jupyter-lsp 2.3 declares its traits in ways traitlets 5 deprecated, warned once when it is imported:
# import it here, quietly, before the server (where warnings are errors) loads it.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import jupyter_lsp  # noqa: F401


@pytest.fixture
def extensions() -> dict[str, bool]:
    return {"nexus.jupyter_ext": True, "jupyter_lsp": True}


# jupyter-lsp still exports the old loader name; jupyter-server warns about it at every start.
@pytest.mark.filterwarnings("ignore:A `_load_jupyter_server_extension` function was not found:DeprecationWarning")
async def test_jupyter_lsp_lists_the_nexus_language_server(jp_fetch: Fetch) -> None:
    response = await jp_fetch("lsp", "status")
    status = json.loads(response.body)
    spec = status["sessions"]["nexus"]["spec"]
    assert spec["languages"] == ["python", "javascript", "typescript", "java", "c++"]
    assert "text/x-ipython" in spec["mime_types"] and spec["version"] == 2
    assert status["sessions"]["nexus"]["status"] == "not_started"


def test_the_spec_command_starts_a_language_server() -> None:
    """The argv jupyter-lsp will run answers LSP ``initialize`` on stdio."""
    from nexus.jupyter_ext.lsp_spec import spec

    argv = spec()["nexus"]["argv"]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"processId": None, "rootUri": None, "capabilities": {}}}).encode()
    message = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    exit_ = json.dumps({"jsonrpc": "2.0", "method": "exit"}).encode()
    message += b"Content-Length: %d\r\n\r\n%s" % (len(exit_), exit_)
    done = subprocess.run(argv, input=message, capture_output=True, timeout=60, check=False)
    header, _, payload = done.stdout.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in header.split(b"\r\n") if line.lower().startswith(b"content-length"))
    reply: dict[str, Any] = json.loads(payload[:length])
    assert reply["id"] == 1 and "capabilities" in reply["result"], done.stderr.decode()[-2000:]


def test_the_wheel_enables_the_extension_and_registers_the_spec(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("nexus_ide-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (config,) = [n for n in names if n.endswith(".data/data/" + CONFIG_FILE)]
        enabled = json.loads(archive.read(config))
        lab = ".data/data/share/jupyter/labextensions/nexus-jupyterlab/"
        if (ROOT / "jupyter_ext" / "labextension" / "package.json").is_file() or os.environ.get("CI"):
            # The prebuilt JupyterLab extension (scripts/test.sh builds it first; CI must have it).
            assert any(n.endswith(lab + "package.json") for n in names), "the wheel has no JupyterLab extension"
            assert any(n.endswith(lab + "schemas/nexus-jupyterlab/plugin.json") for n in names)
            assert any(lab + "static/remoteEntry." in n for n in names)
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert "[jupyter_lsp_spec_v1]\nnexus = nexus.jupyter_ext.lsp_spec:spec" in archive.read(entry_points).decode()
        prefix = tmp_path / "prefix"
        target = prefix / CONFIG_FILE
        target.parent.mkdir(parents=True)
        target.write_bytes(archive.read(config))
    assert enabled == {"ServerApp": {"jpserver_extensions": {"nexus.jupyter_ext": True}}}
    # A server reads <prefix>/etc/jupyter; with JUPYTER_CONFIG_PATH at the unpacked file it finds what an
    # installed wheel gives it: the extension enabled, importable, with a valid extension point.
    probe = ("import json\nfrom jupyter_server.serverapp import ServerApp\n"
             "from jupyter_server.extension.manager import ExtensionPackage\n"
             "app = ServerApp()\napp.find_server_extensions()\n"
             "package = ExtensionPackage(name='nexus.jupyter_ext', enabled=True)\n"
             "print(json.dumps({'enabled': app.jpserver_extensions, 'valid': package.validate(),\n"
             "                  'points': [m['module'] for m in package.metadata]}))\n")
    env = dict(os.environ, JUPYTER_CONFIG_PATH=str(prefix / "etc" / "jupyter"), JUPYTER_CONFIG_DIR=str(tmp_path / "u"),
               JUPYTER_PLATFORM_DIRS="1")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["enabled"].get("nexus.jupyter_ext") is True, found
    assert found["valid"] is True and found["points"] == ["nexus.jupyter_ext.app"], found


def test_an_editable_checkout_follows_the_readme(tmp_path: Path) -> None:
    """README: from an editable checkout, ``python -m nexus.jupyter_ext.develop`` once; then the extension is
    enabled, ``jupyter server extension enable/disable`` know it, and JupyterLab finds the lab extension.

    Run in an environment of its own (a venv whose site-packages are this one's, through a .pth), so the
    command writes into that prefix as it would into a developer's."""
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    import sysconfig

    (Path(site) / "outer.pth").write_text(f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "user-config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_PLATFORM_DIRS="1", JUPYTER_NO_CONFIG="")
    env.pop("JUPYTER_CONFIG_PATH", None)
    env.pop("JUPYTER_PATH", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(python), *args], capture_output=True, text=True, timeout=180, env=env, check=False)
        # Jupyter colours its verdicts; compare the words.
        plain = re.sub(r" +", " ", re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr))
        return subprocess.CompletedProcess(done.args, done.returncode, plain, done.stderr)

    before = run("-m", "jupyter_server.extension.serverextension", "enable", "--sys-prefix", "nexus.jupyter_ext")
    assert "could not be found" in before.stdout + before.stderr  # what the issue saw, before the step

    done = run("-m", "nexus.jupyter_ext.develop")
    assert done.returncode == 0, done.stderr
    placed = json.loads(done.stdout)
    assert Path(placed["config"]) == env_dir / CONFIG_FILE
    listed = run("-m", "jupyter_server.extension.serverextension", "list")
    assert "nexus.jupyter_ext enabled" in listed.stdout + listed.stderr, listed.stdout + listed.stderr
    assert "nexus.jupyter_ext OK" in listed.stdout, listed.stdout + listed.stderr
    disabled = run("-m", "jupyter_server.extension.serverextension", "disable", "--sys-prefix", "nexus.jupyter_ext")
    assert disabled.returncode == 0, disabled.stdout + disabled.stderr
    enabled = run("-m", "jupyter_server.extension.serverextension", "enable", "--sys-prefix", "nexus.jupyter_ext")
    assert enabled.returncode == 0 and "could not be found" not in enabled.stdout + enabled.stderr, enabled.stderr

    built = ROOT / "jupyter_ext" / "labextension" / "package.json"
    if not built.is_file():
        assert placed["labextension"] is None and "npm run build" in done.stderr
        pytest.skip("the JupyterLab extension is not built here (scripts/test.sh builds it)")
    lab = Path(placed["labextension"])
    assert lab == env_dir / "share" / "jupyter" / "labextensions" / "nexus-jupyterlab" and lab.is_symlink()
    labs = run("-m", "jupyterlab.labextensions", "list")
    assert "nexus-jupyterlab v0.1.0 enabled OK" in labs.stdout + labs.stderr, labs.stdout + labs.stderr
