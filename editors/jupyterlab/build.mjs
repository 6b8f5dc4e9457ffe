// Builds the prebuilt (federated) JupyterLab extension into ../../jupyter_ext/labextension with
// @jupyterlab/builder. The builder needs the package.json of the JupyterLab it builds for (its shared
// singletons and versions): the `jupyterlab` Python package's staging/package.json, found through
// $PYTHON (default python3). `jupyter labextension build` does the same, but JupyterLab 4.6 routes it
// through jupyter-builder, which looks the core up on the network.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const python = process.env.PYTHON || 'python3';
const corePath =
  process.env.JUPYTERLAB_CORE_PATH ||
  execFileSync(python, ['-c', 'import jupyterlab, os; print(os.path.join(os.path.dirname(jupyterlab.__file__), "staging"))'], {
    encoding: 'utf8'
  }).trim();
const require = createRequire(import.meta.url);
const builder = require.resolve('@jupyterlab/builder/lib/build-labextension.js');
const mode = process.argv.includes('--development') ? ['--development'] : [];
execFileSync(process.execPath, [builder, '--core-path', corePath, ...mode, path.dirname(new URL(import.meta.url).pathname)], {
  stdio: 'inherit'
});
