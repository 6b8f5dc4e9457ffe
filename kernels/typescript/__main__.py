from nexus.kernels.typescript.kernel import TypeScriptKernel
from nexus.kernels.wrapper import launch

launch(TypeScriptKernel)
