r"""Calibration: fine-tuning trained weights on what a target computes (``spiking.calibrate``).

The rate model's hidden unit sends rho(J). A compiled unit is an LIF neuron whose rate is the
target's curve r_t(J) (exact on Nengo; whole-step spike and refractory periods on Brian2,
``grid_lif_rates``, and on Loihi, ``Traits.lif_rates``), and a spike-count read-out sees, over a
window T, the count floor(r_t(J) T + phi) with a phase phi in [0, 1) left by the previous image.
Each hidden layer of the calibration model therefore sends

.. math:: h = \frac{a}{k} \, \frac{\lfloor r_t(J) T + \phi \rfloor}{T}, \qquad \phi \sim U[0, 1),

(a the amplitude, k ``rate_scale``; without a count read-out, :math:`a r_t(J) / k`), and the
output voltages are linear in the last one. The weights are fine-tuned from the trained ones by
minibatch gradient descent on :math:`\tfrac12 \lVert u_{out} - y \rVert^2` (y the task's targets)
over the training split only, the gradient through h taken as rho'(J) (straight through the
floor and the whole-step periods), with a step that falls linearly from eta to zero over the fit.
Phases and minibatch order come from the spiking seed, so the same seed gives the same weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...graph import Substitution
from ...seeds import rng_for, spiking_seed
from .network import structure
from .rho import make as make_rho


def target_rates(model, traits):
    r"""J -> rates (Hz) of the compiled hidden units on the target with ``traits``.

    A target with its own curve (``Traits.lif_rates``, Loihi) gives it; one that spikes and holds
    refractoriness on its step grid (``Traits.refractory_on_grid``, Brian2) the grid's curve
    (:func:`~neuromorph.graph.target.grid_lif_rates`); otherwise the LIF curve
    :math:`1 / (\tau_{ref} + \tau_{rc} \ln(1 + 1 / (J - 1)))`."""
    from ...graph.target import grid_lif_rates
    from .lower import unit_taus

    tau_rc, tau_ref = unit_taus(model)
    if traits.lif_rates is not None:
        return lambda J: traits.lif_rates(J, tau_rc, tau_ref)
    if traits.refractory_on_grid:
        dt = traits.step(model.spiking.dt)
        return lambda J: grid_lif_rates(J, tau_rc, tau_ref, dt)

    def exact(J):
        J = np.asarray(J, dtype=float)
        out = np.zeros_like(J)
        above = J > 1.0
        out[above] = 1.0 / (tau_ref + tau_rc * np.log1p(1.0 / (J[above] - 1.0)))
        return out

    return exact


def window(model) -> float | None:
    """The count read-out's window (s), or None for a read-out of filtered values."""
    sp = model.spiking
    return sp.readout_window * model.task.presentation if sp.readout == "count" else None


@dataclass(frozen=True)
class Units:
    """What a compiled hidden unit computes: ``rate`` J -> Hz on the target, ``rho`` the model's
    (for its derivative), ``scale`` amplitude / rate_scale, ``window`` the count window (s) or None."""

    rate: Callable
    rho: Callable
    scale: float
    window: float | None


def units(model, traits) -> Units:
    n = model.neuron
    rho = make_rho(n.rho, tau_rc=n.tau_rc, tau_ref=n.tau_ref, amplitude=n.amplitude, sigma=n.sigma)
    return Units(target_rates(model, traits), rho, n.amplitude / model.spiking.rate_scale, window(model))


def forward(unit: Units, mats, x, phase=None):
    """Hidden outputs per layer and output voltages for inputs ``x`` (batch, n_in); ``mats``:
    [(W, b)] per layer. ``phase``: one array per hidden layer (None: the expected count, r T)."""
    rate, rho, scale, T = unit.rate, unit.rho, unit.scale, unit.window
    h, Js, hs = x, [], [x]
    for k, (W, b) in enumerate(mats[:-1]):
        J = h @ W.T + b
        r = rate(J)
        if T is not None and phase is not None:
            r = np.floor(r * T + phase[k]) / T
        h = scale * r
        Js.append(rho(J)[1])  # rho'(J): the straight-through gradient of h
        hs.append(h)
    W, b = mats[-1]
    return hs, Js, h @ W.T + b


#: Calibrated weights by (spec, target, trained weights): a run lowers its graph more than once
#: (simulation, energy estimate), and the fit is deterministic.
_DONE: dict = {}


def calibrate(model, weights, traits):
    """(weights, substitution): ``weights`` fine-tuned for the target (layered networks); the same
    inputs give the same (cached) result."""
    key = (repr(model), traits.name, hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes()
                                                            for a in weights.arrays().values())).hexdigest())
    if key not in _DONE:
        _DONE[key] = fit(model, weights, traits)
    tuned, sub = _DONE[key]
    return tuned.copy(), sub


def fit(model, weights, traits):
    """The fine-tuning itself (see the module's docstring)."""
    from ...tasks import make_task

    cfg = model.spiking.calibrate
    st = structure(model)
    task = make_task(model)
    X, labels = task.X[task.train_idx], task.y[task.train_idx]
    Y = task.targets(labels)
    mats = [(weights.W_in[st.layers[0]].copy(), weights.b[st.layers[0]].copy())]
    for k in range(1, len(st.layers)):
        mats.append((weights.W[st.layers[k], st.layers[k - 1]].copy(), weights.b[st.layers[k]].copy()))
    rng = rng_for(spiking_seed(model), "calibrate")
    unit = units(model, traits)
    before = accuracy(unit, mats, X, labels)
    starts = range(0, len(X), cfg.batch)
    etas = iter(steps(cfg.eta, cfg.epochs * len(starts)))
    for _ in range(cfg.epochs):
        order = rng.permutation(len(X))
        for start in starts:
            idx = order[start:start + cfg.batch]
            phase = [rng.uniform(0, 1, (len(idx), W.shape[0])) for W, _ in mats[:-1]]
            step(unit, mats, X[idx], Y[idx], phase, next(etas))
    after = accuracy(unit, mats, X, labels)
    out = weights.copy()
    out.W_in[st.layers[0]], out.b[st.layers[0]] = mats[0]
    for k in range(1, len(st.layers)):
        out.W[st.layers[k], st.layers[k - 1]], out.b[st.layers[k]] = mats[k]
    T = unit.window
    seen = f"spike counts over {T * 1e3:g} ms with random phases" if T is not None else "rates"
    sub = Substitution("weights.calibrated", "the trained weights",
                       f"fine-tuned on {traits.name}'s LIF curve and {seen} ({cfg.epochs} epochs, eta {cfg.eta:g} "
                       f"falling linearly to 0, batches of {cfg.batch}, training split)",
                       "the compiled units do not compute the rate model's rho exactly; the network is fitted to "
                       "what they compute",
                       {"train_accuracy_before": before, "train_accuracy_after": after,
                        "seed": spiking_seed(model), "epochs": cfg.epochs})
    return out, sub


def steps(eta: float, n: int) -> np.ndarray:
    """The step sizes of ``n`` minibatches: eta (1 - i / n), falling linearly to zero, so the fit
    ends where the gradient's mean leads and not wherever the last minibatches' noise left it."""
    return eta * (1.0 - np.arange(n) / n)


def step(unit: Units, mats, x, y, phase, eta) -> None:
    """One gradient step on 0.5 |u_out - y|^2 (mean over the batch), in place."""
    hs, derivs, u = forward(unit, mats, x, phase)
    delta = (u - y) / len(x)
    for k in range(len(mats) - 1, -1, -1):
        W, b = mats[k]
        grad_W, grad_b = delta.T @ hs[k], delta.sum(axis=0)
        if k > 0:
            delta = (delta @ W) * derivs[k - 1]
        W -= eta * grad_W
        b -= eta * grad_b


def accuracy(unit: Units, mats, X, labels) -> float:
    """Share of samples whose largest expected output voltage is the label's."""
    return float(np.mean(forward(unit, mats, X)[2].argmax(axis=1) == labels))
