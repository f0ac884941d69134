r"""The pc rate reference: timed inference on the task's protocols, and the weights training changes.

A timed run integrates the inference dynamics with forward Euler (dt = ``dynamics.dt``):

.. math:: \tau_{in}\,\dot{\bar x}_0 = x - \bar x_0, \qquad
          \tau\,\dot x_l = -\varepsilon_l + f'(x_l) \odot W_{l+1}^T \varepsilon_{l+1}\ (0 < l < L),
          \qquad \tau\,\dot x_L = -\varepsilon_L,

with the input layer x_0 = \bar x_0 (the low-pass filtered input rates) and the output free: the
network relaxes to the feed-forward pass of the current image, which it reads out. Every lane
starts at rest on the feed-forward pass of its first image.
"""

from __future__ import annotations

import numpy as np

from ...errors import NeuromorphError
from ...records import RunInfo
from . import maths
from .network import blocks, layers_of, transfer


class PCDiverged(NeuromorphError):
    """A timed pc run left the finite numbers (dt too coarse for the trained weights)."""


class PCEngine:
    """The task-engine interface (``run_protocol``) on the NumPy rate reference; holds the weights
    that :class:`~neuromorph.families.pc.train.PCTraining` changes."""

    def __init__(self, model, weights):
        self.model = model
        self.weights = weights
        self.structure = layers_of(model)
        self.f = transfer(model)
        self.lanes = model.learning.lanes
        self.eta_scale = 1.0
        self.stats = {"steps": 0, "learning_steps": 0}
        self.xs: list = []

    # -- what training reads and changes ------------------------------------------------------
    def layers(self) -> tuple[list, list]:
        return blocks(self.weights, self.structure)

    def scale_eta(self, factor: float) -> None:
        self.eta_scale *= factor

    def state_arrays(self) -> dict:
        return {}

    def load_state_arrays(self, arrays: dict) -> None:
        pass

    # -- timed inference ----------------------------------------------------------------------
    def reset(self, x0) -> None:
        Ws, bs = self.layers()
        self.xs = maths.forward(Ws, bs, np.asarray(x0, dtype=float), self.f)

    def run_protocol(self, protocol, record=(), every: int = 1, marks=(), progress=None):
        from ...tasks import marked_outputs

        if protocol.learn:
            raise NeuromorphError("pc networks learn from minibatches (neuromorph train), not during a timed run")
        if protocol.x0 is not None:
            self.reset(protocol.x0)
        Ws, bs = self.layers()
        dt, n = self.model.dynamics.dt, self.model.neuron
        u = np.empty((protocol.steps + 1,) + self.xs[-1].shape)
        u[0] = self.xs[-1]
        for k in range(protocol.steps):
            xbar = self.xs[0] + dt / n.tau_in * (protocol.x[k] - self.xs[0])
            self.xs = maths.timed_step(Ws, bs, self.xs, self.f, dt / n.tau)
            self.xs[0] = xbar
            u[k + 1] = self.xs[-1]
        if not np.isfinite(u).all():
            raise PCDiverged(f"the timed pc run diverged: dynamics.dt = {dt:g} s is too coarse for these weights "
                             f"(tau = {n.tau:g} s); use a smaller dt")
        self.stats["steps"] += protocol.steps
        if progress is not None:
            progress(protocol.steps)
        return marked_outputs(u, protocol, record, every, marks)

    def run_info(self) -> RunInfo:
        dt = self.model.dynamics.dt
        steps = self.stats["steps"]
        return RunInfo(backend="rate", dt=dt, steps=steps, simulated_s=steps * dt,
                       notes=["NumPy reference: predictive coding inference, forward Euler"],
                       details={"engine": dict(self.stats)})
