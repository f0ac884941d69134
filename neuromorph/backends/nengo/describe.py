"""The compile summary of a Nengo network: ensembles, neurons, connections and synapses."""

from __future__ import annotations

from collections import Counter


def _synapse(syn) -> str:
    if syn is None:
        return "none"
    return f"{type(syn).__name__}({syn.tau * 1e3:g} ms)" if hasattr(syn, "tau") else type(syn).__name__


def lines_for_network(net) -> list:
    ensembles = net.all_ensembles
    out = [f"ensembles: {len(ensembles)}, neurons: {sum(e.n_neurons for e in ensembles)}, "
           f"nodes: {len(net.all_nodes)}, connections: {len(net.all_connections)}"]
    kinds = Counter((type(e.neuron_type).__name__, e.n_neurons, e.dimensions) for e in ensembles)
    for (kind, n, d), count in kinds.items():
        out.append(f"  {count} x Ensemble({n} neurons, {d} dims, {kind})")
    synapses = Counter((_synapse(c.synapse), type(c.pre_obj).__name__, type(c.post_obj).__name__)
                       for c in net.all_connections)
    for (syn, pre, post), count in synapses.items():
        out.append(f"  {count} x Connection({pre} -> {post}, synapse {syn})")
    return out
