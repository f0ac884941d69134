"""neuromorph: specify a rate model of learning once; run it as rate ground truth, in Brian2,
in Nengo and on Loihi, and measure what the spikes cost.

Public API (mirrors the ``neuromorph`` command): :func:`load`, :func:`validate`,
:func:`simulate`, :func:`info`. Importing this package loads no simulator.
"""

from .api import info, load, simulate, train, validate
from .errors import SpecError
from .run.provenance import package_version

__version__ = package_version("neuromorph") or "0+unknown"
__all__ = ["load", "validate", "simulate", "train", "info", "SpecError", "__version__"]
