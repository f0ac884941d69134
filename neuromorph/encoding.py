r"""Rate and population coding shared by the spiking backends (backend-neutral NumPy).

- LIF rate curve (seed 004): r(j) = 1 / (tau_ref - tau_rc log(1 - 1/j)) for j > 1, else 0.
- Population coding (the NEF's principles 1-2): neuron i of an ensemble representing x in the
  unit ball gets the current J_i = gain_i (e_i . x) + bias_i, with unit encoders e_i, maximum
  rates and intercepts drawn from ranges; decoders d solve the regularized least squares
  min ||A d - F||^2 + (sigma * max_rate)^2 n ||d||^2 over evaluation points, so that
  sum_i d_i a_i(x) ~ F(x).
- Principle 3 with an alpha synapse h(s) = 1/(tau s + 1)^2: to make dx/dt = f(x), decode
  g(x) = x + 2 tau f(x) + tau^2 (df/dx) f(x) into the recurrent connection (the input's own
  derivative is neglected).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


def lif_rate(j, tau_rc: float, tau_ref: float) -> np.ndarray:
    """Steady LIF firing rate (Hz) for normalized input current ``j`` (threshold 1)."""
    j = np.asarray(j, dtype=float)
    out = np.zeros_like(j)
    on = j > 1.0
    out[on] = 1.0 / (tau_ref - tau_rc * np.log1p(-1.0 / j[on]))
    return out


def lif_current_for_rate(rate, tau_rc: float, tau_ref: float) -> np.ndarray:
    """The current j > 1 at which an LIF neuron fires at ``rate`` (Hz)."""
    return 1.0 / (1.0 - np.exp((tau_ref - 1.0 / np.asarray(rate, dtype=float)) / tau_rc))


@dataclass
class Ensemble:
    """Tuning of n LIF neurons representing a d-dimensional vector in the unit ball."""

    encoders: np.ndarray  # (n, d)
    gains: np.ndarray  # (n,)
    biases: np.ndarray  # (n,)
    max_rates: np.ndarray  # (n,)
    tau_rc: float
    tau_ref: float
    # J -> rates (Hz) of the target's neurons; None: the LIF curve
    rate_fn: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def n(self) -> int:
        return len(self.gains)

    def currents(self, x) -> np.ndarray:
        return (np.asarray(x) @ self.encoders.T) * self.gains + self.biases

    def rates(self, x) -> np.ndarray:
        """Steady rates (Hz) for points x, (P, d) -> (P, n)."""
        if self.rate_fn is not None:
            return self.rate_fn(self.currents(x))
        return lif_rate(self.currents(x), self.tau_rc, self.tau_ref)


def unit_ball(rng: np.random.Generator, count: int, d: int) -> np.ndarray:
    """Points drawn uniformly from the d-dimensional unit ball."""
    v = rng.normal(size=(count, d))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v * rng.uniform(0, 1, size=(count, 1)) ** (1.0 / d)


def make_ensemble(rng, n: int, d: int, max_rates=(200.0, 400.0), intercepts=(-0.9, 0.9),
                  tau_rc: float = 0.02, tau_ref: float = 0.002) -> Ensemble:
    """Random tuning: encoders on the unit sphere, maximum rate at x = e_i, silent below the
    intercept. gain = (J_max - 1) / (1 - intercept), bias = 1 - gain * intercept."""
    enc = rng.normal(size=(n, d))
    enc /= np.linalg.norm(enc, axis=1, keepdims=True)
    rmax = rng.uniform(*max_rates, size=n)
    icpt = rng.uniform(*intercepts, size=n)
    j_max = lif_current_for_rate(rmax, tau_rc, tau_ref)
    gains = (j_max - 1.0) / (1.0 - icpt)
    biases = 1.0 - gains * icpt
    return Ensemble(enc, gains, biases, rmax, tau_rc, tau_ref)


def decoders(ens: Ensemble, points: np.ndarray, targets: np.ndarray, reg: float = 0.1) -> np.ndarray:
    """Least-squares decoders (n, k) with Tikhonov regularization ``reg`` * max rate (Nengo's
    default convention): (A^T A + P (reg * max_rate)^2 I) D = A^T F."""
    A = ens.rates(points)
    sigma = reg * A.max()
    gram = A.T @ A + len(points) * sigma**2 * np.eye(ens.n)
    return np.linalg.solve(gram, A.T @ targets)
