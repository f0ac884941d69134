r"""Energy and latency per inference from the operations an actual spiking run counted, on the
model's network graph legalized for the profile's chip.

    synaptic ops   S = sum over edges into on-chip neurons of (spikes of the source) x (fan-out),
                     fan-out = the target population's size for a dense projection, or the
                     decode neurons (``decode_neurons_per_dimension`` x d) a decoded edge passes;
    neuron updates U = (on-chip neurons) x (steps),
    spikes         P = spikes of on-chip neurons + spikes delivered to the chip from off-chip sources,
    E = S e_syn + U e_neuron + P e_spike,

per inference (images x lanes, for classification models) or per simulated second. Latency per
inference: steps x the chip's time step, when the profile knows it. Every number keeps its source
and status from the profile.
"""

from __future__ import annotations

from ..graph import Decoded

#: The step (s) operations are counted on: NengoLoihi's 1 ms, also for backends that simulate
#: with a finer step (their spikes are the same events).
STEP = 0.001


def counts(model, info: dict, graph, profile) -> dict | None:
    """Operation counts per inference or per simulated second of a run (``info``: its
    ``backend_info``) on one copy of ``graph``."""
    from .. import families

    spikes = info.get("spikes")
    seconds = info.get("simulated_s")
    if not spikes or not seconds:
        return None
    on_chip = graph.neurons()
    per_dim = profile.decode_neurons_per_dimension.value
    syn = delivered = 0.0
    decoded = False
    for edge in graph.edges:
        source = graph.nodes[edge.source]
        if edge.target not in on_chip or not source.spiking:
            continue
        n = spikes.get(edge.source, 0)
        if isinstance(edge, Decoded) and per_dim:
            syn += n * per_dim * edge.out_dimensions()
            decoded = True
        else:
            syn += n * on_chip[edge.target].size
        if edge.source not in on_chip:
            delivered += n
    fired = sum(spikes.get(k, 0) for k in on_chip)
    neurons = sum(n.size for n in on_chip.values())
    presentation = families.of(model).presentation(model)
    if presentation:
        presentation += graph.meta.get("gap_between", 0.0)  # the chip runs through the blank too
        first = next(iter(on_chip), None)
        copies = info["neurons"].get(first, 0) / on_chip[first].size if first else 1
        inferences = seconds / presentation * copies  # padded test slots included
        return {"per": "inference", "inferences": inferences, "steps": presentation / STEP,
                "synaptic_ops": syn / inferences, "neuron_updates": neurons * presentation / STEP,
                "spikes": (fired + delivered) / inferences}
    out = {"per": "simulated second", "inferences": seconds, "steps": 1 / STEP, "synaptic_ops": syn / seconds,
           "neuron_updates": neurons / STEP, "spikes": (fired + delivered) / seconds}
    if decoded:
        out["note"] = "the decode neurons' own spikes and updates are not counted"
    return out


def estimate(model, summary: dict, profile, base_dir=None) -> dict:
    """Energy (J) and latency (s) per inference on ``profile`` with the facts' sources."""
    from pathlib import Path

    from .target import graphs

    if base_dir is None and summary.get("spec_file"):
        base_dir = str(Path(summary["spec_file"]).parent)
    e = profile.energy
    facts = {"synaptic_op_pj": e.synaptic_op_pj, "neuron_update_pj": e.neuron_update_pj, "spike_pj": e.spike_pj}
    sources = {k: {"value": f.value, "source": f.source, "status": f.status, "note": f.note} for k, f in facts.items()}
    info = summary["backend_info"]
    c = counts(model, info, graphs(model, profile, base_dir)[1], profile) if info.get("spikes") else None
    out = {"profile": profile.name, "counts": c, "sources": sources, "caveats": list(profile.caveats)}
    if c is None:
        out.update(energy_j=None, why="the run counted no spikes (not a spiking backend)")
        return out
    if any(f.value is None for f in facts.values()):
        out.update(energy_j=None, why="per-operation energies are unknown in the profile")
    else:
        parts = {"synaptic_ops": c["synaptic_ops"] * e.synaptic_op_pj.value,
                 "neuron_updates": c["neuron_updates"] * e.neuron_update_pj.value,
                 "spikes": c["spikes"] * e.spike_pj.value}
        out.update(energy_j=sum(parts.values()) * 1e-12, parts_j={k: v * 1e-12 for k, v in parts.items()},
                   statuses=sorted({f.status for f in facts.values()}))
    step = profile.time_step.value
    out["latency_s"] = c["steps"] * step if step is not None and c["per"] == "inference" else None
    return out
