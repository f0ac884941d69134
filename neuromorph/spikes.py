"""Spike statistics every spiking backend reports the same way: a raster of a few neurons and the
histogram of per-neuron rates (Hz)."""

from __future__ import annotations

import numpy as np

#: A raster shows this many neurons of one population ...
RASTER_NEURONS = 40
#: ... over the first this many seconds.
RASTER_SECONDS = 1.0


def raster(times, indices, group: str) -> dict:
    """Spikes (times in s, neuron indices) of the first RASTER_NEURONS neurons in the first
    RASTER_SECONDS seconds."""
    t, i = np.asarray(times, dtype=float), np.asarray(indices, dtype=int)
    keep = (i < RASTER_NEURONS) & (t < RASTER_SECONDS)
    return {"group": group, "neurons": RASTER_NEURONS, "window_s": RASTER_SECONDS,
            "t": np.round(t[keep], 6).tolist(), "i": i[keep].tolist()}


def raster_from_steps(spikes: np.ndarray, dt: float, group: str) -> dict:
    """:func:`raster` from a (steps, neurons) array that is non-zero where a neuron spiked."""
    step, neuron = np.nonzero(np.asarray(spikes)[: int(round(RASTER_SECONDS / dt)), :RASTER_NEURONS])
    return raster((step + 1) * dt, neuron, group)


def rate_histogram(counts, seconds: float, bins: int = 20) -> dict:
    """Mean, maximum and histogram of per-neuron rates (spike counts / seconds)."""
    rates = np.asarray(counts, dtype=float) / seconds
    hist, edges = np.histogram(rates, bins=bins)
    return {"mean": float(rates.mean()), "max": float(rates.max()), "histogram": hist.tolist(),
            "edges": edges.tolist()}
