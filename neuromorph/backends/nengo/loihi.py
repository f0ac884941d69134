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

from .common import DT, import_loihi, import_nengo, quiet

#: Neuromorphic cores per Loihi chip (NengoLoihi's allocators' default).
CORES_PER_CHIP = 128
#: NengoLoihi sends a PES error E to the chip as round(PES_ERROR_SCALE E), clipped to
#: +-PES_ERROR_LEVELS (its ``Model.pes_error_scale`` and the chip's 8-bit error).
PES_ERROR_SCALE = 100.0
PES_ERROR_LEVELS = 127
#: The chip's learning engine shifts each product trace x error right by 2 bits (rounding down)
#: before adding it to the weight (NengoLoihi's emulator: ``LEARN_FRAC + lr_exp - overflow`` = -2).
PES_PRODUCT_SHIFT = 2


class ErrorGrid:
    r"""A host Node function: the PES error E rounded stochastically to multiples of
    :math:`q = 2^{s} / \text{PES\_ERROR\_SCALE}` (s = :data:`PES_PRODUCT_SHIFT`), so the chip
    receives errors in multiples of 2^s levels and its shift divides every product exactly.

    Rounding down biases each product by -3/8 of a level on average; for an on/off pair of
    learned weights the bias cancels in the decoded difference but drives both weights down
    together. Small errors (a network near its target) make it dominate: with errors of 1-2
    levels the pair's common mode fell 6 weight steps in 5000 updates (0.4 on this grid), until
    both weights clip and the decoded weight is lost. The rounding keeps the mean:
    E[grid(E)] = E."""

    def __init__(self, size: int, seed: int):
        self.step = 2**PES_PRODUCT_SHIFT / PES_ERROR_SCALE
        self.rng = np.random.default_rng(seed)
        self.size = size

    def __call__(self, t, x):
        scaled = np.asarray(x) / self.step
        return self.step * np.floor(scaled + self.rng.random(self.size))


#: NengoLoihi's learned-weight exponent (``Model.pes_wgt_exp``) for a rule at its full rate: the
#: weights' step and range scale as 2^exponent, the trace's increment per spike as 2^-exponent.
PES_WGT_EXP = 4


def learned_weight_exponent(decay: float) -> int:
    """``Model.pes_wgt_exp`` for a run whose learning rate has decayed by ``decay``: 4 +
    round(log2 decay), at least 0. Each run learns a change on top of its start (the fixed twin),
    and the change shrinks with the rate; a step that shrinks with it keeps the trace's increment
    and lowers the noise of the stochastic rounding, which a decaying rate does not anneal (its
    variance is set by the step). Digits, six epochs decaying by 0.6: 94.2 % with the step fixed,
    95.1 % with it following the rate (Nengo in floats 95.3 %)."""
    return max(0, PES_WGT_EXP + int(round(np.log2(decay))))


#: The chip updates a learned weight every LEARN_EPOCH steps (NengoLoihi's ``Synapse.learn_epoch``:
#: a trace update every 2 steps, learning every 2^1 trace updates).
LEARN_EPOCH = 4


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


def learned_decoders(sim, conn) -> np.ndarray:
    """The decoders (n_pre, d) a learning connection ``conn`` holds on the chip now.

    NengoLoihi decodes it on chip through an on/off pair of non-spiking compartments per
    dimension (columns [D, -D] / dt, Nengo's spikes being 1/dt); PES changes the integer weights
    in place. A weight q stands for q / (scale w_scale 2^(w_exp - learning_wgt_exp)), the inverse
    of NengoLoihi's discretization of a learning synapse."""
    label = f"<Connection {conn.label}_probe>"
    (block,) = [b for b in sim.model.blocks if str(b.label) == label]
    (syn,) = [s for s in block.synapses if s.learning]
    info = block.compartment.discretize_info
    q = np.concatenate([np.asarray(w, dtype=float).reshape(1, -1) for w in syn.weights])
    f = q / (syn.synapse_cfg.scale * info["w_scale"] * 2.0 ** (info["w_exp"] - syn.learning_wgt_exp))
    d = q.shape[1] // 2
    return (f[:, :d] - f[:, d:]) / 2 * sim.dt


def check_learning(sim) -> None:
    """Refuse a learning rate the chip cannot realize: NengoLoihi fixes the chip's rate at 2^-7
    and puts the rest into the presynaptic trace's increment per spike, which holds at most 127
    (beyond it NengoLoihi clips the increment and the chip learns slower than the rule)."""
    from .common import NengoError

    for block in sim.model.blocks:
        for syn in block.synapses:
            if syn.learning and syn.tracing_mag >= 127:
                raise NengoError(f"{block.label}: the learning rate is too large for the chip (its presynaptic trace "
                                 "would grow by more than 127 per spike, and NengoLoihi would clip it); lower the "
                                 "learning rate (learning.eta)")


def node_of(block) -> str:
    """The graph node a block belongs to: its label reads "<Ensemble 'NAME[copy]'>[slice]"."""
    label = str(block.label)
    inner = label.split("'", 2)[1] if "'" in label else label
    return inner.rsplit("[", 1)[0]


def edge_weights(sim, graph) -> dict:
    """Realized weights of every dense spiking projection into on-chip neurons of one copy of
    ``graph`` built by NengoLoihi (target 'simreal'): {edge index: (n_post, n_pre)} in the graph's
    units (the block's float weights are the graph's times a constant scale, which is divided out)."""
    from ...graph import Connection

    out: dict = {}
    for block in sim.model.blocks:
        name = node_of(block)
        if name not in graph.nodes:
            continue
        edges = [(k, e) for k, e in enumerate(graph.edges) if e.target == name and isinstance(e, Connection)
                 and e.into == "neurons" and graph.nodes[e.source].spiking]
        cols = np.asarray(sim.model.block_comp_map[block])
        for (k, edge), (f, r) in zip(edges, realized_weights(block)):
            post, pre = graph.nodes[name].size, graph.nodes[edge.source].size
            W = edge.matrix(post, pre)[cols]
            f, r = f.reshape(pre, len(cols)).T, r.reshape(pre, len(cols)).T
            nonzero = W != 0
            scale = np.median(f[nonzero] / W[nonzero]) if nonzero.any() else 1.0
            out.setdefault(k, np.array(edge.matrix(post, pre), dtype=float))[cols] = r / scale
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


def realized_tau(tau: float) -> float:
    """The time constant (s) a Loihi low-pass of ``tau`` really has: the chip decays a current
    by (4095 - d) / 4096 per step, d = round(4095 (1 - exp(-dt / tau)) - 1) (12 bits)."""
    d = np.round(4095 * (1 - np.exp(-DT / tau)) - 1)
    return float(-DT / np.log((4095 - d) / 4096))


def realized_tau_ref(tau_ref: float) -> float:
    """The refractory period (s) a Loihi LIF neuron of ``tau_ref`` has: NengoLoihi rounds it to
    the nearest whole number of steps (halves to even)."""
    from nengo_loihi.neurons import discretize_tau_ref

    return float(discretize_tau_ref(tau_ref, DT))


def lif_rates(J, tau_rc: float, tau_ref: float) -> np.ndarray:
    """Rates (Hz) of Loihi LIF neurons for currents J (..., n): NengoLoihi's discretized curve
    (whole-step refractory and spike periods)."""
    from nengo_loihi.neurons import loihi_lif_rates

    nengo = import_nengo()
    import_loihi()
    J = np.asarray(J, dtype=float)
    neuron = nengo.LIF(tau_rc=tau_rc, tau_ref=tau_ref)
    return loihi_lif_rates(neuron, J, np.ones(J.shape[-1]), np.zeros(J.shape[-1]), DT)


def decode_gain() -> float:
    """Static gain of NengoLoihi's decode neurons: the least-squares slope of their output
    y(g) = scale dt sum(r_on(g) - r_off(g)) over their design range g in [-1, 1]. The Preset10
    pairs scale y up by 1.02 on purpose (NengoLoihi's choice for summed inputs); a recurrent loop
    needs unit gain, so the loop's decoders are divided by this."""
    import_loihi()
    from nengo_loihi.decode_neurons import Preset10DecodeNeurons

    dn = Preset10DecodeNeurons(dt=DT)
    gain, bias = dn.gain[::2], dn.bias[::2]
    g = np.linspace(-1.0, 1.0, 401)
    on = np.stack([np.ravel(dn.neuron_type.rates(v, gain, bias, dt=DT)) for v in g])
    off = np.stack([np.ravel(dn.neuron_type.rates(-v, gain, bias, dt=DT)) for v in g])
    y = dn.scale * DT * (on - off).sum(axis=1)
    return float(y @ g / (g @ g))
