"""What every backend returns, and the interface it implements."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import NeuromorphError


@dataclass
class Result:
    """Recorded traces of one run.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Recording times (s).
    traces : dict of str -> ndarray
        One array per recorded variable, shape (T,) for one synapse/neuron, (T, N) otherwise.
    info : dict
        Backend facts for the summary: integrator, steps, target, substitutions, ...
    metrics : dict
        Task metrics the run measured (e.g. accuracy), if any.
    """

    t: np.ndarray
    traces: dict
    info: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)


class UnsupportedModel(NeuromorphError):
    """The backend cannot run this family of models."""


class Backend:
    """Base class: a named simulator for some model families."""

    name = ""
    description = ""
    families: tuple = ()

    def versions(self) -> dict:
        """Versions of the simulator packages this backend uses."""
        return {}

    def check(self, model) -> None:
        """Raise :class:`UnsupportedModel` if this backend cannot run ``model``."""
        if model.family not in self.families:
            raise UnsupportedModel(
                f"backend {self.name!r} does not run family {model.family!r}; "
                f"it runs: {', '.join(self.families)}"
            )

    def simulate(self, model, progress=None, base_dir=None) -> Result:  # pragma: no cover - interface
        raise NotImplementedError
