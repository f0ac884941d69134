r"""Weights as a chip stores them, applied to the rate model too, so that a comparison separates
quantization loss from spiking loss.

Loihi-style (``weights.shared_exponent: per core``, b bits with sign): within one core (block of
at most ``core.neurons`` neurons of a layer) all incoming weights share a scale; with
w_max = max |w| over the block, a weight is stored as q = round(w / step) clipped to +-(2^(b-1) - 1),
step = w_max / (2^(b-1) - 1/2), and realized as q step. In a layered network each block receives
one weight matrix, so this is NengoLoihi's discretization (checked against its built weights).
Only weights into on-chip neurons are quantized: the read-out to the host stays float.
"""

from __future__ import annotations

import numpy as np


def quantize_block(W: np.ndarray, bits: int) -> np.ndarray:
    """W (rows: the block's neurons) with one shared scale, ``bits`` bits with sign."""
    w_max = float(np.max(np.abs(W))) if W.size else 0.0
    if w_max == 0.0:
        return W.copy()
    top = 2 ** (bits - 1) - 1
    step = w_max / (top + 0.5)
    return np.clip(np.round(W / step), -top, top) * step


def rows_per_core(profile, n: int) -> list:
    """Row slices of a layer of n neurons, one per core (as the population is split)."""
    limit = profile.core.neurons.value or n
    k = -(-n // limit)
    size = -(-n // k)
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def on_chip(model, profile) -> list:
    """(matrix name, index) of the weights into each core: W_in rows for the first hidden
    layer, W[rows, previous layer] for the others."""
    from ..families import nla

    st = nla.structure(model)
    hidden = st.layers[:-1]
    parts = []
    for k, layer in enumerate(hidden):
        for rows in rows_per_core(profile, layer.stop - layer.start):
            sel = slice(layer.start + rows.start, layer.start + rows.stop)
            parts.append(("W_in", sel) if k == 0 else ("W", (sel, hidden[k - 1])))
    return parts


def quantize(model, weights, profile):
    """A copy of NLA ``weights`` with every on-chip layer's input weights quantized: by
    NengoLoihi's own discretization for a ``nengo_loihi_dense`` profile (Loihi 1), else by the
    shared-scale rule above."""
    bits = profile.weights.bits.value
    out = weights.copy()
    if not isinstance(bits, int) or bits >= 32:
        return out
    if profile.synapse_format == "nengo_loihi_dense":
        return quantize_nengo_loihi(model, weights)
    for name, index in on_chip(model, profile):
        getattr(out, name)[index] = quantize_block(getattr(weights, name)[index], bits)
    return out


def relative_error(model, weights, profile) -> float:
    """Relative rms error of the quantized on-chip weights."""
    q = quantize(model, weights, profile)
    parts = on_chip(model, profile)
    ref = np.concatenate([getattr(weights, n)[i].ravel() for n, i in parts])
    new = np.concatenate([getattr(q, n)[i].ravel() for n, i in parts])
    return float(np.sqrt(np.mean((new - ref) ** 2)) / np.sqrt(np.mean(ref**2))) if ref.size else 0.0


def quantize_nengo_loihi(model, weights):
    """NLA ``weights`` as NengoLoihi discretizes them for the chip: build the compiled network
    (one copy, floats), discretize each core as the build would, and map the realized synapse
    weights back onto the weight matrices."""
    import dataclasses

    from ..backends.nengo import nla as nengo_nla
    from ..backends.nengo.common import DT, import_loihi, quiet
    from ..backends.nengo.loihi import realized_weights
    from ..families import nla
    from ..tasks import make_task

    single = dataclasses.replace(model, learning=dataclasses.replace(model.learning, lanes=1))
    st = nla.structure(single)
    protocol = make_task(single).eval_protocol()
    built = nengo_nla.network(single, weights, st, protocol, "loihi", lanes=1)
    out = weights.copy()
    hidden = st.layers[:-1]
    with quiet(), import_loihi().Simulator(built.net, dt=DT, target="simreal", progress_bar=False) as sim:
        for block in sim.model.blocks:
            k = int(str(block.label).split("'h", 1)[1].split("[", 1)[0]) - 1
            cols = np.asarray(sim.model.block_comp_map[block])
            rows = np.arange(hidden[k].start, hidden[k].stop)[cols]
            W = weights.W_in[rows] if k == 0 else weights.W[np.ix_(rows, np.arange(hidden[k - 1].start,
                                                                                 hidden[k - 1].stop))]
            (f, r), = realized_weights(block)
            f, r = f.reshape(W.shape[1], W.shape[0]), r.reshape(W.shape[1], W.shape[0])
            scale = np.median(f[W.T != 0] / W.T[W.T != 0])
            if k == 0:
                out.W_in[rows] = (r / scale).T
            else:
                out.W[np.ix_(rows, np.arange(hidden[k - 1].start, hidden[k - 1].stop))] = (r / scale).T
    return out
