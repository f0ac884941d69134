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


def learning_energy(model, account: dict, graph, profile) -> dict:
    r"""Energy (J) of a training run in spikes on ``profile``, from what the run counted
    (``account``: ``GraphEngine.learning_account``) on its learning ``graph``:

    .. math:: E = N_{upd}\,e_{upd} + S\,e_{syn} + U\,e_{neuron} + P\,e_{spike},

    N_upd the plastic synapses' updates at the profile's ``learning_interval_steps`` (else as the
    run counted them: :func:`chip_updates`), S, U, P the synaptic ops, neuron updates and spikes of
    the runs that learned (as :func:`counts`, over all training presentations). None, with the
    reason, where the profile cannot run the rules or lacks a figure."""
    e = profile.energy
    facts = {"synaptic_update_pj": e.synaptic_update_pj, "synaptic_op_pj": e.synaptic_op_pj,
             "neuron_update_pj": e.neuron_update_pj, "spike_pj": e.spike_pj}
    out: dict = {"profile": profile.name, "energy_j": None,
                 "sources": {k: None if f is None else {"value": f.value, "source": f.source, "status": f.status}
                             for k, f in facts.items()}}
    rules = sorted({type(edge.learning).__name__ for edge in graph.edges if edge.learning is not None})
    allowed = set(profile.learning_rules.value or ())
    if not set(rules) <= allowed:
        out["why"] = (f"{profile.name} runs {', '.join(sorted(allowed)) or 'no learning rule'}; this network learns by "
                      + ", ".join(rules))
        return out
    if any(f is None or f.value is None for f in facts.values()):
        out["why"] = "per-operation energies (incl. synaptic_update_pj) are unknown in the profile"
        return out
    spikes = account["spikes"]
    info = {"spikes": spikes, "simulated_s": account["learning_s"],
            "neurons": {n: graph.nodes[n].size * graph.copies for n in spikes}}
    c = counts(model, info, graph, profile)
    if c is None:
        out["why"] = "the run counted no spikes"
        return out
    times = c["inferences"]  # presentations, or simulated seconds
    updates = chip_updates(account, profile)
    parts = {"synaptic_updates": updates * e.synaptic_update_pj.value,
             "synaptic_ops": c["synaptic_ops"] * times * e.synaptic_op_pj.value,
             "neuron_updates": c["neuron_updates"] * times * e.neuron_update_pj.value,
             "spikes": c["spikes"] * times * e.spike_pj.value}
    energy = sum(parts.values()) * 1e-12
    out.update(energy_j=energy, parts_j={k: v * 1e-12 for k, v in parts.items()}, per=c["per"], count=times,
               synaptic_updates=updates,
               energy_per_j=energy / times, statuses=sorted({f.status for f in facts.values() if f is not None}))
    return out


def chip_updates(account: dict, profile) -> float:
    """Updates of the run's plastic synapses on ``profile``'s learning engine: each synapse once
    every ``learning_interval_steps`` x ``time_step`` of learning; the run's own count where the
    profile does not say."""
    every = profile.learning_interval_steps
    step = profile.time_step.value
    if every is None or every.value is None or step is None:
        return float(account["updates"])
    synapses = sum(e["synapses"] for e in account["edges"].values())
    return float(synapses * round(account["learning_s"] / (every.value * step)))
