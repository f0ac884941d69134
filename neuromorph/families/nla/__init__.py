"""Neuronal least-action networks (Senn et al., eLife 2024): the maths, backend-neutral.

- :mod:`.rho` transfer functions, :mod:`.network` topology and weights,
- :mod:`.dynamics` one Euler step of Eqs 7a/7b/8 (explicit or previous-step scheme),
  the forward network and its backprop errors.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from ...errors import NeuromorphError

from . import rho as rho_functions
from .dynamics import Settings, State
from .network import Structure, Weights, init_weights, load_weights, structure


def settings(model, st: Structure) -> Settings:
    """Numeric settings of a validated model (learning rates spread over the weight masks)."""
    neuron, learning = model.neuron, model.learning
    rho = rho_functions.make(neuron.rho, tau_rc=neuron.tau_rc, tau_ref=neuron.tau_ref,
                             amplitude=neuron.amplitude, sigma=neuron.sigma)
    projections = st.projections()
    etas = learning.eta if isinstance(learning.eta, tuple) else (learning.eta,) * len(projections)
    eta_W = np.zeros((st.n, st.n))
    eta_in = np.zeros((st.n, st.n_in))
    eta_b = np.zeros(st.n)
    for (name, post, pre), eta in zip(projections, etas):
        if name in ("W1", "input"):
            eta_in[post, :] = eta
            eta_b[post] = eta if name == "W1" else 0.0
        else:
            eta_W[post, pre] = eta
            eta_b[post] = eta
    eta_W *= st.mask_W
    eta_in *= st.mask_in
    if not learning.bias:
        eta_b[:] = 0.0
    s = Settings(rho=rho, tau=neuron.tau, tau_in=neuron.tau_in, dt=model.dynamics.dt,
                 lookahead=neuron.lookahead, scheme=model.dynamics.scheme, solver=model.dynamics.solver,
                 eta_W=eta_W, eta_in=eta_in, eta_b=eta_b)
    if model.microcircuit is not None:
        from .network import microcircuit_masks

        masks = microcircuit_masks(st)
        s.beta_I = model.microcircuit.beta_I
        s.eta_IP = model.microcircuit.eta_IP * masks["W_IP"]
        s.eta_PI = model.microcircuit.eta_PI * masks["W_PI"]
    return s


def beta_vector(st: Structure, beta) -> np.ndarray:
    """(n,) nudging per neuron: ``beta`` (a number or one per output) on the outputs, 0 elsewhere."""
    out = np.zeros(st.n)
    out[st.out] = beta
    return out


def full_target(st: Structure, target_out) -> np.ndarray:
    """Targets (L, n_out) placed on the output neurons of an (L, n) array."""
    target_out = np.asarray(target_out, dtype=float)
    full = np.zeros(target_out.shape[:-1] + (st.n,))
    full[..., st.out] = target_out
    return full


__all__ = ["Settings", "State", "Structure", "Weights", "init_weights", "load_weights", "structure",
           "settings", "beta_vector", "full_target"]


class WeightsFileError(NeuromorphError):
    """A model's ``weights`` file is missing or does not fit the network."""


def weights_path(model, base_dir=None):
    """The model's ``weights`` file, relative paths taken from ``base_dir`` (the spec's folder)."""
    from pathlib import Path

    path = Path(model.weights)
    return path if path.is_absolute() or base_dir is None else Path(base_dir) / path


def model_weights(model, st: Structure, base_dir=None) -> Weights:
    """The weights a run uses: the spec's ``weights`` file if named, else the seeded initial ones."""
    if model.weights is None:
        return init_weights(model, st)
    path = weights_path(model, base_dir)
    try:
        return load_weights(path, st)
    except FileNotFoundError:
        raise WeightsFileError(f"weights: no such file {str(path)!r}") from None
    except (ValueError, OSError) as e:
        raise WeightsFileError(f"weights: {str(path)!r} {e}") from None


def alignment_angles(weights: Weights, st: Structure) -> list[float]:
    """Per hidden layer, the angle (degrees) between W_PI W_IP and B W_{l+1} (Frobenius inner
    product). The microcircuit has learned to represent the top-down input when it is near 0
    (Eq 36 of Senn et al. 2024; the paper plots the angle without giving its formula)."""
    lateral = cast(np.ndarray, weights.W_PI) @ cast(np.ndarray, weights.W_IP)  # a microcircuit's weights
    top_down = weights.B @ weights.W
    angles = []
    for layer in st.layers[:-1]:
        a, b = lateral[layer, layer], top_down[layer, layer]
        cos = np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b))
        angles.append(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))))
    return angles
