"""pc networks lowered to the spiking network graph: the inference network at its fixed point.

Without a target the value nodes rest on the feed-forward pass x_l = W_l f(x_{l-1}) + b_l, and
the errors eps_l vanish. The spiking network computes that pass neuron by neuron: the layered
mapping of :mod:`neuromorph.families.nla.lower` (each hidden unit a spiking neuron whose rate
stands for f(x), inputs as spike trains, outputs read out linearly), applied to
:func:`~neuromorph.families.pc.network.layered_view`, with the same spiking settings and
latency choices. The error nodes and the weight updates are not compiled (recorded).
"""

from __future__ import annotations

from dataclasses import replace

from ...graph import Graph, Substitution
from ..nla import lower as nla_lower
from .network import layered_view

PC_INFERENCE = Substitution("pc.fixed_point", "predictive coding: value nodes, error nodes and the inference "
                           "dynamics (and the weight updates)", "the feed-forward pass the inference rests on",
                           "without a target the errors vanish at the fixed point, where x_l = W_l f(x_{l-1}) + b_l: "
                           "the spiking network runs that pass with the trained weights (inference)")


def lower(model, weights, traits, copies: int = 1, nudging=None) -> Graph:
    """The neuron-level spiking network of a pc model at its fixed point (``copies`` lanes)."""
    if nudging is not None:
        from ..base import UnsupportedModel

        raise UnsupportedModel("pc networks learn from minibatches on the rate backend, not in spikes")
    graph = nla_lower.lower(layered_view(model), weights, traits, copies)
    subs = [PC_INFERENCE if s.id == "nla.inference_only" else s for s in graph.substitutions]
    return replace(graph, substitutions=tuple(subs))
