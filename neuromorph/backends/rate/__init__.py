"""The NumPy/SciPy rate reference: the ground truth every other backend is measured against."""

from __future__ import annotations

import numpy as np

from ..base import Backend, Result


class RateBackend(Backend):
    """Integrates the rate equations directly: BM with fixed-step Euler/RK4 or scipy's adaptive
    solver; NLA with the explicit or previous-step Euler scheme, batched over lanes."""

    name = "rate"
    description = "NumPy/SciPy rate reference (ground truth)"
    families = ("bm", "nla")

    def versions(self) -> dict:
        import scipy

        return {"numpy": np.__version__, "scipy": scipy.__version__}

    def simulate(self, model, progress=None, base_dir=None) -> Result:
        self.check(model)
        if model.family == "bm":
            from .bm import simulate_bm

            return simulate_bm(model, progress)
        from ...tasks import run_inference

        return run_inference(self.nla_engine(model, base_dir=base_dir), model, progress)

    def nla_engine(self, model, weights=None, base_dir=None):
        """A NumPy engine for an NLA model (``weights``: start from these instead of the spec's)."""
        from .nla import NLAEngine

        return NLAEngine(model, weights=weights, base_dir=base_dir)
