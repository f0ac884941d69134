"""A pc network's weights and its layered feed-forward form.

At its fixed point without a target, a predictive coding network rests on the feed-forward pass
x_l = W_l f(x_{l-1}) + b_l: the same layered rate network as an ``nla`` network at rest without
nudging. So a pc model's weights are held as ``nla`` weights of that layered network
(:class:`~neuromorph.families.nla.network.Weights`: one global W, W_in, b), and what needs the
layered network's shape (structure, weight files, the lowering to spiking neurons, the digits
task) reads :func:`layered_view`, an ``nla`` model of the same layers, neurons, task and spiking
settings.
"""

from __future__ import annotations

from functools import lru_cache

from ...spec import nla as nla_spec
from ..nla import rho as rho_functions
from ..nla.network import Structure, Weights, structure


@lru_cache(maxsize=32)
def layered_view(model) -> nla_spec.NLAModel:
    """The ``nla`` model whose rest state is ``model``'s feed-forward pass (same seed, weights
    file, task, neurons and spiking settings; no look-ahead, no nudging)."""
    n, lr = model.neuron, model.learning
    neuron = nla_spec.Neuron(rho=n.rho, tau=n.tau, tau_in=n.tau_in, tau_rc=n.tau_rc, tau_ref=n.tau_ref,
                             amplitude=n.amplitude, sigma=n.sigma, lookahead=False)
    learning = nla_spec.Learning(beta=0.0, bias=lr.bias, init=lr.init, bias_init=lr.bias_init, lanes=lr.lanes)
    return nla_spec.NLAModel(format_version=1, family="nla", name=model.name, network=nla_spec.Network(
        layers=model.network.layers), task=model.task, neuron=neuron, learning=learning,
        dynamics=nla_spec.Dynamics(dt=model.dynamics.dt, scheme="previous_step"), weights=model.weights,
        spiking=model.spiking, record=model.record, seed=model.seed)


def layers_of(model) -> Structure:
    return structure(layered_view(model))


def blocks(weights: Weights, st: Structure) -> tuple[list, list]:
    """([W_1, ..., W_L], [b_1, ..., b_L]): views into ``weights`` (writing them writes it)."""
    Ws = [weights.W_in[st.layers[0]]] + [weights.W[post, pre] for pre, post in zip(st.layers[:-1], st.layers[1:])]
    return Ws, [weights.b[layer] for layer in st.layers]


def transfer(model):
    """f: x -> (f, f', f'') of the model's neurons."""
    n = model.neuron
    return rho_functions.make(n.rho, tau_rc=n.tau_rc, tau_ref=n.tau_ref, amplitude=n.amplitude, sigma=n.sigma)
