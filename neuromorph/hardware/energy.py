r"""Energy and latency per inference from the operations an actual spiking run counted.

For a layered NLA network run on the ``nengo``/``loihi`` (or ``brian2-spiking``) backend:

    synaptic ops   S = sum over on-chip layers l of (spikes into l) x (fan-out onto l)
                     = input spikes x n_h1 + sum_l spikes(h_l) x n_(h_l+1),
    neuron updates U = (on-chip neurons) x (steps per inference),
    spikes         P = spikes of on-chip neurons + input spikes delivered to the chip,
    E = S e_syn + U e_neuron + P e_spike,

each divided by the number of inferences (images x lanes). For BM (no inferences), the same
counts per second of simulated time (ensemble spikes x decode neurons; the decode neurons' own
activity is left out). Latency per inference: steps x the chip's time step, when
the profile knows it. Every number keeps its source and status from the profile.
"""

from __future__ import annotations

#: The step (s) operations are counted on: NengoLoihi's 1 ms, also for backends that simulate
#: with a finer step (their spikes are the same events).
STEP = 0.001


def counts(model, summary: dict) -> dict | None:
    """Operation counts per inference (NLA) or per simulated second (BM) from a run's summary."""
    info = summary["backend_info"]
    source = info.get("engine", info)
    spikes = source.get("spikes")
    if not spikes:
        return None
    seconds = source.get("simulated_s") or info.get("simulated_s")
    if model.family == "nla":
        from ..families import nla

        st = nla.structure(model)
        sizes = [layer.stop - layer.start for layer in st.layers[:-1]]
        lanes = model.learning.lanes
        per_image = model.task.presentation
        n = seconds / per_image * lanes  # inferences (padded test slots included)
        inputs = spikes.get("input", spikes.get("inp", 0))  # Brian2 calls the input group "inp"
        syn = inputs * sizes[0] + sum(spikes.get(f"h{k + 1}", 0) * sizes[k + 1]
                                                       for k in range(len(sizes) - 1))
        hidden_spikes = sum(spikes.get(f"h{k + 1}", 0) for k in range(len(sizes)))
        return {"per": "inference", "inferences": n, "steps": per_image / STEP,
                "synaptic_ops": syn / n, "neuron_updates": sum(sizes) * per_image / STEP,
                "spikes": (hidden_spikes + inputs) / n}
    from .estimate import DECODE_PAIRS

    neurons = sum((source.get("neurons") or {}).values())
    total = sum(spikes.values())
    decode = 2 * DECODE_PAIRS * 3  # every ensemble spike reaches all decode neurons of its synapse
    return {"per": "simulated second", "inferences": seconds, "steps": 1 / STEP,
            "synaptic_ops": total * decode / seconds, "neuron_updates": neurons / STEP, "spikes": total / seconds,
            "note": "the decode neurons' own spikes and updates are not counted"}


def estimate(model, summary: dict, profile) -> dict:
    """Energy (J) and latency (s) per inference on ``profile`` with the facts' sources."""
    c = counts(model, summary)
    e = profile.energy
    facts = {"synaptic_op_pj": e.synaptic_op_pj, "neuron_update_pj": e.neuron_update_pj, "spike_pj": e.spike_pj}
    sources = {k: {"value": f.value, "source": f.source, "status": f.status, "note": f.note} for k, f in facts.items()}
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
