"""ODE integration for the rate reference: fixed-step Euler and RK4, and scipy's adaptive solver.

All take ``rhs(t, y) -> dy/dt`` with ``y`` an array of any shape, times in seconds, and
return the recorded times and states. Recording keeps every ``every``-th step and only the
selected rows of ``y`` (``select``), so a population of many synapses need not keep its
whole history.
"""

from __future__ import annotations

import numpy as np


def euler_step(rhs, t: float, y: np.ndarray, dt: float) -> np.ndarray:
    """y(t + dt) = y + dt f(t, y)."""
    return y + dt * rhs(t, y)


def rk4_step(rhs, t: float, y: np.ndarray, dt: float) -> np.ndarray:
    """Classical fourth-order Runge-Kutta step (local error O(dt^5))."""
    k1 = rhs(t, y)
    k2 = rhs(t + dt / 2, y + dt / 2 * k1)
    k3 = rhs(t + dt / 2, y + dt / 2 * k2)
    k4 = rhs(t + dt, y + dt * k3)
    return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


STEPPERS = {"euler": euler_step, "rk4": rk4_step}


def integrate_fixed(rhs, y0, dt: float, n_steps: int, method: str = "rk4", every: int = 1, select=None, progress=None):
    """Integrate with a fixed step.

    Parameters
    ----------
    rhs : callable ``(t, y) -> dy/dt``
    y0 : ndarray
        Initial state; rows ``y0[select]`` are recorded.
    dt : float
        Step (s).
    n_steps : int
        Number of steps; the run covers [0, n_steps*dt].
    method : {'rk4', 'euler'}
    every : int
        Record every ``every``-th step (the initial state is always recorded).
    select : index, optional
        Rows of the state to record (default: all).
    progress : callable, optional
        Called with the number of steps done since the last call.

    Returns
    -------
    t : ndarray, shape (n_rec,)
    ys : ndarray, shape (n_rec, *y0[select].shape)
    """
    step = STEPPERS[method]
    select = slice(None) if select is None else select
    y = np.array(y0, dtype=float)
    n_rec = n_steps // every + 1
    ys = np.empty((n_rec,) + y[select].shape)
    ys[0] = y[select]
    report = max(1, n_steps // 200)
    for k in range(1, n_steps + 1):
        y = step(rhs, (k - 1) * dt, y, dt)
        if k % every == 0:
            ys[k // every] = y[select]
        if progress is not None and k % report == 0:
            progress(report)
    t = np.arange(n_rec) * (every * dt)
    return t, ys


def integrate_adaptive(rhs, y0, t_record, method: str = "DOP853", rtol: float = 1e-8, atol: float = 1e-10, select=None):
    """Integrate with scipy's adaptive ``solve_ivp``, output at ``t_record`` (s).

    Returns the same ``(t, ys)`` as :func:`integrate_fixed`.
    """
    from scipy.integrate import solve_ivp

    y0 = np.array(y0, dtype=float)
    shape = y0.shape
    select = slice(None) if select is None else select

    def flat_rhs(t, y):
        return rhs(t, y.reshape(shape)).reshape(-1)

    sol = solve_ivp(flat_rhs, (t_record[0], t_record[-1]), y0.reshape(-1), method=method, t_eval=t_record, rtol=rtol,
                    atol=atol)
    if not sol.success:
        raise RuntimeError(f"scipy solve_ivp ({method}) failed: {sol.message}")
    ys = sol.y.T.reshape((len(t_record),) + shape)
    return np.asarray(sol.t), ys[(slice(None),) + (select if isinstance(select, tuple) else (select,))]
