"""The NumPy/SciPy rate reference: the ground truth every other backend is measured against.
Every family's own rate equations run here (:meth:`~neuromorph.families.base.Family.rate_simulate`)."""

from __future__ import annotations

import numpy as np

from ... import families
from ...records import Result
from ..base import Backend, BackendError, Compiled


class RateBackend(Backend):
    """Integrates the rate equations directly: BM with fixed-step Euler/RK4 or scipy's adaptive
    solver; NLA with the explicit or previous-step Euler scheme, batched over lanes."""

    name = "rate"
    description = "NumPy/SciPy rate reference (ground truth)"
    reference = True

    def versions(self) -> dict:
        import scipy

        return {"numpy": np.__version__, "scipy": scipy.__version__}

    def hardware(self) -> dict:
        return {"runs_on": "CPU (NumPy/SciPy)", "target": "rate"}

    def simulate(self, model, progress=None, base_dir=None) -> Result:
        self.check(model)
        return self.finish(families.of(model).rate_simulate(model, progress=progress, base_dir=base_dir))

    def engine(self, model, weights=None, base_dir=None):
        self.check(model)
        return families.of(model).rate_engine(model, weights=weights, base_dir=base_dir)

    def compile(self, model, base_dir=None) -> Compiled:
        from .. import names

        raise BackendError("backend 'rate' has nothing to compile; compile targets: "
                           + ", ".join(n for n in names() if n != "rate"))

    def describe(self, compiled: Compiled) -> str:
        return ""
