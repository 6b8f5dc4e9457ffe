from nexus.kernels.java.kernel import JavaKernel
from nexus.kernels.wrapper import launch

launch(JavaKernel)
