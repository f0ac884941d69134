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


def presentations(marks, steps: int) -> int | None:
    """The number of equal presentations ``marks`` close (m, 2m, ..., steps), else None."""
    marks = list(marks)
    if not marks or marks != [marks[0] * (j + 1) for j in range(len(marks))] or marks[-1] != steps:
        return None
    return len(marks)


def lanes_of(x: np.ndarray, slots: int) -> np.ndarray:
    """(slots * s, L, n) -> (s, slots * L, n): presentation j of lane l becomes lane j L + l."""
    s = x.shape[0] // slots
    return x.reshape(slots, s, *x.shape[1:]).transpose(1, 0, 2, 3).reshape(s, -1, x.shape[2])


def per_presentation(u: np.ndarray, slots: int, lanes: int) -> np.ndarray:
    """(s + 1, slots * L, n) -> (slots * s + 1, L, n): each presentation's rows after its own start
    (row 0: the first presentation's initial state)."""
    s = u.shape[0] - 1
    body = u[1:].reshape(s, slots, lanes, -1).transpose(1, 0, 2, 3).reshape(slots * s, lanes, -1)
    return np.concatenate([u[:1, :lanes], body])


def with_gaps(x: np.ndarray, slots: int, gap: int) -> np.ndarray:
    """(slots * s, L, n) -> (slots * (gap + s), L, n): ``gap`` steps of zeros before each of the
    ``slots`` presentations."""
    s = x.shape[0] // slots
    body = x.reshape(slots, s, *x.shape[1:])
    blank = np.zeros((slots, gap) + x.shape[1:], dtype=x.dtype)
    return np.concatenate([blank, body], axis=1).reshape(slots * (gap + s), *x.shape[1:])


def without_gaps(u: np.ndarray, slots: int, gap: int) -> np.ndarray:
    """(slots * (gap + s) + 1, L, n) -> (slots * s + 1, L, n): row 0 and each presentation's own
    rows, the gaps' rows dropped."""
    s = (u.shape[0] - 1) // slots - gap
    body = u[1:].reshape(slots, gap + s, *u.shape[1:])[:, gap:]
    return np.concatenate([u[:1], body.reshape(slots * s, *u.shape[1:])])


def window_means(v: np.ndarray, w: int, dt: float) -> np.ndarray:
    r"""A read-out's mean over the last ``w`` steps from its integral v (K + 1, L, n):
    :math:`(v_m - v_{m - w}) / (w\,dt)`, over the steps so far while m < w (row 0: row 1's)."""
    out = np.empty_like(v)
    m = np.arange(1, len(v))
    start = np.maximum(m - w, 0)
    out[1:] = (v[m] - v[start]) / ((m - start)[:, None, None] * dt)
    out[0] = out[1] if len(v) > 1 else 0.0
    return out


def rate_of_change(x: np.ndarray, dt: float) -> np.ndarray:
    """(x_k - x_{k-1}) / dt per step of ``x`` (K, L, n), with x_{-1} = 0: the host's prospective
    kick (the input starts from nothing)."""
    return np.diff(x, axis=0, prepend=np.zeros_like(x[:1])) / dt


def burst_counts(change: np.ndarray, levels: int) -> np.ndarray:
    """Spike counts (K, L, 2 n) of a kick sent as bursts: from the step of each change of x
    (``change``: x_k - x_{k-1}, (K, L, n)), round(|change| levels) spikes, one per step, from the
    positive (first n) or negative (last n) relay neuron; a burst still running when the next
    change comes is cut short."""
    n = change.shape[-1]
    counts = np.rint(np.abs(change) * levels)
    out = np.zeros(change.shape[:-1] + (2 * n,))
    left = np.zeros(change.shape[1:-1] + (2 * n,))
    for k in range(change.shape[0]):
        new = np.concatenate([np.where(change[k] > 0, counts[k], 0.0), np.where(change[k] < 0, counts[k], 0.0)],
                             axis=-1)
        changed = np.concatenate([change[k] != 0, change[k] != 0], axis=-1)
        left = np.where(changed, new, left)
        out[k] = left > 0
        left = np.maximum(left - 1, 0)
    return out


def settled(x: np.ndarray, steps: int) -> np.ndarray:
    """(K, L, 1): 0 during the first ``steps`` steps after each change of ``x`` (K, L, n) in a
    lane (the first step counts as a change), 1 after."""
    changed = np.concatenate([np.ones_like(x[:1, :, :1], dtype=bool),
                              np.any(x[1:] != x[:-1], axis=-1, keepdims=True)])
    out = np.ones(x.shape[:2] + (1,))
    since = np.full(x.shape[1:2] + (1,), steps)
    for k in range(x.shape[0]):
        since = np.where(changed[k], 0, since + 1)
        out[k] = since >= steps
    return out


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
        self.learning_graph = None  # the last graph that learned (its substitutions go to train's summary)
        self.stats = {"steps": 0, "learning_steps": 0}
        self.learning: dict | None = None  # what learning cost so far (learning_account)
        self._graphs: dict = {}

    def compiled(self, copies: int, nudging=None, learning: float | None = None):
        """The legalized graph for ``copies`` lanes, the protocol's nudging and, when it learns,
        the learning rate's factor (lowered once each; the cache holds the current weights')."""
        key = (copies, None if nudging is None else tuple(np.asarray(nudging, dtype=float).ravel()), learning)
        if key not in self._graphs:
            traits = self.simulator.traits()
            extra = {} if learning is None else {"learning": learning}
            lowered = self.family.lower(self.model, self.weights, traits, copies, nudging=nudging, **extra)
            self._graphs[key] = legalize(lowered, traits)
        return self._graphs[key]

    def learning_factor(self, protocol) -> float | None:
        """The learning rate's factor for ``protocol`` (None: the engine does not learn)."""
        return None

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
        lanes = protocol.x.shape[1]
        nudging = protocol.beta if np.any(protocol.beta) else None
        learning = self.learning_factor(protocol)
        graph = self.compiled(lanes, nudging, learning)
        if learning is not None:
            self.learning_graph = graph
        slots = presentations(marks, protocol.steps) if graph.meta.get("reset_between") else None
        gap = int(round(graph.meta.get("gap_between", 0.0) / self.model.dynamics.dt))
        gapped = presentations(marks, protocol.steps) if gap else None
        if gap and gapped is None:
            raise ValueError("a blank between images needs equal presentations marked at their ends")
        if gapped is not None:  # a blank before each presentation, cut from the output again
            u = self.run(graph, with_gaps(protocol.x, gapped, gap), with_gaps(protocol.target, gapped, gap))
            u = without_gaps(self.readout(graph, u), gapped, gap)
        elif slots is None:
            u = self.readout(graph, self.run(graph, protocol.x, protocol.target))
        else:  # every presentation from the initial state: one lane per (presentation, lane)
            if learning is not None:
                raise InferenceOnly("learning in spikes runs one stream of images: leave spiking.between unset")
            graph = self.compiled(lanes * slots, nudging)
            u = self.run(graph, lanes_of(protocol.x, slots), lanes_of(protocol.target, slots))
            u = per_presentation(self.readout(graph, u), slots, lanes)
        self.graph = graph
        if progress is not None:
            progress(protocol.steps)
        return marked_outputs(u, protocol, record, every, marks)

    def readout(self, graph, u: np.ndarray) -> np.ndarray:
        """The output from the probed read-out: as it is, or a count read-out's window means."""
        window = graph.meta.get("count_readout")
        if window is None:
            return u
        dt = self.model.dynamics.dt
        return window_means(u, int(round(window["window"] / dt)), dt)

    def run(self, graph, x, target) -> np.ndarray:
        """Probe ``u_out`` (K + 1, lanes, n_out) of ``graph`` driven by ``x`` (and ``target``), one
        row per model step."""
        dt = self.model.dynamics.dt
        given = {"x": x, "target": target}
        bursts = graph.meta.get("kick_bursts") or {}
        for kick, source in (graph.meta.get("prospective") or {}).items():
            change = rate_of_change(given[source], dt)
            given[kick] = burst_counts(change * dt, bursts[kick]) if kick in bursts else change
        gate = graph.meta.get("learning_gate")
        if gate is not None:
            given[gate["input"]] = settled(given[gate["source"]], int(round(gate["settle"] / dt)))
        inputs = {name: given[name] for name in graph.inputs()}
        rec = self.simulator.run_graph(graph, inputs=inputs, input_dt=dt, duration=x.shape[0] * dt,
                                       sample_dt=dt, seed=spiking_seed(self.model), progress=None)
        self.records.append(rec)
        self.stats["steps"] += x.shape[0]
        if rec.learned:
            self.learned(graph, rec.learned)
            self.stats["learning_steps"] += x.shape[0]
            self.count_learning(graph, rec)
        return np.asarray(rec.probes["u_out"])

    def count_learning(self, graph, rec) -> None:
        """Add a run that learned to :meth:`learning_account`: per learning edge its plastic
        synapses (every copy's) and their updates, one per synapse every
        ``Traits.learning_interval`` (else every simulation step); the run's spikes and time."""
        every = self.simulator.traits().learning_interval or rec.dt
        updates = int(round(rec.simulated_s / every))
        acc = self.learning or {"edges": {}, "learning_s": 0.0, "spikes": {}}
        for edge in graph.edges:
            if edge.learning is not None:
                n = graph.nodes[edge.target].size * graph.nodes[edge.source].size * graph.copies
                entry = acc["edges"].setdefault(edge.name, {"rule": type(edge.learning).__name__, "synapses": n,
                                                            "interval_s": every, "updates": 0})
                entry["updates"] += n * updates
        acc["learning_s"] += rec.simulated_s
        for node, counts in rec.spikes.items():
            if node not in graph.inputs():
                acc["spikes"][node] = acc["spikes"].get(node, 0) + int(round(float(np.sum(counts))))
        self.learning = acc

    def learning_account(self) -> dict | None:
        """Plastic synapses, their updates, the time (s) and spikes of the runs that learned."""
        acc = self.learning
        if acc is None:
            return None
        return {"synapses": sum(e["synapses"] for e in acc["edges"].values()),
                "updates": sum(e["updates"] for e in acc["edges"].values()), **acc}

    def learned(self, graph, learned: dict) -> None:
        """Take the weights a run ended with (the copies share them: the first copy's)."""
        self.weights = self.family.learned_weights(self.model, graph, self.weights, learned)
        self._graphs.clear()  # every graph holds the old weights

    def state_arrays(self) -> dict:
        return {}  # every protocol starts its network afresh: nothing carries over but the weights

    def load_state_arrays(self, arrays: dict) -> None:
        pass

    def run_info(self) -> RunInfo:
        if self.graph is None:
            return RunInfo(backend=self.simulator.name, dt=0.0, steps=0)
        return graph_info(self.simulator, self.graph, self.records)


class LearningGraphEngine(GraphEngine):
    """A :class:`GraphEngine` whose learning protocols change the weights: the family lowers a
    graph whose learning edges learn (``family.lower(..., learning=factor)``, the factor being the
    learning rate's decay so far), the simulator reports the weights each run ended with, and they
    become the engine's (``family.learned_weights``). The lanes share the weights: on targets
    whose copies cannot (``Traits.shared_learning``) the model learns on one lane."""

    def __init__(self, family, model, weights, simulator):
        super().__init__(family, model, weights, simulator)
        self.eta_factor = 1.0

    def learning_factor(self, protocol) -> float | None:
        return self.eta_factor if protocol.learn else None

    def scale_eta(self, factor: float) -> None:
        self.eta_factor *= factor

    def set_plastic(self, forward: bool = True) -> None:
        if not forward:
            raise InferenceOnly(f"on {self.simulator.name} only the output layer learns; lateral weights do not")
