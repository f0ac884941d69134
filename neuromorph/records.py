"""Typed records of runs: what a backend returns (:class:`Result` with its :class:`RunInfo`) and
what running a graph gives (:class:`RunRecord`). Compare, reports and hardware read these, never
a backend's internals."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np


@dataclass
class RunRecord:
    """A graph run.

    Attributes
    ----------
    t : ndarray (K + 1,)
        Sample times (s): 0, sample_dt, ..., K sample_dt.
    probes : dict of str -> ndarray
        Value and voltage probes (K + 1, copies, size), row k at t[k]; spike probes (K, copies,
        size): counts in each sample period.
    spikes : dict of str -> ndarray (copies x size,)
        Spike counts of every spiking node over the run.
    dt : float
        The simulation step (s).
    steps : int
        Simulation steps run.
    raster : dict or None
        Spike times of the first neurons of the first neuron population (:mod:`neuromorph.backends.spikes`).
    resources, quantization : dict or None
        Chip resources and weight discretization, when the target reports them.
    learned : dict of str -> ndarray (copies, n_post, n_pre)
        The weights each learning edge (by name) ended the run with, in the graph's units.
    """

    t: np.ndarray
    probes: dict
    spikes: dict
    dt: float
    steps: int
    raster: dict | None = None
    resources: dict | None = None
    quantization: dict | None = None
    learned: dict = field(default_factory=dict)

    @property
    def simulated_s(self) -> float:
        return self.steps * self.dt


@dataclass
class RunInfo:
    """What a run says about itself (``summary.json``'s ``backend_info``).

    ``details`` holds facts particular to a family or backend (integrator, scheme, lanes,
    code-generation target, seeds); everything compare and hardware read has its own field."""

    backend: str
    dt: float
    steps: int
    simulated_s: float | None = None
    substitutions: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    spikes: dict = field(default_factory=dict)
    neurons: dict = field(default_factory=dict)
    hardware: dict = field(default_factory=dict)
    resources: dict | None = None
    quantization: dict | None = None
    raster: dict | None = None
    rates_hz: dict | None = None
    versions: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["substitutions"] = [s.as_dict() if hasattr(s, "as_dict") else s for s in self.substitutions]
        return out


@dataclass
class Result:
    """Recorded traces of one run.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Recording times (s).
    traces : dict of str -> ndarray
        One array per recorded variable, shape (T,) for one synapse/neuron, (T, N) or (T, L, n).
    info : RunInfo
    metrics : dict
        Task metrics the run measured (e.g. accuracy), if any.
    """

    t: np.ndarray
    traces: dict
    info: RunInfo
    metrics: dict = field(default_factory=dict)


def graph_info(simulator, graph, records: list, details: dict | None = None) -> RunInfo:
    """The :class:`RunInfo` of one or more runs of ``graph`` on ``simulator`` (a spiking backend):
    spikes and neurons per spiking node, summed over the runs; the first run's raster; the
    firing-rate histogram of the first neuron population; the graph's substitutions and notes."""
    from .spikes import rate_histogram

    spikes: dict = {}
    for rec in records:
        for node, counts in rec.spikes.items():
            if node in graph.inputs():  # spikes given from outside (a NIR file's input), not generated
                continue
            spikes[node] = spikes.get(node, 0) + int(round(float(np.sum(counts))))
    neurons = {name: graph.nodes[name].size * graph.copies for name in spikes}
    steps = sum(r.steps for r in records)
    # a discrete graph on a fixed clock runs k times slower: report the graph's own time
    simulated = sum(r.simulated_s for r in records) / graph.meta.get("time_scale", 1.0)
    first = records[0] if records else None
    rates = None
    populations = [n for n in graph.neurons() if n in (first.spikes if first else {})]
    if populations and simulated > 0:
        counts = np.sum([np.asarray(r.spikes[populations[0]], dtype=float) for r in records], axis=0)
        rates = rate_histogram(counts, simulated)
    return RunInfo(backend=simulator.name, dt=graph.dt, steps=steps, simulated_s=simulated,
                   substitutions=list(graph.substitutions), notes=list(graph.notes), spikes=spikes, neurons=neurons,
                   hardware=simulator.hardware(), resources=first.resources if first else None,
                   quantization=first.quantization if first else None, raster=first.raster if first else None,
                   rates_hz=rates, details=dict(details or {}))


#: Populations larger than this are summarized by statistics, not listed value by value.
LIST_LIMIT = 100


def summary_values(array) -> object:
    """A value for ``summary.json``: a number, a short list, or statistics of a long array."""
    array = np.asarray(array, dtype=float)
    if array.ndim == 0:
        return float(array)
    if array.size <= LIST_LIMIT:
        return array.tolist()
    return {"n": int(array.size), "mean": float(array.mean()), "std": float(array.std()),
            "min": float(array.min()), "max": float(array.max())}
