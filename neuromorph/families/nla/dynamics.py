r"""NLA dynamics (Senn et al. 2024, Eqs 7a, 7b, 8, 9-13), vectorized over lanes.

Every array of neuron quantities has shape (L, n): L independent lanes (input streams) of the
same network. With r_bar = rho(u), D = rho'(u), D2 = rho''(u):

.. math::

    \varepsilon = u - W\bar r - W_{in}\bar x - b \quad\text{(somato-basal mismatch)}

    v = C_0\,\varepsilon \;\text{(rt-DeEP: } C_0 = W^T \text{ or fixed } B\text{)}, \quad
    v = B u - W_{PI} u_I \;\text{(microcircuit, } u_I = (1-\beta_I)W_{IP}\bar r + \beta_I B_{IP} u)

    \bar e = D \odot v + \beta \odot (u^* - u) \quad\text{(Eq 7b; } \beta \text{ non-zero on outputs)}

    f = \varepsilon - \bar e, \qquad \tau\dot u = -u + W r + W_{in} r_{in} + b + e \iff
    (1 + \tau\,d/dt) f = 0 \quad\text{(Eq 7a)}

The explicit scheme solves :math:`\tau H \dot u = -f - \tau\,\partial f/\partial t` with
:math:`H = \partial f/\partial u = I - W D - \partial\bar e/\partial u`; the previous-step scheme
puts the last step's du/dt into r = r_bar + tau D du/dt and e = e_bar + tau de_bar/dt; without
look-ahead (the ablation) tau du/dt = -f. Inputs: x (raw rates) is low-pass filtered,
tau_in dx_bar/dt = x - x_bar, and the prospective input rate is r_in = x_bar + tau dx_bar/dt.
Targets u* enter through backward differences. Plasticity (Eq 8) uses the local mismatch:
dW/dt = eta eps r_bar^T, dW_in/dt = eta eps x_bar^T, db/dt = eta eps, averaged over lanes;
microcircuit: dW_IP/dt = eta_IP (u_I - W_IP r_bar) r_bar^T, dW_PI/dt = eta_PI v u_I^T.
Everything is stepped with forward Euler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, TypeGuard

import numpy as np

from .network import Structure, Weights

if TYPE_CHECKING:
    class MicrocircuitWeights(Weights):
        """Weights of a network with a microcircuit: B, W_IP, W_PI and B_IP are all set."""

        B: np.ndarray
        W_IP: np.ndarray
        W_PI: np.ndarray
        B_IP: np.ndarray


@dataclass
class Settings:
    """Numbers the step needs, resolved from a spec.

    ``beta``: (n,) nudging per neuron (zero off the outputs). ``eta_W`` (n, n), ``eta_in``
    (n, n_in), ``eta_b`` (n,): per-weight learning rates (1/s), zero where no synapse is.
    """

    rho: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]
    tau: float
    tau_in: float
    dt: float
    lookahead: bool
    scheme: str
    solver: str
    eta_W: np.ndarray
    eta_in: np.ndarray
    eta_b: np.ndarray
    beta_I: float = 0.0
    eta_IP: np.ndarray | None = None
    eta_PI: np.ndarray | None = None


@dataclass
class State:
    """Lane states: voltages, last du/dt, filtered input, last target (for its derivative)."""

    u: np.ndarray
    udot: np.ndarray
    xbar: np.ndarray
    target: np.ndarray
    t: float = 0.0
    stats: dict = field(default_factory=lambda: {"dense_fallback_steps": 0, "not_positive_definite_steps": 0})


def microcircuit(weights: Weights) -> TypeGuard[MicrocircuitWeights]:
    return weights.W_IP is not None


def feedback_matrix(weights: Weights) -> np.ndarray:
    """C0 in the layout of W.T: W.T itself (transpose) or the fixed B."""
    return weights.W.T if weights.B is None else weights.B


@dataclass
class Terms:
    """Quantities of one step (all (L, n) unless noted), at the step's start."""

    u: np.ndarray
    r_bar: np.ndarray
    D: np.ndarray
    D2: np.ndarray
    eps: np.ndarray
    v: np.ndarray
    e_bar: np.ndarray
    f: np.ndarray
    f_t: np.ndarray
    xbar: np.ndarray
    xbar_dot: np.ndarray
    u_I: np.ndarray | None = None


def terms(u, xbar, x, target, target_dot, beta, weights: Weights, s: Settings) -> Terms:
    """Rates, mismatch, errors, f and its explicit time derivative at one moment.

    ``target`` and ``target_dot`` are (L, n) with zeros off the outputs.
    """
    r_bar, D, D2 = s.rho(u)
    xbar_dot = (x - xbar) / s.tau_in
    eps = u - r_bar @ weights.W.T - xbar @ weights.W_in.T - weights.b
    eps_t = -(xbar_dot @ weights.W_in.T)
    u_I = None
    if microcircuit(weights):
        u_I = (1 - s.beta_I) * (r_bar @ weights.W_IP.T) + s.beta_I * (u @ weights.B_IP.T)
        v = u @ weights.B.T - u_I @ weights.W_PI.T
        v_t = np.zeros_like(v)
    else:
        C0 = feedback_matrix(weights)
        v = eps @ C0.T
        v_t = eps_t @ C0.T
    e_bar = D * v + beta * (target - u)
    e_bar_t = D * v_t + beta * target_dot
    return Terms(u, r_bar, D, D2, eps, v, e_bar, eps - e_bar, eps_t - e_bar_t, xbar, xbar_dot, u_I)


def coupling(weights: Weights, s: Settings):
    """(C0, C1) with dv/du = C0 - C1 diag(D): the error pathway's Jacobian factors."""
    if microcircuit(weights):
        C0 = weights.B - s.beta_I * (weights.W_PI @ weights.B_IP)
        C1 = (1 - s.beta_I) * (weights.W_PI @ weights.W_IP)
        return C0, C1
    C0 = feedback_matrix(weights)
    return C0, C0 @ weights.W


def hessian_times(w, q: Terms, beta, weights: Weights, C0, C1):
    """H w for (L, n) arrays w, with H = I - W D - d(e_bar)/du."""
    dv = w @ C0.T - (q.D * w) @ C1.T
    je = q.D2 * q.v * w + q.D * dv - beta * w
    return w - (q.D * w) @ weights.W.T - je


def hessian(q: Terms, beta, weights: Weights, C0, C1) -> np.ndarray:
    """H as a stack of (L, n, n) matrices:
    H = I - W D - D (C0 - C1 D) - diag(D2 v) + diag(beta), built in place."""
    n = q.D.shape[1]
    Dc = q.D[:, None, :]
    H = C1[None] * Dc
    H -= C0[None]
    H *= q.D[:, :, None]
    H -= weights.W[None] * Dc
    idx = np.arange(n)
    H[:, idx, idx] += 1.0 - q.D2 * q.v + beta
    return H


def solve_dense(H: np.ndarray, g: np.ndarray, symmetric: bool, state: State) -> np.ndarray:
    """Solve H x = g per lane: Cholesky when H should be symmetric positive definite, else LU.

    A Cholesky failure (H not positive definite) is counted in ``state.stats`` and the step is
    solved by LU instead.
    """
    if symmetric:
        try:
            Lc = np.linalg.cholesky(H)
            y = np.linalg.solve(Lc, g[..., None])
            return np.linalg.solve(np.swapaxes(Lc, -1, -2), y)[..., 0]
        except np.linalg.LinAlgError:
            state.stats["not_positive_definite_steps"] += 1
    return np.linalg.solve(H, g[..., None])[..., 0]


def _series(step, x, depth):
    """sum_{k < depth} step^k x (exact inverse of I - step for a nilpotent step)."""
    total, term = x, x
    for _ in range(depth - 1):
        term = step(term)
        total = total + term
    return total


def solve_layered(q: Terms, beta, weights: Weights, st: Structure, g: np.ndarray, guess=None) -> np.ndarray | None:
    """Solve H x = g for a layered rt-DeEP network without forming H.

    H = (I - D C0)(I - W D) + diag(beta) + diag(-D2 v). Both factors are unit triangular with
    nilpotent off-diagonal parts, so their inverses are finite Neumann series; diag(beta)
    (outputs only) is added by the Woodbury identity, and the diagonal rho'' term by fixed-point
    refinement started from ``guess`` (e.g. the last step's solution). Returns None if the
    refinement does not converge (the caller then solves densely).
    """
    depth, D, W = st.depth, q.D, weights.W
    C0 = feedback_matrix(weights)

    def a_inv(vec):  # (L, n)
        up = _series(lambda y: D * (y @ C0.T), vec, depth)
        return _series(lambda y: (D * y) @ W.T, up, depth)

    nudged = np.flatnonzero(beta)
    if nudged.size:
        lanes, n, m = D.shape[0], D.shape[1], nudged.size
        Dt = D.T[:, :, None]  # neuron-first layout (n, L, m): one matrix product per series term
        E = np.zeros((n, lanes, m))
        E[nudged, :, np.arange(m)] = 1.0
        up = _series(lambda y: Dt * (C0 @ y.reshape(n, -1)).reshape(n, lanes, m), E, depth)
        Y = _series(lambda y: (W @ (Dt * y).reshape(n, -1)).reshape(n, lanes, m), up, depth)
        Y = Y.transpose(1, 0, 2)  # (L, n, m)
        K_inv = np.linalg.inv(Y[:, nudged, :] + np.diag(1.0 / beta[nudged])[None])

    def ab_inv(vec):  # (A + diag(beta))^-1 vec
        y = a_inv(vec)
        if not nudged.size:
            return y
        return y - (Y @ (K_inv @ y[:, nudged, None]))[..., 0]

    d = -q.D2 * q.v
    if not np.any(d):
        return ab_inv(g)
    x = ab_inv(g - d * guess) if guess is not None else ab_inv(g)
    for _ in range(60):
        new = ab_inv(g - d * x)
        if np.max(np.abs(new - x)) <= 1e-12 * (1.0 + np.max(np.abs(new))):
            return new
        x = new
    return None


def explicit_udot(q: Terms, beta, weights: Weights, st: Structure, s: Settings, state: State) -> np.ndarray:
    """du/dt from tau H du/dt = -f - tau df/dt."""
    g = -q.f / s.tau - q.f_t
    transpose = weights.B is None and not microcircuit(weights)
    use_layered = s.solver == "layered" or (s.solver == "auto" and st.layered and not microcircuit(weights))
    if use_layered and st.layered and not microcircuit(weights):
        x = solve_layered(q, beta, weights, st, g, guess=state.udot)
        if x is not None:
            return x
        state.stats["dense_fallback_steps"] += 1
    C0, C1 = coupling(weights, s)
    return solve_dense(hessian(q, beta, weights, C0, C1), g, transpose, state)


def udot(q: Terms, beta, weights: Weights, st: Structure, s: Settings, state: State) -> np.ndarray:
    """du/dt by the configured scheme (look-ahead off: tau du/dt = -f)."""
    if not s.lookahead:
        return -q.f / s.tau
    if s.scheme == "explicit":
        return explicit_udot(q, beta, weights, st, s, state)
    C0, C1 = coupling(weights, s)
    prev = state.udot
    return -q.f / s.tau - q.f_t + prev - hessian_times(prev, q, beta, weights, C0, C1)


def plasticity(q: Terms, weights: Weights, s: Settings) -> dict:
    """Weight derivatives (1/s), averaged over lanes (Eq 8 and Eqs 11-12)."""
    lanes = q.eps.shape[0]
    out = {
        "W": s.eta_W * (q.eps.T @ q.r_bar) / lanes,
        "W_in": s.eta_in * (q.eps.T @ q.xbar) / lanes,
        "b": s.eta_b * q.eps.mean(axis=0),
    }
    if microcircuit(weights):
        inter_err = q.u_I - q.r_bar @ weights.W_IP.T
        out["W_IP"] = s.eta_IP * (inter_err.T @ q.r_bar) / lanes
        out["W_PI"] = s.eta_PI * (q.v.T @ q.u_I) / lanes
    return out


def weight_drift(q: Terms, grads: dict, weights: Weights, s: Settings) -> np.ndarray:
    """The part of df/dt that comes from the weights changing (dW/dt terms of the explicit
    equation); negligible for small learning rates, kept so f still decays when they are not."""
    eps_t = -(q.r_bar @ grads["W"].T + q.xbar @ grads["W_in"].T + grads["b"])
    if microcircuit(weights):
        u_I_t = (1 - s.beta_I) * (q.r_bar @ grads["W_IP"].T)
        v_t = -(q.u_I @ grads["W_PI"].T) - u_I_t @ weights.W_PI.T
    else:
        v_t = eps_t @ feedback_matrix(weights).T
        if weights.B is None:  # transpose feedback: the feedback weights change too
            v_t = v_t + q.eps @ grads["W"]
    return eps_t - q.D * v_t


def step(state: State, x, target, beta, weights: Weights, st: Structure, s: Settings, learn: bool) -> Terms:
    """Advance every lane by one step of dt; update weights in place when ``learn``.

    ``x``: (L, n_in) raw input rates during this step; ``target``: (L, n) target voltages (zero
    off the outputs). Returns the step's :class:`Terms` (quantities at the start of the step).
    """
    target_dot = (target - state.target) / s.dt
    q = terms(state.u, state.xbar, x, target, target_dot, beta, weights, s)
    grads = plasticity(q, weights, s) if learn else None
    if grads is not None and s.scheme == "explicit":
        q.f_t = q.f_t + weight_drift(q, grads, weights, s)
    du = udot(q, beta, weights, st, s, state)
    if grads is not None:
        for name, rate in grads.items():
            getattr(weights, name)[...] += s.dt * rate
    state.u = state.u + s.dt * du
    state.udot = du
    state.xbar = state.xbar + s.dt * q.xbar_dot
    state.target = target
    state.t += s.dt
    return q


def forward(weights: Weights, st: Structure, rho, xbar) -> np.ndarray:
    """The purely forward network u = W rho(u) + W_in x_bar + b (no errors), solved by
    substitution (exact after ``depth`` passes for a layered network)."""
    base = xbar @ weights.W_in.T + weights.b
    u = base.copy()
    for _ in range(st.depth or 1):
        u = base + rho(u)[0] @ weights.W.T
    return u


def backprop_errors(weights: Weights, st: Structure, rho, u, target_full, out_mask) -> np.ndarray:
    """Backprop deltas of the forward network: delta_out = u* - u, delta_l = rho'(u_l) W^T delta.

    ``target_full`` (L, n), ``out_mask`` (n,) bool. These equal -dC/du_l for C = 1/2 ||u* - u_out||^2.
    """
    D = rho(u)[1]
    top = (target_full - u) * out_mask
    delta = top.copy()
    for _ in range(st.depth or 1):
        delta = top + D * (delta @ weights.W) * ~out_mask
    return delta
