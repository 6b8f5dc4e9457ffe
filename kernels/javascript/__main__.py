from nexus.kernels.javascript.kernel import JavaScriptKernel
from nexus.kernels.wrapper import launch

launch(JavaScriptKernel)
