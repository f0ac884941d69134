r"""Layered NLA networks lowered to the spiking network graph, neuron by neuron (inference with
trained weights).

Input unit j with rate x_j in [0, 1] (the Input node ``x``) is encoded as a Poisson train at
x_j * ``spiking.input_rate``; hidden unit i is an LIF neuron (tau_rc, tau_ref, threshold 1) with
current

    J_i = b_i + sum_j W_ij s_j a_j(t),

a_j the alpha-filtered spike train of presynaptic neuron j (Hz) and s_j its rate scale (the
model's amplitude for LIF units, 1 / input_rate for inputs), so a neuron firing at r(J) stands for
rho(u) = amplitude r(u) of the rate model. The output voltages are read out from the last hidden
layer's alpha-filtered spikes, u_out = b_out + W_out amplitude a(t), by the read-out ``out`` (LI,
tau = 0, on the host). Probe ``u_out``.
"""

from __future__ import annotations

import numpy as np

from ...graph import LI, LIF, Alpha, Connection, Graph, Input, PoissonEncoder, Probe, Substitution
from ...seeds import rng_for, spiking_seed
from ..base import UnsupportedModel
from .network import structure


def layer_names(st) -> list:
    return [f"h{k + 1}" for k in range(len(st.layers) - 1)] + ["out"]


def substitutions(model) -> list:
    n, sp = model.neuron, model.spiking
    subs = []
    if n.rho == "soft_lif":
        subs.append(Substitution("rho.soft_lif", f"soft-LIF rate curve (sigma = {n.sigma:g})",
                                 "LIF neurons with a hard threshold", "spiking neurons have the LIF curve"))
    elif n.rho != "lif":
        subs.append(Substitution("rho.no_lif_curve", f"rho = {n.rho}", "LIF neurons",
                                 f"{n.rho} has no LIF rate curve; the network was not trained for LIF"))
    subs.append(Substitution("input.tau_in", f"tau_in = {n.tau_in * 1e3:g} ms low-pass of the input rates",
                             f"the input synapse's filter (alpha, tau = {sp.tau_syn * 1e3:g} ms)",
                             "the spike trains must be filtered anyway"))
    subs.append(Substitution("nla.inference_only", "NLA error dynamics and plasticity", "not run",
                             "the spiking network runs rate-trained weights (inference)"))
    return subs


def scales(model, st) -> list:
    """Rate scale of each projection's presynaptic units: 1 / input_rate, then the amplitude."""
    return [1.0 / model.spiking.input_rate] + [model.neuron.amplitude] * (len(st.layers) - 1)


def lower(model, weights, traits, copies: int = 1) -> Graph:
    """The neuron-level spiking network of a layered NLA model (``copies`` lanes)."""
    st = structure(model)
    if not st.layered:
        raise UnsupportedModel("the neuron-level mapping needs a layered network (network.layers)")
    if weights.W_IP is not None:
        raise UnsupportedModel("microcircuit models are not mapped to spikes; their forward weights could be")
    sp, neuron = model.spiking, model.neuron
    names = layer_names(st)
    nodes = {"x": Input(st.n_in), "input": PoissonEncoder(st.n_in, sp.input_rate)}
    edges = [Connection("x", "input", 1.0)]
    pre, syn = "input", Alpha(sp.tau_syn)
    for k, (name, layer, scale) in enumerate(zip(names, st.layers, scales(model, st))):
        size = layer.stop - layer.start
        W = weights.W_in[layer] if k == 0 else weights.W[layer, st.layers[k - 1]]
        if name == "out":
            nodes[name] = LI(size, tau=0.0, bias=weights.b[layer])
        else:
            v0 = rng_for(spiking_seed(model), "spiking", "v0", name).uniform(0, 1, (copies, size))
            nodes[name] = LIF(size, neuron.tau_rc, neuron.tau_ref, bias=weights.b[layer], v0=v0, v_min=0.0)
        edges.append(Connection(pre, name, W * scale, syn))
        pre = name
    notes = [f"neuron-level mapping: each hidden unit is an LIF neuron (tau_rc = {neuron.tau_rc:g} s, tau_ref = "
             f"{neuron.tau_ref:g} s), inputs fire at x * {sp.input_rate:g} Hz, synapses are alpha filters "
             f"(tau = {sp.tau_syn * 1e3:g} ms), output voltages are read out linearly from filtered spikes on the host"]
    return Graph(name=model.name, nodes=nodes, edges=tuple(edges), probes={"u_out": Probe("out", "value")},
                 dt=sp.dt, copies=copies, substitutions=tuple(substitutions(model)), notes=tuple(notes))


def weights_from_graph(model, graph: Graph, weights, edges=None):
    """``weights`` with the forward weights the graph's edges hold (divided by the rate scales the
    lowering multiplied them with); ``edges``: indices of the edges to read (default: all)."""
    st = structure(model)
    out = weights.copy()
    names = layer_names(st)
    for k, (name, layer, scale) in enumerate(zip(names, st.layers, scales(model, st))):
        source = "input" if k == 0 else names[k - 1]
        (index,) = [i for i, e in enumerate(graph.edges) if e.target == name and e.source == source]
        if edges is not None and index not in edges:
            continue
        W = np.asarray(graph.edges[index].weights) / scale
        if k == 0:
            out.W_in[layer] = W
        else:
            out.W[layer, st.layers[k - 1]] = W
    return out
