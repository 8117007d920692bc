"""sbinn: simulation-based inference with invertible neural networks.

The public entry points live in their modules: :mod:`sbinn.priors`, :mod:`sbinn.simulator`,
:mod:`sbinn.methods`, :mod:`sbinn.diagnostics` and :mod:`sbinn.benchmark`. The most common
ones are re-exported here.

Examples:
    >>> import sbinn
    >>> prior = sbinn.JointPrior({"mu": sbinn.Normal(0.0, 1.0)})
    >>> simulator = sbinn.FunctionSimulator(lambda theta: 2 * theta, prior)
    >>> simulator.parameter_names
    ('mu',)
"""

from importlib.metadata import PackageNotFoundError, version

from sbinn.function_simulator import FunctionSimulator
from sbinn.priors import JointPrior, LogUniform, Normal, TruncatedNormal, Uniform
from sbinn.simulator import Simulator

try:
    __version__ = version("sbinn")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "FunctionSimulator",
    "JointPrior",
    "LogUniform",
    "Normal",
    "Simulator",
    "TruncatedNormal",
    "Uniform",
    "__version__",
]
