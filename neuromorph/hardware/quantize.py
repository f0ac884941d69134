r"""Weights as a chip stores them, applied to the rate model too, so that a comparison separates
quantization loss from spiking loss. Works on the model's network graph legalized for the chip.

Shared-scale rule (``weights.shared_exponent: per core``, b bits with sign): within one core
(block of at most ``core.neurons`` neurons of a population) all incoming weights of a projection
share a scale; with w_max = max |w| over the block, a weight is stored as q = round(w / step)
clipped to +-(2^(b-1) - 1), step = w_max / (2^(b-1) - 1/2), and realized as q step. For a profile
with a simulator that builds for the chip (``simulator``, Loihi 1: NengoLoihi), the realized
weights come from that simulator's own discretization. Only weights into on-chip neurons are
quantized: read-outs to the host stay float.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..graph import Connection


def quantize_block(W: np.ndarray, bits: int) -> np.ndarray:
    """W (rows: the block's neurons) with one shared scale, ``bits`` bits with sign."""
    w_max = float(np.max(np.abs(W))) if W.size else 0.0
    if w_max == 0.0:
        return W.copy()
    top = 2 ** (bits - 1) - 1
    step = w_max / (top + 0.5)
    return np.clip(np.round(W / step), -top, top) * step


def rows_per_core(profile, n: int) -> list:
    """Row slices of a population of n neurons, one per core (as the population is split)."""
    limit = profile.core.neurons.value or n
    k = -(-n // limit)
    size = -(-n // k)
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def on_chip_edges(graph) -> list:
    """Indices of the dense spiking projections into on-chip neurons."""
    return [k for k, e in enumerate(graph.edges) if isinstance(e, Connection) and e.into == "neurons"
            and e.target in graph.neurons() and graph.nodes[e.source].spiking]


def realized(graph, profile) -> dict:
    """{edge index: realized weights} of every on-chip projection of ``graph`` on ``profile``'s chip."""
    bits = profile.weights.bits.value
    if not isinstance(bits, int) or bits >= 32:
        return {}
    if profile.simulator:
        from .. import backends

        found = backends.get(profile.simulator).realized_weights(graph)
        if found is not None:
            return found
    out = {}
    for k in on_chip_edges(graph):
        edge = graph.edges[k]
        post, pre = graph.nodes[edge.target].size, graph.nodes[edge.source].size
        W = np.array(edge.matrix(post, pre), dtype=float)
        for rows in rows_per_core(profile, post):
            W[rows] = quantize_block(W[rows], bits)
        out[k] = W
    return out


def quantize_graph(graph, profile):
    """(``graph`` with every on-chip projection's weights as the chip realizes them, the indices
    of the edges that changed)."""
    found = realized(graph, profile)
    edges = tuple(dataclasses.replace(e, weights=found[k]) if k in found else e for k, e in enumerate(graph.edges))
    return graph.replace(edges=edges), set(found)


def relative_error(graph, profile) -> float:
    """Relative rms error of the quantized on-chip weights of ``graph``."""
    found = realized(graph, profile)
    if not found:
        return 0.0
    ref = np.concatenate([np.asarray(graph.edges[k].matrix(*found[k].shape)).ravel() for k in found])
    new = np.concatenate([found[k].ravel() for k in found])
    return float(np.sqrt(np.mean((new - ref) ** 2)) / np.sqrt(np.mean(ref**2))) if ref.size else 0.0


def quantized_weights(model, profile, base_dir=None):
    """The model's trained weights with the on-chip ones as ``profile``'s chip realizes them."""
    from .. import backends, families
    from .target import graphs

    family = families.of(model)
    if profile.simulator:
        graph = backends.get(profile.simulator).compile(model, base_dir).graph
    else:
        graph = graphs(model, profile, base_dir)[1]
    quantized, changed = quantize_graph(graph, profile)
    return family.weights_from_graph(model, quantized, family.weights(model, base_dir), changed)
