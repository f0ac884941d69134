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


def _lif_terms(p, q, c, tau_rc, tau_ref, amplitude):
    """LIF rate and derivatives from p = (soft) j - 1 >= 0, q = (dp/du) / p and
    c = q (d2p/du2) / (dp/du), written so that no step divides by a vanishing p:

    r = 1/L, L = tau_ref + tau_rc log(1 + 1/p),
    dr/du = tau_rc q / ((p + 1) L^2),
    d2r/du2 = tau_rc q^2 (2 tau_rc / L - (2p + 1)) / ((p + 1)^2 L^2) + tau_rc c / ((p + 1) L^2).
    """
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        inv_L = 1.0 / (tau_ref + tau_rc * np.log1p(1.0 / p))
    inv_L = np.nan_to_num(inv_L, nan=0.0)
    rate = inv_L
    d = tau_rc * q * inv_L**2 / (p + 1.0)
    dd = tau_rc * q**2 * inv_L**2 * (2.0 * tau_rc * inv_L - (2.0 * p + 1.0)) / (p + 1.0) ** 2
    dd = dd + tau_rc * c * inv_L**2 / (p + 1.0)
    return amplitude * rate, amplitude * d, amplitude * dd


def lif(u, tau_rc=0.02, tau_ref=0.002, amplitude=0.01):
    u = np.asarray(u, dtype=float)
    active = u > 1.0
    p = np.where(active, u - 1.0, 1.0)
    r, d, dd = _lif_terms(p, 1.0 / p, 0.0, tau_rc, tau_ref, amplitude)
    zero = np.zeros_like(u)
    return np.where(active, r, zero), np.where(active, d, zero), np.where(active, dd, zero)


def soft_lif(u, tau_rc=0.02, tau_ref=0.002, amplitude=0.01, sigma=0.02):
    x = (np.asarray(u, dtype=float) - 1.0) / sigma
    p = sigma * (np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))  # sigma softplus(x), stable
    s = expit(x)  # dp/du
    far = x < -30.0  # there softplus(x) = expit(x) to double precision, so s/p = 1/sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(far, 1.0 / sigma, s / np.where(far, 1.0, p))
    # d2p/du2 = s (1 - s) / sigma, so c = q (1 - s) / sigma
    return _lif_terms(p, q, q * (1.0 - s) / sigma, tau_rc, tau_ref, amplitude)


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
