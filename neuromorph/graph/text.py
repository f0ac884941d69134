"""A graph as text a person reads first: nodes with their parameters, edges with weights and
synapses, probes, substitutions (what ``neuromorph compile`` prints)."""

from __future__ import annotations

import numpy as np

from .edges import Decoded, synapse_name
from .network import Graph
from .nodes import (IF, LI, LIF, BernoulliEncoder, CubaLIF, Host, Input, Integrator, PoissonEncoder, RegularEncoder,
                    Signal)


def _stat(value) -> str:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return f"{float(arr):.4g}"
    if arr.size and np.all(arr == arr.flat[0]):
        return f"{float(arr.flat[0]):.4g} (all)"
    return f"[{arr.min():.3g}, {arr.max():.3g}] ({arr.size} values)"


def node_line(name: str, node) -> str:
    kind = type(node).__name__
    if isinstance(node, LIF):
        extra = f", encoders {node.encoders.shape[1]}-d" if node.encoders is not None else ""
        return (f"{name}: LIF x {node.size} (tau_rc {node.tau_rc * 1e3:g} ms, tau_ref {node.tau_ref * 1e3:g} ms, "
                f"threshold {node.threshold:g}, reset {node.reset_mode} to {node.reset:g}, bias {_stat(node.bias)}"
                f"{extra})")
    if isinstance(node, IF):
        return (f"{name}: IF x {node.size} (tau {node.tau * 1e3:g} ms, tau_ref {node.tau_ref * 1e3:g} ms, "
                f"threshold {node.threshold:g}, reset {node.reset_mode}, bias {_stat(node.bias)})")
    if isinstance(node, CubaLIF):
        return (f"{name}: CubaLIF x {node.size} (tau_syn {node.tau_syn * 1e3:g} ms, tau_rc {node.tau_rc * 1e3:g} ms, "
                f"threshold {node.threshold:g}, reset {node.reset_mode} to {node.reset:g}, bias {_stat(node.bias)})")
    if isinstance(node, LI):
        return f"{name}: LI x {node.size} (tau {node.tau * 1e3:g} ms, bias {_stat(node.bias)})"
    if isinstance(node, Integrator):
        return f"{name}: Integrator x {node.size} (gain {node.gain:g}, bias {_stat(node.bias)}: a spike-count read-out)"
    if isinstance(node, (PoissonEncoder, BernoulliEncoder, RegularEncoder)):
        return f"{name}: {kind} x {node.size} (max rate {node.max_rate:g} Hz)"
    if isinstance(node, Input):
        return f"{name}: Input x {node.size} ({node.kind}, supplied per run)"
    if isinstance(node, Signal):
        return f"{name}: Signal x {node.size} ({node.values.shape[0]} samples every {node.dt * 1e3:g} ms, host)"
    if isinstance(node, Host):
        return f"{name}: Host x {node.size} ({node.function})"
    return f"{name}: {kind} x {node.size}"


def edge_line(edge, graph: Graph) -> str:
    syn = synapse_name(edge.synapse)
    primed = ", primed" if edge.history is not None else ""
    if isinstance(edge, Decoded):
        return f"{edge.source} => {edge.target}: decoded {edge.dimensions}-d, synapse {syn}{primed}"
    pre, post = graph.nodes[edge.source], graph.nodes[edge.target]
    w = edge.matrix(post.size, pre.size)
    nonzero = int(np.count_nonzero(w))
    learns = f", learns by {edge.learning}" if edge.learning is not None else ""
    return (f"{edge.source} -> {edge.target}: {w.shape[0]}x{w.shape[1]} weights ({nonzero} non-zero, "
            f"{_stat(w[w != 0]) if nonzero else '0'}), synapse {syn}{primed}{learns}")


def describe(graph: Graph) -> str:
    out = [f"graph {graph.name!r}: {len(graph.nodes)} nodes, {len(graph.edges)} edges, dt = {graph.dt * 1e3:g} ms, "
           f"{graph.copies} cop{'y' if graph.copies == 1 else 'ies'}"
           + (" (discrete time: the step is part of the network)" if graph.meta.get("discrete") else "")]
    out += [f"# note: {n}" for n in graph.notes]
    out += [f"# substitution: {s}" for s in graph.substitutions]
    out.append("nodes:")
    out += [f"  {node_line(k, n)}" for k, n in graph.nodes.items()]
    out.append("edges:")
    out += [f"  {edge_line(e, graph)}" for e in graph.edges]
    if graph.probes:
        out.append("probes: " + ", ".join(f"{k} = {p.variable} of {p.node}" for k, p in graph.probes.items()))
    return "\n".join(out)
