"""NLA network structure and weights, in one global neuron vector.

Network neurons are numbered 0..n-1 (layered: hidden layer 1, ..., output layer; recurrent:
all neurons, outputs last). Weights follow the paper's ``W = (W_in, W_net)``:

- ``W`` (n x n), ``W[post, pre]``, masked by the architecture (layered: block sub-diagonal);
- ``W_in`` (n x n_in) from the input rates;
- ``b`` (n,): weights from a presynaptic neuron firing at constant rate 1 (the bias);
- ``B`` (n x n): error feedback in the layout of ``W.T`` -- fixed random for feedback
  alignment, the top-down weights B_l of the microcircuit; None means ``W.T`` (transpose);
- microcircuit: ``W_IP`` (m x n), ``W_PI`` (n x m), ``B_IP`` (m x n) for m interneurons.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from ...seeds import rng_for


@dataclass(frozen=True)
class Structure:
    """Topology: sizes, masks, output neurons, layer slices (layered only)."""

    n_in: int
    n: int
    n_out: int
    layered: bool
    layers: tuple  # network layer slices (layered), else (slice(0, n),)
    mask_W: np.ndarray = field(repr=False)
    mask_in: np.ndarray = field(repr=False)
    interneurons: tuple = ()  # per hidden layer (microcircuit)

    @property
    def out(self) -> slice:
        return slice(self.n - self.n_out, self.n)

    @property
    def depth(self) -> int | None:
        """Nilpotency index of W (number of network layers) for layered nets, else None."""
        return len(self.layers) if self.layered else None

    @property
    def n_inter(self) -> int:
        return int(sum(self.interneurons))

    def projections(self) -> list[tuple[str, slice, slice]]:
        """(name, post slice, pre slice) per projection; pre of the first is the input."""
        if not self.layered:
            return [("input", slice(0, self.n), slice(0, self.n_in)), ("recurrent", slice(0, self.n), slice(0, self.n))]
        out = [("W1", self.layers[0], slice(0, self.n_in))]
        for k in range(1, len(self.layers)):
            out.append((f"W{k + 1}", self.layers[k], self.layers[k - 1]))
        return out

    def inter_slices(self) -> list[slice]:
        """Interneuron slices (one per hidden layer) in the interneuron vector."""
        bounds = np.cumsum((0,) + tuple(self.interneurons))
        return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def structure(model) -> Structure:
    """The topology of a validated NLA model."""
    net = model.network
    if net.layers is not None:
        sizes = net.layers
        n_in, hidden_out = sizes[0], sizes[1:]
        bounds = np.cumsum((0,) + tuple(hidden_out))
        layers = tuple(slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]))
        n = int(bounds[-1])
        mask_W = np.zeros((n, n), bool)
        for pre, post in zip(layers[:-1], layers[1:]):
            mask_W[post, pre] = True
        mask_in = np.zeros((n, n_in), bool)
        mask_in[layers[0], :] = True
        inter = ()
        if model.microcircuit is not None:
            inter = model.microcircuit.interneurons or tuple(hidden_out[1:])
        return Structure(n_in, n, hidden_out[-1], True, layers, mask_W, mask_in, tuple(inter))
    rec = net.recurrent
    mask_W = np.ones((rec.neurons, rec.neurons), bool)
    if not rec.self_connections:
        np.fill_diagonal(mask_W, False)
    mask_in = np.ones((rec.neurons, rec.inputs), bool)
    return Structure(rec.inputs, rec.neurons, rec.outputs, False, (slice(0, rec.neurons),), mask_W, mask_in)


@dataclass
class Weights:
    """All weights of an NLA network (see the module docstring for shapes)."""

    W: np.ndarray
    W_in: np.ndarray
    b: np.ndarray
    B: np.ndarray | None = None
    W_IP: np.ndarray | None = None
    W_PI: np.ndarray | None = None
    B_IP: np.ndarray | None = None

    def copy(self) -> "Weights":
        copies: dict[str, Any] = {f.name: None if getattr(self, f.name) is None else getattr(self, f.name).copy()
                                  for f in fields(self)}
        return replace(self, **copies)

    def arrays(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def clipped_normal(rng: np.random.Generator, shape, std: float, clip: float, mean: float = 0.0) -> np.ndarray:
    """N(mean, std^2) samples, redrawn until inside mean +- clip (a truncated normal)."""
    out = rng.normal(0.0, std, size=shape)
    bad = np.abs(out) > clip
    while bad.any():
        out[bad] = rng.normal(0.0, std, size=int(bad.sum()))
        bad = np.abs(out) > clip
    return mean + out


def init_weights(model, st: Structure) -> Weights:
    """Initial weights from the model's seed (each matrix from its own derived generator)."""
    seed, init = model.seed, model.learning.init

    def draw(name, shape, mask, spec_init):
        rng = rng_for(seed, "weights", name)
        return clipped_normal(rng, shape, spec_init.std, spec_init.clip, spec_init.mean) * mask

    W = draw("W", (st.n, st.n), st.mask_W, init)
    W_in = draw("W_in", (st.n, st.n_in), st.mask_in, init)
    bias_init = model.learning.bias_init or init
    b = draw("b", (st.n,), np.ones(st.n), bias_init) if model.learning.bias else np.zeros(st.n)
    weights = Weights(W=W, W_in=W_in, b=b)
    if model.microcircuit is not None:
        mc = model.microcircuit
        masks = microcircuit_masks(st)
        weights.W_IP = draw("W_IP", masks["W_IP"].shape, masks["W_IP"], mc.init)
        weights.W_PI = draw("W_PI", masks["W_PI"].shape, masks["W_PI"], mc.init)
        weights.B = draw("B", (st.n, st.n), st.mask_W.T, mc.top_down_init)
        if mc.nudging == "one_to_one":
            weights.B_IP = one_to_one(masks["B_IP"])
        else:
            weights.B_IP = draw("B_IP", masks["B_IP"].shape, masks["B_IP"], mc.top_down_init)
    elif model.learning.feedback == "alignment":
        weights.B = draw("B", (st.n, st.n), st.mask_W.T, model.learning.feedback_init)
    return weights


def one_to_one(mask: np.ndarray) -> np.ndarray:
    """B_IP = I within each block of ``mask``: interneuron i of layer l is nudged by neuron i of
    layer l+1 (blocks are square: the spec checks the counts)."""
    out = np.zeros(mask.shape)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    out[rows, cols] = 1.0
    return out


def microcircuit_masks(st: Structure) -> dict:
    """Connectivity of the microcircuit matrices: interneurons of hidden layer l see layer l
    (W_IP), project back to it (W_PI) and are nudged by layer l+1 (B_IP)."""
    m = st.n_inter
    W_IP, W_PI, B_IP = np.zeros((m, st.n), bool), np.zeros((st.n, m), bool), np.zeros((m, st.n), bool)
    for k, inter in enumerate(st.inter_slices()):
        W_IP[inter, st.layers[k]] = True
        W_PI[st.layers[k], inter] = True
        B_IP[inter, st.layers[k + 1]] = True
    return {"W_IP": W_IP, "W_PI": W_PI, "B_IP": B_IP}


def layout(st: Structure) -> dict:
    """What a weights file must match."""
    return {"n_in": st.n_in, "n": st.n, "n_out": st.n_out, "layered": st.layered,
            "layers": [[s.start, s.stop] for s in st.layers], "interneurons": list(st.interneurons)}


def weights_bytes(weights: Weights, st: Structure, meta: dict | None = None) -> bytes:
    """``weights.npz`` content: the arrays, the layout and free-form metadata (JSON)."""
    buf = io.BytesIO()
    info = {"layout": layout(st), "meta": meta or {}}
    np.savez_compressed(buf, **weights.arrays(), _info=np.array(json.dumps(info)))
    return buf.getvalue()


def load_weights(path, st: Structure) -> Weights:
    """Read a weights file; raise ValueError naming what does not match the model."""
    with np.load(path, allow_pickle=False) as z:
        info = json.loads(str(z["_info"])) if "_info" in z.files else {}
        arrays = {k: z[k] for k in z.files if k != "_info"}
    if info.get("layout") != layout(st):
        raise ValueError(f"was written for a different network (layout {info.get('layout')}, model {layout(st)})")
    missing = {"W", "W_in", "b"} - set(arrays)
    if missing:
        raise ValueError(f"lacks arrays: {', '.join(sorted(missing))}")
    known = {f.name for f in fields(Weights)}
    return Weights(**{k: v for k, v in arrays.items() if k in known})
