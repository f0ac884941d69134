r"""Transfer functions rho(u) with their first and second derivatives.

Each returns ``(rho, rho', rho'')`` evaluated element-wise. ``u`` is the somatic voltage in the
model's dimensionless units; for the LIF curves it is read as the input current ``j`` in units
of the firing threshold (Hunsberger & Eliasmith 2015, seed 004), and the rate in Hz is scaled by
``amplitude`` (seconds) so that rho is dimensionless: rho = amplitude * r(j).

- ``hard_sigmoid``: rho = clip(u, 0, 1); rho' = 1 on [0, 1] (ends included), else 0; rho'' = 0.
- ``logistic``: rho = 1 / (1 + exp(-u)).
- ``relu`` (threshold-linear): rho = max(u, 0); rho' = 1 for u > 0.
- ``lif``: r(j) = 1 / (tau_ref - tau_rc log(1 - 1/j)) for j > 1, else 0.
- ``soft_lif``: j - 1 replaced by p = sigma log(1 + exp((j - 1)/sigma)):
  r = 1 / (tau_ref + tau_rc log(1 + 1/p)).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def hard_sigmoid(u):
    r = np.clip(u, 0.0, 1.0)
    d = ((u >= 0.0) & (u <= 1.0)).astype(float)
    return r, d, np.zeros_like(r)


def logistic(u):
    r = expit(u)
    d = r * (1.0 - r)
    return r, d, d * (1.0 - 2.0 * r)


def relu(u):
    r = np.maximum(u, 0.0)
    return r, (u > 0.0).astype(float), np.zeros_like(r)


def _lif_from_p(p, dp, ddp, tau_rc, tau_ref, amplitude):
    """LIF rate as a function of p = j - 1 (> 0), with chain-rule derivatives in j.

    r = 1/L, L = tau_ref + tau_rc log(1 + 1/p);  dL/dp = -tau_rc / (p (p + 1)).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        L = tau_ref + tau_rc * np.log1p(1.0 / p)
        r = 1.0 / L
        dL = -tau_rc / (p * (p + 1.0))
        ddL = tau_rc * (2.0 * p + 1.0) / (p * (p + 1.0)) ** 2
        dr_dp = -dL / L**2
        ddr_dp = -ddL / L**2 + 2.0 * dL**2 / L**3
        dr = dr_dp * dp
        ddr = ddr_dp * dp**2 + dr_dp * ddp
    good = p > 0
    return (amplitude * np.where(good, r, 0.0), amplitude * np.where(good, dr, 0.0),
            amplitude * np.where(good, ddr, 0.0))


def lif(u, tau_rc=0.02, tau_ref=0.002, amplitude=0.01):
    p = np.asarray(u, dtype=float) - 1.0
    one = np.ones_like(p)
    return _lif_from_p(p, one, np.zeros_like(p), tau_rc, tau_ref, amplitude)


def soft_lif(u, tau_rc=0.02, tau_ref=0.002, amplitude=0.01, sigma=0.02):
    x = (np.asarray(u, dtype=float) - 1.0) / sigma
    p = sigma * np.logaddexp(0.0, x)  # sigma * softplus(x), stable
    dp = expit(x)  # logistic(x), accurate far into the negative tail
    ddp = dp * (1.0 - dp) / sigma
    return _lif_from_p(p, dp, ddp, tau_rc, tau_ref, amplitude)


FUNCTIONS = {
    "hard_sigmoid": hard_sigmoid,
    "logistic": logistic,
    "relu": relu,
    "lif": lif,
    "soft_lif": soft_lif,
}

#: Parameters each transfer function takes (beyond u).
PARAMETERS = {
    "hard_sigmoid": (),
    "logistic": (),
    "relu": (),
    "lif": ("tau_rc", "tau_ref", "amplitude"),
    "soft_lif": ("tau_rc", "tau_ref", "amplitude", "sigma"),
}


def make(name: str, **params):
    """``u -> (rho, rho', rho'')`` for transfer function ``name`` with its parameters."""
    fn = FUNCTIONS[name]
    used = {k: v for k, v in params.items() if k in PARAMETERS[name]}
    return lambda u: fn(u, **used)
