r"""Predictive coding networks (Song, Lukasiewicz, Xu & Bogacz, NeurIPS 2020): the maths, batched.

Layers are counted from the input: x_0 (clamped to the data), x_1, ..., x_L (the output), with
weights W_l (n_l x n_{l-1}) and biases b_l, l = 1..L. Arrays hold a minibatch: x_l is (B, n_l).

- predictions :math:`\mu_l = W_l g_{l-1}(x_{l-1}) + b_l`, with g_0 the identity (the input
  layer carries rates already, as in ``nla``) and g_l = f for l >= 1;
- errors :math:`\varepsilon_l = x_l - \mu_l`, energy :math:`F = \sum_l \tfrac12 \|\varepsilon_l\|^2`;
- inference (gradient descent on F, one Euler step of ``gamma``):
  :math:`x_l \leftarrow x_l + \gamma\,(-\varepsilon_l + f'(x_l) \odot W_{l+1}^T \varepsilon_{l+1})`
  for the hidden layers; the input is clamped, the output clamped (learning) or free
  (:math:`x_L \leftarrow x_L - \gamma \varepsilon_L`, inference);
- weight updates (descent directions, minibatch means):
  :math:`\Delta W_l = \langle \varepsilon_l\, g_{l-1}(x_{l-1})^T \rangle`,
  :math:`\Delta b_l = \langle \varepsilon_l \rangle`.

Where ours differ from the paper: the paper counts layers from the output (x^0 is the output)
and applies f to every layer, the input included; its Z-IL updates layer l at t = l, which is
t = L - l here. Z-IL's updates are taken at their steps and applied together after the L steps,
as backprop applies a minibatch's gradient: inference then runs on the weights the minibatch
started with, which is what makes every update equal backprop's gradient (Theorem 1 there).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

#: f: x -> (f(x), f'(x), ...) as in :mod:`neuromorph.families.nla.rho`.
Transfer = Callable[[np.ndarray], tuple]


def presynaptic(x: np.ndarray, layer: int, f: Transfer) -> np.ndarray:
    """g_layer(x): the rates layer ``layer`` sends (identity for the input layer)."""
    return x if layer == 0 else f(x)[0]


def forward(Ws: Sequence, bs: Sequence, x0: np.ndarray, f: Transfer) -> list:
    """The feed-forward pass [x_0, ..., x_L] (where the value nodes rest without a target)."""
    xs = [np.asarray(x0, dtype=float)]
    for k, (W, b) in enumerate(zip(Ws, bs)):
        xs.append(presynaptic(xs[-1], k, f) @ W.T + b)
    return xs


def errors(Ws: Sequence, bs: Sequence, xs: list, f: Transfer) -> list:
    """[None, eps_1, ..., eps_L]."""
    return [None] + [xs[k + 1] - (presynaptic(xs[k], k, f) @ W.T + b) for k, (W, b) in enumerate(zip(Ws, bs))]


def relax(Ws: Sequence, xs: list, eps: list, f: Transfer, gamma: float, free_output: bool = False,
          top: float = 1.0) -> list:
    """One inference step from ``xs`` with its errors ``eps`` (all layers from the same state);
    ``top``: the weight of the output error in the energy (its precision)."""
    L = len(Ws)
    out = [xs[0]]
    for k in range(1, L):
        above = eps[k + 1] * (top if k + 1 == L else 1.0)
        out.append(xs[k] + gamma * (-eps[k] + f(xs[k])[1] * (above @ Ws[k])))
    out.append(xs[L] - gamma * eps[L] if free_output else xs[L])
    return out


def layer_update(xs: list, eps: list, layer: int, f: Transfer) -> tuple:
    """(Delta W_layer, Delta b_layer): minibatch means of eps_l g(x_{l-1})^T and eps_l (layer >= 1)."""
    e = eps[layer]
    return e.T @ presynaptic(xs[layer - 1], layer - 1, f) / len(e), e.mean(axis=0)


def z_il(Ws: Sequence, bs: Sequence, x0, y, f: Transfer, gamma: float = 1.0,
         update_steps: Sequence[int] | None = None) -> tuple[list, list]:
    """Zero-divergence inference learning on one minibatch: (Delta W, Delta b) per layer.

    Value nodes start at the feed-forward pass with the output clamped to ``y``; inference runs
    with step ``gamma``; the update of layer l is taken at step ``update_steps[l - 1]`` (default
    L - l, Z-IL's schedule: the step at which the output error, travelling down one layer per
    step, reaches layer l). With gamma = 1 and that schedule every update equals backprop's.
    """
    L = len(Ws)
    at = [L - (k + 1) for k in range(L)] if update_steps is None else list(update_steps)
    xs = forward(Ws, bs, x0, f)
    xs[L] = np.asarray(y, dtype=float)
    dW: list = [None] * L
    db: list = [None] * L
    for t in range(max(at) + 1):
        eps = errors(Ws, bs, xs, f)
        for k in range(L):
            if at[k] == t:
                dW[k], db[k] = layer_update(xs, eps, k + 1, f)
        xs = relax(Ws, xs, eps, f, gamma)
    return dW, db


def equilibrium(Ws: Sequence, bs: Sequence, x0, y, f: Transfer, gamma: float, steps: int,
                clamp: float = 1.0) -> tuple[list, list]:
    r"""Equilibrium predictive coding on one minibatch: (Delta W, Delta b) per layer.

    The output is clamped to ``y`` and its error enters the energy with weight c = ``clamp``
    (its precision), :math:`F = \sum_{l<L} \tfrac12\|\varepsilon_l\|^2 + \tfrac{c}{2}
    \|\varepsilon_L\|^2`; the hidden layers relax ``steps`` steps of ``gamma`` and every layer
    moves down :math:`\partial F/\partial W_l` divided by c:
    :math:`\Delta W_L = \langle\varepsilon_L g^T\rangle`,
    :math:`\Delta W_l = \langle\varepsilon_l g^T\rangle / c` (l < L). c = 1 is the classical
    clamp. As c -> 0 the target pulls the hidden layers ever less: eps_L -> y - x_L and
    eps_l / c -> backprop's delta_l, so the update tends to backprop's gradient.
    """
    L = len(Ws)
    xs = forward(Ws, bs, x0, f)
    xs[L] = np.asarray(y, dtype=float)
    for _ in range(steps):
        xs = relax(Ws, xs, errors(Ws, bs, xs, f), f, gamma, top=clamp)
    eps = errors(Ws, bs, xs, f)
    pairs = [layer_update(xs, eps, k + 1, f) for k in range(L)]
    scale = [1.0 / clamp] * (L - 1) + [1.0]
    return [w * s for (w, _), s in zip(pairs, scale)], [b * s for (_, b), s in zip(pairs, scale)]


def backprop(Ws: Sequence, bs: Sequence, x0, y, f: Transfer) -> tuple[list, list]:
    r"""Backprop's descent directions of :math:`C = \tfrac12 \|y - x_L\|^2` (minibatch mean):
    :math:`\delta_L = y - x_L`, :math:`\delta_l = f'(x_l) \odot W_{l+1}^T \delta_{l+1}`."""
    L = len(Ws)
    xs = forward(Ws, bs, x0, f)
    delta = np.asarray(y, dtype=float) - xs[L]
    dW: list = [None] * L
    db: list = [None] * L
    for k in range(L - 1, -1, -1):
        dW[k] = delta.T @ presynaptic(xs[k], k, f) / len(delta)
        db[k] = delta.mean(axis=0)
        if k:
            delta = f(xs[k])[1] * (delta @ Ws[k])
    return dW, db


def timed_step(Ws: Sequence, bs: Sequence, xs: list, f: Transfer, dt_over_tau: float) -> list:
    """One Euler step of the timed inference :math:`\\tau\\,dx_l/dt = -\\varepsilon_l + f'(x_l) \\odot
    W_{l+1}^T \\varepsilon_{l+1}`, output free (``xs[0]``: the input, held)."""
    return relax(Ws, xs, errors(Ws, bs, xs, f), f, dt_over_tau, free_output=True)
