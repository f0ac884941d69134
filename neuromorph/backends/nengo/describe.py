"""The compile summary a person reads: ensembles, neurons, connections, synapses, substitutions,
and for Loihi the resources per core read from NengoLoihi's built blocks."""

from __future__ import annotations

from collections import Counter

from .common import hardware_name, quiet, simulator


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


def describe(built, backend) -> str:
    target = backend.target()
    out = [f"# {backend.name} network for {built.net.label!r}: runs on {hardware_name(backend.name, target)}, "
           f"dt = 1 ms, {built.steps} steps"]
    out += [f"# note: {n}" for n in built.notes]
    out += [f"# substitution: {s}" for s in built.substitutions]
    out += lines_for_network(built.net)
    if backend.name == "loihi":
        out += resource_lines(built, target)
    return "\n".join(out)


def resource_lines(built, target) -> list:
    from .loihi import quantization, resources

    with quiet(), simulator(built.net, "loihi", 0, target, getattr(built, "decode_tau", None)) as sim:
        use = resources(sim)
    out = [f"Loihi resources: {use['cores']} cores (1 block = 1 core) on {use['chips']} chip(s)"]
    for block in use["blocks"]:
        parts = ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in block.items() if k != "block")
        out.append(f"  {block['block']}: {parts}")
    q = quantization(built.net, 0)
    if "relative_rms_error" in q:
        out.append(f"weights: 8-bit with a shared exponent per core, relative rms error {q['relative_rms_error']:.2%}")
    return out
