r"""Synaptic Bayesian mechanics (Kim 2024, arXiv 2410.02972): the maths, backend-neutral.

State :math:`\Psi = (\mu, w, p_\mu, p_w)`, presynaptic input :math:`s(t)`, Hebbian sign
:math:`h \in \{-1, +1\}` (time in seconds, all other quantities in the paper's arbitrary units).
The generative functions (Eqs 19, 20) are

.. math::

    f = -\gamma_\mu(\mu - \mu_d) + w s, \qquad g = -\gamma_w(w - w_d) + h s \mu,

and the Hamiltonian (Eq 16) :math:`H = p_\mu^2/2m_\mu + p_w^2/2m_w + p_\mu f + p_w g` gives
Hamilton's equations (Eqs 23-26):

.. math::

    \dot\mu = p_\mu/m_\mu - \gamma_\mu(\mu-\mu_d) + w s, \qquad
    \dot w = p_w/m_w - \gamma_w(w - w_d) + h s \mu,

    \dot p_\mu = -\partial H/\partial\mu = \gamma_\mu p_\mu - h s p_w, \qquad
    \dot p_w = -\partial H/\partial w = \gamma_w p_w - s p_\mu .

With :math:`h = +1` these are the paper's Eqs 23-26 as printed. The sign :math:`h` enters
Eq 25 too, because :math:`\partial g/\partial\mu = h s`; with :math:`p(0) = 0` the momenta stay
exactly zero for either sign. Compactly :math:`\dot\Psi = R(s)\Psi + I` (Eqs 27-29) with
:math:`\mathrm{tr}\,R = 0`.

Which sign reproduces the published figures: only :math:`h = -1` (anti-Hebbian). With
:math:`h = +1` the (mu, w) block of R has determinant
:math:`\gamma_\mu\gamma_w - s^2 < 0` for s = 5: a saddle, so the trajectories of Fig 3
would diverge. With :math:`h=-1` the block has eigenvalues
:math:`-0.55 \pm 4.98i` (damped oscillation, as the paper describes) and the fixed points are
(w, mu) = (-0.976, 0.120) and (-1.992, 0.040): the published (-1.0, 0.1) and (-2.0, 0.0).
See :func:`fixed_point` for how Eq 31 reads then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ...signals import InputSignal

STATE = ("mu", "w", "p_mu", "p_w")
PARAMS = ("m_mu", "m_w", "gamma_mu", "gamma_w", "mu_d", "w_d", "hebbian_sign")


@dataclass(frozen=True)
class BMParams:
    """Numeric parameters, each a float or an array of shape (N,) for N synapses."""

    m_mu: np.ndarray
    m_w: np.ndarray
    gamma_mu: np.ndarray
    gamma_w: np.ndarray
    mu_d: np.ndarray
    w_d: np.ndarray
    hebbian_sign: float


def derivatives(state: np.ndarray, s, p: BMParams) -> np.ndarray:
    """Right-hand side of Eqs 23-26.

    Parameters
    ----------
    state : ndarray, shape (4, ...)
        (mu, w, p_mu, p_w), each of any shape broadcastable with ``s`` and the parameters.
    s : float or ndarray
        Presynaptic input at this time.
    p : BMParams

    Returns
    -------
    ndarray, shape (4, ...)
        d(state)/dt in units per second.
    """
    mu, w, p_mu, p_w = state
    h = p.hebbian_sign
    out = np.empty((4,) + np.broadcast_shapes(np.shape(mu), np.shape(s), np.shape(p.m_mu)))
    out[0] = p_mu / p.m_mu - p.gamma_mu * (mu - p.mu_d) + w * s
    out[1] = p_w / p.m_w - p.gamma_w * (w - p.w_d) + h * s * mu
    out[2] = p.gamma_mu * p_mu - h * s * p_w
    out[3] = p.gamma_w * p_w - s * p_mu
    return out


def hamiltonian(state: np.ndarray, s, p: BMParams):
    """The effective Hamiltonian H of Eq 16 (with the Hebbian sign in g)."""
    mu, w, p_mu, p_w = state
    f = -p.gamma_mu * (mu - p.mu_d) + w * s
    g = -p.gamma_w * (w - p.w_d) + p.hebbian_sign * s * mu
    return p_mu**2 / (2 * p.m_mu) + p_w**2 / (2 * p.m_w) + p_mu * f + p_w * g


def r_matrix(s: float, p: BMParams) -> np.ndarray:
    """The 4x4 matrix R(s) of Eq 28 for one synapse (scalar parameters); tr R = 0."""
    h = p.hebbian_sign
    return np.array(
        [
            [-p.gamma_mu, s, 1 / p.m_mu, 0.0],
            [h * s, -p.gamma_w, 0.0, 1 / p.m_w],
            [0.0, 0.0, p.gamma_mu, -h * s],
            [0.0, 0.0, -s, p.gamma_w],
        ],
        dtype=float,
    )


def drive(p: BMParams) -> np.ndarray:
    """The inhomogeneous vector I of Eq 29: (gamma_mu mu_d, gamma_w w_d, 0, 0)."""
    return np.array([p.gamma_mu * p.mu_d, p.gamma_w * p.w_d, 0.0, 0.0], dtype=float)


def fixed_point(s_inf, p: BMParams) -> dict:
    r"""Fixed point for a constant input :math:`s_\infty` (Eq 31, any Hebbian sign).

    .. math::

        D = 1 - h s^2/(\gamma_\mu\gamma_w), \quad
        \mu_{eq} = (\mu_d + s w_d/\gamma_\mu)/D, \quad
        w_{eq} = (w_d + h s \mu_d/\gamma_w)/D, \quad p_{eq} = 0.

    For h = +1 this is Eq 31 as printed (a saddle for s = 5, never reached). For h = -1, the
    sign that reproduces the published figures, it reads
    :math:`\mu_{eq} = (\mu_d + s w_d/\gamma_\mu)/(1 + s^2/\gamma_\mu\gamma_w)` and
    :math:`w_{eq} = (w_d - s\mu_d/\gamma_w)/(1 + s^2/\gamma_\mu\gamma_w)`.
    """
    h = p.hebbian_sign
    denom = 1.0 - h * s_inf**2 / (p.gamma_mu * p.gamma_w)
    mu = (p.mu_d + s_inf * p.w_d / p.gamma_mu) / denom
    w = (p.w_d + h * s_inf * p.mu_d / p.gamma_w) / denom
    zero = np.zeros_like(np.asarray(mu, dtype=float))
    return {"mu": mu, "w": w, "p_mu": zero, "p_w": zero.copy()}


def _eig2_abs_max(a, b, c, d):
    """Largest |eigenvalue| of [[a, b], [c, d]] (element-wise over arrays)."""
    half_trace = (a + d) / 2
    disc = ((a - d) / 2) ** 2 + b * c
    root = np.sqrt(np.abs(disc))
    real = np.where(disc >= 0, np.maximum(np.abs(half_trace + root), np.abs(half_trace - root)), 0)
    cplx = np.where(disc < 0, np.hypot(half_trace, root), 0)
    return np.maximum(real, cplx)


def fastest_rate(s, p: BMParams) -> float:
    """Largest |eigenvalue| of R(s) over the given input values (1/s).

    R is block upper-triangular, so its eigenvalues are those of the (mu, w) block
    [[-gamma_mu, s], [h s, -gamma_w]] and of the momentum block [[gamma_mu, -h s], [-s, gamma_w]].
    """
    h = p.hebbian_sign
    s = np.asarray(s, dtype=float)
    state_block = _eig2_abs_max(-p.gamma_mu, s, h * s, -p.gamma_w)
    momentum_block = _eig2_abs_max(p.gamma_mu, -h * s, -s, p.gamma_w)
    return float(np.max(np.maximum(state_block, momentum_block)))


@dataclass
class BMSystem:
    """A BM model resolved to numbers: what every backend compiles from.

    Attributes
    ----------
    n : int
        Number of synapses (1 without a population).
    params : BMParams
        Arrays of shape (n,).
    y0 : ndarray, shape (4, n)
        Initial state (mu, w, p_mu, p_w).
    signal : InputSignal
        s(t): scalar t -> (n,), array t -> (len(t), n).
    seeds : dict
        The seed of every random part, by name.
    """

    n: int
    params: BMParams
    y0: np.ndarray
    signal: InputSignal
    seeds: dict


def resolve(model) -> BMSystem:
    """Resolve a validated BM model (spec IR) into a :class:`BMSystem`."""
    from ...signals import InputSignal, make_noises
    from ..common import param_values

    n = model.population.size if model.population else 1
    seed = model.seed
    values = {
        name: param_values(getattr(model.params, name), n, seed, f"params.{name}")
        for name in PARAMS
        if name != "hebbian_sign"
    }
    params = BMParams(hebbian_sign=float(model.params.hebbian_sign), **values)
    y0 = np.stack([param_values(getattr(model.initial, v), n, seed, f"initial.{v}") for v in STATE])
    noises = make_noises(model.noise, seed, n, model.time.duration)
    signal = InputSignal(model.inputs.s, noises, n)
    seeds = {"model": seed} | {f"noise.{k}": src.seed for k, src in noises.items()}
    return BMSystem(n=n, params=params, y0=y0, signal=signal, seeds=seeds)
