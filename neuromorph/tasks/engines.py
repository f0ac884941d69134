"""The task-engine interface on a spiking backend: protocols run on the family's lowered graph.

A task hands an engine :class:`~neuromorph.tasks.Protocol` objects; :class:`GraphEngine` lowers
the model once per lane count (``family.lower``), legalizes it for the backend's traits, and runs
each protocol with the protocol's input rates as the graph's Input ``x`` (held over the model's
steps) and the probe ``u_out`` sampled at every model step. Spikes, substitutions and resources
of every run are kept for the run's record.
"""

from __future__ import annotations

import numpy as np

from ..errors import NeuromorphError
from ..graph import legalize
from ..records import RunInfo, graph_info
from ..seeds import spiking_seed
from . import marked_outputs


class InferenceOnly(NeuromorphError):
    """The engine runs trained weights; it does not learn."""


class GraphEngine:
    """Runs protocols of a task family's model on ``simulator`` (a spiking backend)."""

    def __init__(self, family, model, weights, simulator):
        self.family, self.model, self.simulator = family, model, simulator
        self.weights = weights
        self.lanes = model.learning.lanes
        self.records: list = []
        self.graph = None
        self._graphs: dict = {}

    def compiled(self, copies: int, nudging=None):
        """The legalized graph for ``copies`` lanes and the protocol's nudging (lowered once each)."""
        key = (copies, None if nudging is None else tuple(np.asarray(nudging, dtype=float).ravel()))
        if key not in self._graphs:
            traits = self.simulator.traits()
            lowered = self.family.lower(self.model, self.weights, traits, copies, nudging=nudging)
            self._graphs[key] = legalize(lowered, traits)
        return self._graphs[key]

    def save_state(self):
        return None

    def restore_state(self, saved) -> None:
        pass

    def scale_eta(self, factor: float) -> None:
        raise InferenceOnly(f"{self.simulator.name} runs rate-trained weights; train with the rate or brian2 backend")

    def set_plastic(self, forward: bool = True) -> None:
        self.scale_eta(1.0)

    def run_protocol(self, protocol, record=(), every: int = 1, marks=(), progress=None):
        if protocol.learn:
            self.scale_eta(1.0)
        lanes, steps = protocol.x.shape[1], protocol.steps
        graph = self.compiled(lanes, protocol.beta if np.any(protocol.beta) else None)
        self.graph = graph
        dt = self.model.dynamics.dt
        given = {"x": protocol.x, "target": protocol.target}
        inputs = {name: given[name] for name in graph.inputs()}
        rec = self.simulator.run_graph(graph, inputs=inputs, input_dt=dt, duration=steps * dt,
                                       sample_dt=dt, seed=spiking_seed(self.model), progress=None)
        self.records.append(rec)
        if progress is not None:
            progress(steps)
        u = rec.probes["u_out"]  # (K + 1, L, n_out): row m after m model steps
        return marked_outputs(np.asarray(u), protocol, record, every, marks)

    def run_info(self) -> RunInfo:
        if self.graph is None:
            return RunInfo(backend=self.simulator.name, dt=0.0, steps=0)
        return graph_info(self.simulator, self.graph, self.records)
