r"""What NengoLoihi's build says about a network: cores (blocks) and their use, and what the
chip's weight format does to the weights.

Weights (NengoLoihi's discretization): per post block, w_max is the largest |w| entering it;
w_scale and w_exp follow from it and the compartment's scales; a synapse whose own maximum is
w_max_i gets dw = floor(log2(w_max / w_max_i)) extra bits of headroom. A weight w is stored as the
integer q = round(w w_scale 2^dw / 2) 2^(7 + weight_exp) (8 bits with sign), so the weight the chip
realizes is q / (2^(6 + weight_exp) w_scale 2^dw).
"""

from __future__ import annotations

import copy

import numpy as np

from .common import DT, import_loihi, quiet

#: Neuromorphic cores per Loihi chip (NengoLoihi's allocators' default).
CORES_PER_CHIP = 128


def resources(sim) -> dict:
    """Blocks (one per core) with their use of compartments, axons and synapse memory, and the
    chips needed at 128 cores per chip (NengoLoihi's allocators put each block on its own core)."""
    blocks = []
    for block in sim.model.blocks:
        use = {key: [int(used), int(limit)] for key, (used, limit) in block.utilization().items()}
        blocks.append({"block": str(block.label), **use})
    cores = len(blocks)
    return {"cores": cores, "chips": -(-cores // CORES_PER_CHIP), "blocks": blocks}


def realized_weights(block) -> list:
    """(float, realized) weight arrays of each synapse of a float (undiscretized) block, after
    discretizing a copy of it as the build for the chip would."""
    from nengo_loihi.builder.discretize import discretize_block

    floats = [[np.array(w, dtype=float) for w in syn.weights] for syn in block.synapses]
    maxes = [syn.max_abs_weight() for syn in block.synapses]
    chip = copy.deepcopy(block)
    with quiet():
        discretize_block(chip)
    info = chip.compartment.discretize_info
    out = []
    for syn, before, w_max_i in zip(chip.synapses, floats, maxes):
        if not before or w_max_i <= 1e-16:
            continue
        dw = int(np.floor(np.log2(info["w_max"] / w_max_i)))
        scale = syn.synapse_cfg.scale * info["w_scale"] * 2.0**dw
        out.append((np.concatenate([w.ravel() for w in before]),
                    np.concatenate([np.asarray(w, dtype=float).ravel() for w in syn.weights]) / scale))
    return out


def quantization(net, seed: int) -> dict:
    """Weight discretization of ``net`` on the chip: per block, the relative rms error of the
    realized weights, the number of distinct levels; and histograms of float vs realized weights
    (all synapses pooled)."""
    nengo_loihi = import_loihi()
    with quiet(), nengo_loihi.Simulator(net, dt=DT, seed=seed, target="simreal", progress_bar=False) as sim:
        pairs = [(str(b.label), realized_weights(b)) for b in sim.model.blocks]
    per_block, pooled_f, pooled_q = [], [], []
    for label, syns in pairs:
        if not syns:
            continue
        f = np.concatenate([p[0] for p in syns])
        q = np.concatenate([p[1] for p in syns])
        rms = float(np.sqrt(np.mean((q - f) ** 2)) / max(np.sqrt(np.mean(f**2)), 1e-30))
        per_block.append({"block": label, "weights": int(f.size), "relative_rms_error": rms,
                          "levels": int(len(np.unique(np.round(q, 12)))), "zeroed": int(np.sum((q == 0) & (f != 0)))})
        pooled_f.append(f)
        pooled_q.append(q)
    out = {"bits": 8, "blocks": per_block}
    if pooled_f:
        f, q = np.concatenate(pooled_f), np.concatenate(pooled_q)
        edges = np.linspace(min(f.min(), q.min()), max(f.max(), q.max()), 61)
        out["histogram"] = {"edges": edges.tolist(), "float": np.histogram(f, edges)[0].tolist(),
                            "realized": np.histogram(q, edges)[0].tolist()}
        out["relative_rms_error"] = float(np.sqrt(np.mean((q - f) ** 2)) / max(np.sqrt(np.mean(f**2)), 1e-30))
    return out
