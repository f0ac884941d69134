r"""Network graphs as Nengo networks: one builder per primitive (:data:`NODE_BUILDERS`), one per
edge kind. Every copy of a node is its own Nengo object (value nodes share one Node, sliced per
copy), so NengoLoihi maps one copy's populations onto cores as it would a single network.

- Input, Signal: a Node holding the table; spike counts are emitted as Nengo spikes (count / dt)
  (on Loihi through off-chip relay neurons that fire in exactly those steps).
- Encoders: Poisson (``PoissonSpiking``), Bernoulli (at most one spike per step), regular
  (``SpikingRectifiedLinear``, the phase as its initial voltage), with gain = max rate; off chip on
  Loihi.
- LIF: ``nengo.LIF`` when the threshold is 1 and the reset is to 0 (a threshold s scales the
  current by 1/s), else :class:`GraphLIF`; IF: :class:`GraphIF`.
- CubaLIF: :func:`GraphCubaLIF` (its bias inside the neuron type, so the input current is the
  synaptic input alone; the chip gets LIF with Lowpass inputs from legalization);
- LI: a summing Node plus its bias (tau = 0), or :func:`GraphLI` units; Host: a Node.
- Edges: ``nengo.Connection`` with the edge's transform (divided by the target's gain for neuron
  inputs, since Nengo multiplies those by it) and synapse, primed from the edge's history;
  decoded edges use ``NoSolver`` with the edge's decoders.
- Learning edges (:class:`~neuromorph.graph.PES`): a decoded connection from the source ensemble
  (decoders W^T, Nengo's ``PES`` with learning rate = rate x source size, its error -e); on
  NengoLoihi the chip decodes it within +-1, so it decodes y / :data:`LEARNED_RANGE` and the host
  scales it back (the error scaled alike, so the rule is unchanged). The weights a run ends with
  are read back (:func:`learned_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...graph import (IF, LI, LIF, AnalogEncoder, BernoulliEncoder, Connection, CubaLIF, Decoded, GraphError, Host,
                      Input, Integrator, PoissonEncoder, RegularEncoder, Signal)
from ...graph.edges import Alpha, DoubleExp
from ...spikes import RASTER_NEURONS
from .common import SpikeCounter, bernoulli_type, filter_state, import_loihi, import_nengo, make_primed


@dataclass
class Built:
    """A Nengo network built from a graph, with its probes and spike counters."""

    net: object
    steps: int
    probes: dict = field(default_factory=dict)  # probe key -> [(nengo probe, kind[, factor])] per copy
    counters: dict = field(default_factory=dict)  # node -> [SpikeCounter] per copy
    raster: object = None
    decode_tau: float | None = None
    learned: dict = field(default_factory=dict)  # edge name -> [nengo.Connection] per copy
    learned_from: dict = field(default_factory=dict)  # edge name -> weights its chip learning started above
    pes_wgt_exp: int | None = None  # NengoLoihi's learned-weight exponent for this run (None: its default)


def table_reader(values: np.ndarray, table_dt: float, sim_dt: float):
    """A Node function reading row floor((t - dt/2) / table_dt) of ``values`` (the value held
    during the step that ends at t)."""
    last = len(values) - 1
    flat = values.reshape(len(values), -1)
    return lambda t: flat[min(max(int(np.floor((t - sim_dt / 2) / table_dt + 1e-9)), 0), last)]


class Nodes:
    """The Nengo objects of every node: ``out[name][c]`` what copy c sends (an ensemble's neurons
    or a Node slice), ``into[name][c]`` where inputs go, ``ens[name][c]`` ensembles."""

    def __init__(self, graph, inputs, input_dt, dt, loihi: bool, net, seed: int = 0):
        self.graph, self.inputs, self.input_dt, self.dt, self.loihi, self.net = graph, inputs, input_dt, dt, loihi, net
        self.seed = seed
        self.out: dict = {}
        self.into: dict = {}
        self.ens: dict = {}
        self.learned: dict = {}
        self.learned_from: dict = {}
        self.pes_wgt_exp: int | None = None
        self.position = {name: p for p, name in enumerate(graph.topological_order())}

    def input_values(self, name: str, node) -> np.ndarray:
        if name not in self.inputs:
            given = ", ".join(self.inputs) or "none"
            raise GraphError(f"input node {name!r}: no values given for it (inputs: {given})")
        values = np.asarray(self.inputs[name], dtype=float)
        copies = self.graph.copies
        if values.ndim == 2:
            values = np.repeat(values[:, None, :], copies, axis=1)
        if values.shape[1:] != (copies, node.size):
            raise GraphError(f"input node {name!r}: values have shape {np.shape(self.inputs[name])}; expected "
                             f"(steps, {copies}, {node.size}) or (steps, {node.size})")
        return values

    def shared_node(self, name: str, node, function, label: str) -> None:
        nengo = import_nengo()
        size, copies = node.size, self.graph.copies
        obj = nengo.Node(function, size_out=size * copies, label=label)
        self.out[name] = [obj[c * size:(c + 1) * size] for c in range(copies)]


def copies_table(values: np.ndarray, copies: int) -> np.ndarray:
    return np.repeat(values[:, None, :], copies, axis=1) if values.ndim == 2 else values


def build_input(b: Nodes, name: str, node: Input) -> None:
    values = b.input_values(name, node)
    if node.kind == "value":
        b.shared_node(name, node, table_reader(values, b.input_dt, b.dt), name)
        return
    # the spikes of input step k fall in the simulation step that starts at k input_dt; Nengo
    # spikes are 1/dt high
    ratio = max(1, int(round(b.input_dt / b.dt)))
    grid = np.zeros((values.shape[0] * ratio,) + values.shape[1:])
    grid[::ratio] = values / b.dt
    if not b.loihi:
        b.shared_node(name, node, table_reader(grid, b.dt, b.dt), name)
        return
    # a chip takes spikes from off-chip neurons: one relay neuron per input fires in exactly the
    # steps of its input spikes (v += c + 1e-6, floor(v) spikes; at most one per step reaches the chip)
    if np.any(values > 1):
        raise GraphError(f"input node {name!r}: {int(values.max())} spikes in one step; the chip takes at most one "
                         "spike per step from off-chip inputs")
    nengo = import_nengo()
    table = name + ".counts"
    b.shared_node(table, node, table_reader(np.where(grid > 0, grid + 1e-6 / b.dt, 0.0), b.dt, b.dt), table)
    feed = b.out.pop(table)
    _ensembles(b, name, node, lambda c: nengo.SpikingRectifiedLinear(), np.ones(node.size),
               lambda c: np.zeros(node.size), off_chip=True)
    for c in range(b.graph.copies):
        nengo.Connection(feed[c], b.into[name][c], synapse=None)


def build_signal(b: Nodes, name: str, node: Signal) -> None:
    b.shared_node(name, node, table_reader(copies_table(node.values, b.graph.copies), node.dt, b.dt), name)


def _ensembles(b: Nodes, name: str, node, neuron_type, gain, bias, off_chip: bool = False, encoders=None,
               dims: int = 1) -> None:
    nengo = import_nengo()
    objs = []
    for c in range(b.graph.copies):
        kw = {} if encoders is None else {"encoders": encoders}
        ens = nengo.Ensemble(node.size, dims, neuron_type=neuron_type(c), gain=gain, bias=bias(c), label=f"{name}[{c}]",
                             **kw)
        if b.loihi and off_chip:
            b.net.config[ens].on_chip = False
        objs.append(ens)
    b.ens[name] = objs
    b.out[name] = [e.neurons for e in objs]
    b.into[name] = [e.neurons for e in objs]


def build_encoder(b: Nodes, name: str, node) -> None:
    nengo = import_nengo()
    if isinstance(node, PoissonEncoder):
        kind = nengo.PoissonSpiking(nengo.RectifiedLinear())
    elif isinstance(node, BernoulliEncoder):
        kind = bernoulli_type(nengo.RectifiedLinear())
    else:
        phase = np.broadcast_to(node.phase, (b.graph.copies, node.size)) if node.phase.ndim < 2 else node.phase
        _ensembles(b, name, node, lambda c: nengo.SpikingRectifiedLinear(initial_state={"voltage": phase[c]}),
                   np.full(node.size, node.max_rate), lambda c: np.zeros(node.size), off_chip=True)
        return
    _ensembles(b, name, node, lambda c: kind, np.full(node.size, node.max_rate), lambda c: np.zeros(node.size),
               off_chip=True)


def build_analog(b: Nodes, name: str, node: AnalogEncoder) -> None:
    nengo = import_nengo()
    objs = [nengo.Node(lambda t, x, g=node.gain: g * x, size_in=node.size, label=f"{name}[{c}]")
            for c in range(b.graph.copies)]
    b.out[name] = b.into[name] = objs


def per_copy(value, copies: int, size: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    return np.broadcast_to(arr, (copies, size)) if arr.ndim < 2 else arr


def build_lif(b: Nodes, name: str, node: LIF) -> None:
    nengo = import_nengo()
    copies, size = b.graph.copies, node.size
    v0 = per_copy(0.0 if node.v0 is None else node.v0, copies, size)
    bias = per_copy(node.bias, copies, size)
    gain = np.ones(size) if node.gain is None else node.gain
    standard = node.reset == 0 and node.reset_mode == "zero"
    scale = 1.0 / node.threshold if standard else 1.0
    v_min = -np.inf if node.v_min is None else node.v_min * scale
    if standard:
        def kind(c):
            return nengo.LIF(tau_rc=node.tau_rc, tau_ref=node.tau_ref, min_voltage=min(v_min, 0.0),
                             initial_state={"voltage": v0[c] * scale})
    else:
        if b.loihi:
            raise GraphError(f"node {name!r}: the chip's LIF resets to 0 at threshold 1")
        def kind(c):
            return GraphLIF(node.tau_rc, node.tau_ref, node.threshold, node.reset, node.reset_mode, node.v_min,
                            initial_state={"voltage": v0[c]})
    _ensembles(b, name, node, kind, gain * scale, lambda c: bias[c] * scale, encoders=node.encoders,
               dims=node.dimensions or 1)


def build_if(b: Nodes, name: str, node: IF) -> None:
    """Nengo: :func:`GraphIF`. NengoLoihi: ``SpikingRectifiedLinear`` (the chip's IF compartment:
    v += J dt / (tau threshold) at threshold 1, reset to 0, one refractory step), with the current
    scaled by 1 / (tau threshold); legalization has recorded the difference."""
    nengo = import_nengo()
    copies, size = b.graph.copies, node.size
    v0 = per_copy(0.0 if node.v0 is None else node.v0, copies, size)
    bias = per_copy(node.bias, copies, size)
    if b.loihi:
        scale = 1.0 / (node.tau * node.threshold)
        _ensembles(b, name, node, lambda c: nengo.SpikingRectifiedLinear(initial_state={"voltage": v0[c] * 0}),
                   np.full(size, scale), lambda c: bias[c] * scale)
        return
    _ensembles(b, name, node, lambda c: GraphIF(node.tau, node.tau_ref, node.threshold, node.reset, node.reset_mode,
                                                node.v_min, node.v_max, initial_state={"voltage": v0[c]}),
               np.ones(size), lambda c: bias[c])


def build_cubalif(b: Nodes, name: str, node: CubaLIF) -> None:
    copies, size = b.graph.copies, node.size
    per = {key: per_copy(0.0 if getattr(node, key) is None else getattr(node, key), copies, size)
           for key in ("bias", "syn_bias", "v0", "i0")}
    _ensembles(b, name, node, lambda c: GraphCubaLIF(node, {k: v[c] for k, v in per.items()}), np.ones(size),
               lambda c: np.zeros(size))


def build_li(b: Nodes, name: str, node: LI) -> None:
    """tau = 0: a summing Node plus the bias; tau > 0: an off-chip ensemble of :func:`GraphLI`
    units (v = a v + (1 - a)(bias + J) per step, in the step its input arrives)."""
    nengo = import_nengo()
    copies, size = b.graph.copies, node.size
    bias = per_copy(node.bias, copies, size)
    if node.tau > 0:
        v0 = per_copy(0.0 if node.v0 is None else node.v0, copies, size)
        _ensembles(b, name, node, lambda c: GraphLI(node.tau, bias[c], v0[c]), np.ones(size), lambda c: np.zeros(size),
                   off_chip=True)
        return
    objs = [nengo.Node(lambda t, x, bc=bias[c].copy(): x + bc, size_in=size, label=f"{name}[{c}]")
            for c in range(copies)]
    b.into[name], b.out[name] = objs, objs


def build_integrator(b: Nodes, name: str, node: Integrator) -> None:
    """An off-chip ensemble of :func:`GraphIntegrator` units (v += dt (bias + gain J) per step;
    a spike, J = w / dt for one step, adds gain w)."""
    copies, size = b.graph.copies, node.size
    bias = per_copy(node.bias, copies, size)
    v0 = per_copy(0.0 if node.v0 is None else node.v0, copies, size)
    _ensembles(b, name, node, lambda c: GraphIntegrator(bias[c], v0[c]), np.full(size, float(node.gain)),
               lambda c: np.zeros(size), off_chip=True)


def build_host(b: Nodes, name: str, node: Host) -> None:
    nengo = import_nengo()
    objs = [nengo.Node(lambda t, x: node.apply(x), size_in=node.size, label=f"{name}[{c}]")
            for c in range(b.graph.copies)]
    b.into[name] = b.out[name] = objs


NODE_BUILDERS: dict[type, Callable[..., None]] = {
    Input: build_input, Signal: build_signal, PoissonEncoder: build_encoder, BernoulliEncoder: build_encoder,
    RegularEncoder: build_encoder, AnalogEncoder: build_analog, LIF: build_lif, IF: build_if, CubaLIF: build_cubalif,
    LI: build_li, Integrator: build_integrator,
    Host: build_host}


def base_synapse(syn):
    """The Nengo synapse of a graph synapse: Lowpass, Alpha, or a LinearFilter with the
    transfer function 1 / ((tau s + 1)(tau2 s + 1)) for DoubleExp."""
    nengo = import_nengo()
    if isinstance(syn, DoubleExp):
        return nengo.LinearFilter([1.0], [syn.tau * syn.tau2, syn.tau + syn.tau2, 1.0])
    return nengo.Alpha(syn.tau) if isinstance(syn, Alpha) else nengo.Lowpass(syn.tau)


def nengo_synapse(syn, history=None, history_dt=None, dt=0.001):
    """The Nengo synapse of a graph synapse, its state primed from ``history`` (oldest first)."""
    if syn is None:
        return None
    base = base_synapse(syn)
    if history is None:
        return base
    step = max(1, int(round(dt / history_dt)))
    sampled = np.asarray(history)[::-1][::step][::-1]  # every dt, ending at t = 0
    return make_primed(base, filter_state(base, sampled, dt))


def build_connection(b: Nodes, edge: Connection) -> None:
    nengo = import_nengo()
    pre, post = b.graph.nodes[edge.source], b.graph.nodes[edge.target]
    width = post.dimensions if edge.into == "ensemble" else post.size
    W = edge.matrix(width, pre.size)
    history = edge.history
    if edge.into == "neurons" and isinstance(post, LIF) and post.gain is not None:
        W = W / post.gain[:, None]  # Nengo multiplies a neuron input by the ensemble's gain
        history = None if history is None else history / post.gain
    if edge.learning is not None:
        build_learning(b, edge)
        return
    if edge.into == "ensemble":
        targets = b.ens[edge.target]
    else:
        targets = b.into[edge.target]
    back = b.position[edge.source] >= b.position[edge.target]  # closes a cycle: the previous step's output
    for c in range(b.graph.copies):
        syn = nengo_synapse(edge.synapse, None if history is None else history, edge.history_dt, b.dt)
        if syn is None and back:
            syn = 0  # Nengo's one-step delay
        nengo.Connection(b.out[edge.source][c], targets[c], transform=W, synapse=syn)


#: On NengoLoihi a learned read-out is decoded on the chip, where it must stay within +-1 (the
#: source's radius): it is decoded as y / LEARNED_RANGE and multiplied back on the host.
LEARNED_RANGE = 2.0


def error_gain(rule, loihi: bool) -> float:
    """The factor G on the error sent to the rule: on NengoLoihi, 127 / (100 error_max), so the
    largest expected error fills the chip's 8-bit error (NengoLoihi sends round(100 E), clipped to
    +-127); 1 elsewhere."""
    if not loihi or rule.error_max is None:
        return 1.0
    from .loihi import PES_ERROR_LEVELS, PES_ERROR_SCALE

    return PES_ERROR_LEVELS / (PES_ERROR_SCALE * rule.error_max)


def build_learning(b: Nodes, edge: Connection) -> None:
    r"""A learning edge: per copy, a decoded connection (decoders W^T / R) from the source
    ensemble through a host Node that multiplies by R into the target, learning with Nengo's PES
    (:math:`\Delta D = -\kappa\,dt/n\;E\,a^T`) from E = -G e (:func:`error_gain`), so
    kappa = rate n / (G R). On NengoLoihi E passes :class:`~.loihi.ErrorGrid` on the host.

    On NengoLoihi the chip learns from zero: the chip sets a learned synapse's weight scale from
    its initial weights, and learning from other initial weights does not follow the rule (a
    start at 0.2 x trained weights changed them 2.3x off the rule, rms). The starting weights ride
    on a fixed twin connection into the same host node; the chip learns the change."""
    nengo = import_nengo()
    rule = edge.learning
    assert rule is not None
    pre, post = b.graph.nodes[edge.source], b.graph.nodes[edge.target]
    W = edge.matrix(post.size, pre.size)
    scale = LEARNED_RANGE if b.loihi else 1.0
    gain = error_gain(rule, b.loihi)
    b.learned[edge.name] = []
    twin = b.loihi and rule.rate > 0 and bool(np.any(W))
    if twin:
        b.learned_from[edge.name] = W
    if b.loihi and rule.rate > 0:  # the weights' step follows the rate (one exponent per run: the finest)
        from .loihi import learned_weight_exponent

        exponent = learned_weight_exponent(getattr(rule, "decay", 1.0))
        b.pes_wgt_exp = exponent if b.pes_wgt_exp is None else min(b.pes_wgt_exp, exponent)
    for c in range(b.graph.copies):
        mid = nengo.Node(size_in=post.size, label=f"{edge.name}[{c}].decoded")
        if twin:
            nengo.Connection(b.ens[edge.source][c], mid, function=lambda x, d=post.size: np.zeros(d),
                             solver=nengo.solvers.NoSolver(W.T / scale), synapse=nengo_synapse(edge.synapse, dt=b.dt),
                             label=f"{edge.name}[{c}].start")
        conn = nengo.Connection(b.ens[edge.source][c], mid, function=lambda x, d=post.size: np.zeros(d),
                                solver=nengo.solvers.NoSolver((np.zeros_like(W.T) if twin else W.T) / scale),
                                synapse=nengo_synapse(edge.synapse, dt=b.dt),
                                learning_rule_type=nengo.PES(learning_rate=rule.rate * pre.size / (gain * scale),
                                                             pre_synapse=nengo.Lowpass(rule.pre_tau))
                                if rule.rate > 0 else None,  # NengoLoihi cannot discretize a zero rate
                                label=f"{edge.name}[{c}]")
        nengo.Connection(mid, b.into[edge.target][c], transform=scale, synapse=None)
        if rule.rate > 0:
            error = b.out[rule.error][c]
            if rule.gate is not None:  # the error times the gate's value, on the host
                gated = nengo.Node(lambda t, x, n=post.size: x[:n] * x[n], size_in=post.size + 1,
                                   label=f"{edge.name}[{c}].gated")
                nengo.Connection(error, gated[:post.size], synapse=None)
                nengo.Connection(b.out[rule.gate][c], gated[post.size:], synapse=None)
                error = gated
            if b.loihi:  # errors on the chip's grid (Traits.learning_error_grid), where its shift is exact
                from .loihi import ErrorGrid

                grid = nengo.Node(ErrorGrid(post.size, seed=b.seed + c), size_in=post.size, size_out=post.size,
                                  label=f"{edge.name}[{c}].error_grid")
                nengo.Connection(error, grid, transform=-gain, synapse=None)
                nengo.Connection(grid, conn.learning_rule, synapse=None)
            else:
                nengo.Connection(error, conn.learning_rule, transform=-gain, synapse=None)
        b.learned[edge.name].append(conn)


def learned_weights(built: Built, sim, loihi: bool) -> dict:
    """The weights (copies, n_post, n_pre) every learning edge ended the run with."""
    scale = LEARNED_RANGE if loihi else 1.0
    out = {}
    for name, conns in built.learned.items():
        if conns[0].learning_rule_type is None:
            out[name] = np.stack([conn.solver.values.T for conn in conns]) * scale
        elif loihi:
            from .loihi import learned_decoders

            out[name] = np.stack([learned_decoders(sim, conn).T for conn in conns]) * scale
            out[name] = out[name] + built.learned_from.get(name, 0.0)
        else:
            out[name] = np.stack([np.array(sim.signals[sim.model.sig[conn]["weights"]]) for conn in conns]) * scale
    return out


def build_decoded(b: Nodes, edge: Decoded) -> None:
    nengo = import_nengo()
    post = b.graph.nodes[edge.target]
    T = edge.full_transform()
    d = edge.dimensions
    history = None if edge.history is None else np.asarray(edge.history) @ T.T
    targets = b.ens[edge.target] if isinstance(post, LIF) else b.into[edge.target]
    for c in range(b.graph.copies):
        nengo.Connection(b.ens[edge.source][c], targets[c], function=lambda x, d=d: np.zeros(d),
                         solver=nengo.solvers.NoSolver(edge.decoders), transform=T,
                         synapse=nengo_synapse(edge.synapse, history, edge.history_dt, b.dt))


def network(graph, inputs=None, input_dt=None, duration: float = 0.0, seed: int = 0, loihi: bool = False) -> Built:
    """The Nengo network of ``graph`` (legalized for the target), with probes and spike counters."""
    nengo = import_nengo()
    steps = int(round(duration / graph.dt))
    built = Built(net=None, steps=steps, decode_tau=graph.meta.get("decode_tau"))
    with nengo.Network(label=graph.name, seed=seed) as net:
        if loihi:
            import_loihi().add_params(net)
        b = Nodes(graph, dict(inputs or {}), input_dt or graph.dt, graph.dt, loihi, net, seed)
        for name, node in graph.nodes.items():
            NODE_BUILDERS[type(node)](b, name, node)
        for edge in graph.edges:
            (build_decoded if isinstance(edge, Decoded) else build_connection)(b, edge)
        built.learned = b.learned
        built.learned_from = b.learned_from
        built.pes_wgt_exp = b.pes_wgt_exp
        for name, node in graph.nodes.items():
            if node.spiking and name in b.ens:
                built.counters[name] = []
                for ens in b.ens[name]:
                    counter = SpikeCounter(node.size, graph.dt)
                    nengo.Connection(ens.neurons, nengo.Node(counter, size_in=node.size, size_out=0), synapse=None)
                    built.counters[name].append(counter)
        first = next(iter(graph.neurons()), None)
        if first is not None:
            built.raster = (first, nengo.Probe(b.ens[first][0].neurons[:RASTER_NEURONS], synapse=None))
        for key, probe in graph.probes.items():
            node = graph.nodes[probe.node]
            if probe.variable == "spikes":
                built.probes[key] = [(nengo.Probe(e.neurons, synapse=None), "spikes") for e in b.ens[probe.node]]
            elif probe.variable == "voltage" and probe.node in b.ens:
                if b.loihi:  # the chip's membranes are in its own fixed-point units: not comparable
                    continue
                # Nengo's own LIF runs on v / threshold
                own = isinstance(node, LIF) and node.reset == 0 and node.reset_mode == "zero"
                factor = node.threshold if own else 1
                built.probes[key] = [(nengo.Probe(e.neurons, "voltage", synapse=None),
                                      "voltage", factor) for e in b.ens[probe.node]]
            elif probe.node in b.ens and isinstance(node, (LI, Integrator)):  # its units' output is v
                built.probes[key] = [(nengo.Probe(e.neurons, synapse=None), "value") for e in b.ens[probe.node]]
            elif probe.node in b.ens:
                raise GraphError(f"probe {key!r}: the Nengo builder probes the value of read-outs and host nodes, "
                                 f"not of {type(node).__name__} neurons")
            else:
                built.probes[key] = [(nengo.Probe(o, synapse=None), "value") for o in b.out[probe.node]]
    built.net = net
    return built


def gather(built: Built, sim, graph, sample_dt: float) -> dict:
    """Probe arrays (K + 1, copies, n) for values (row 0: the first step's value) and (K, copies, n)
    spike counts per sample period."""
    ratio = max(1, int(round(sample_dt / graph.dt)))
    out = {}
    for key, entries in built.probes.items():
        data = np.stack([sim.data[p] for p, *_ in entries], axis=1)  # (steps, copies, n)
        kind = entries[0][1]
        if kind == "spikes":
            counts = data * graph.dt
            K = counts.shape[0] // ratio
            out[key] = counts[: K * ratio].reshape(K, ratio, *counts.shape[1:]).sum(axis=1)
        else:
            if kind == "voltage":
                data = data * entries[0][2]
            rows = data[ratio - 1::ratio]
            out[key] = np.concatenate([rows[:1], rows], axis=0)
    return out


# -- neuron types the graph needs beyond Nengo's own ------------------------------------------------


def GraphLIF(tau_rc, tau_ref, threshold, reset, reset_mode, v_min, initial_state=None):
    """A LIF neuron with any threshold, reset value and reset mode (exact exponential update per
    step, refractory time counted down in steps; not for the chip)."""
    nengo = import_nengo()

    class GeneralLIF(nengo.neurons.NeuronType):
        state = {"voltage": nengo.dists.Choice([0.0]), "refractory_time": nengo.dists.Choice([0.0])}
        spiking = True

        def step(self, dt, J, output, voltage, refractory_time):
            refractory_time -= dt
            active = refractory_time <= 0
            voltage[active] = J[active] + (voltage[active] - J[active]) * np.exp(-dt / tau_rc)
            if v_min is not None:
                np.maximum(voltage, v_min, out=voltage)
            spiked = voltage > threshold
            output[...] = spiked / dt
            if reset_mode == "zero":
                voltage[spiked] = reset
            else:
                voltage[spiked] -= threshold - reset
            refractory_time[spiked] = tau_ref

        def max_rates_intercepts(self, gain, bias):
            return np.full_like(gain, np.nan), np.full_like(gain, np.nan)

    return GeneralLIF(initial_state=initial_state)


def GraphIF(tau, tau_ref, threshold, reset, reset_mode, v_min=None, v_max=None, initial_state=None):
    """A non-leaky integrate-and-fire neuron, tau dv/dt = J, integrating through its refractory
    period, v kept within [v_min, v_max] (not for the chip)."""
    nengo = import_nengo()

    class IntegrateAndFire(nengo.neurons.NeuronType):
        state = {"voltage": nengo.dists.Choice([0.0]), "refractory_time": nengo.dists.Choice([0.0])}
        spiking = True

        def step(self, dt, J, output, voltage, refractory_time):
            refractory_time -= dt
            voltage += J * dt / tau
            if v_min is not None or v_max is not None:
                np.clip(voltage, -np.inf if v_min is None else v_min, np.inf if v_max is None else v_max, out=voltage)
            spiked = (voltage > threshold) & (refractory_time <= 1e-12)
            output[...] = spiked / dt
            if reset_mode == "zero":
                voltage[spiked] = reset
            else:
                voltage[spiked] -= threshold - reset
            refractory_time[spiked] = tau_ref

        def max_rates_intercepts(self, gain, bias):
            return np.full_like(gain, np.nan), np.full_like(gain, np.nan)

    return IntegrateAndFire(initial_state=initial_state)


def GraphCubaLIF(node, values: dict):
    """A current-based LIF neuron (:class:`~neuromorph.graph.CubaLIF`): per step, the input J
    (synaptic input only) charges I = a_s I + (1 - a_s)(J + syn_bias), then
    v = a_m v + (1 - a_m)(bias + I), threshold and reset (not for the chip)."""
    nengo: Any = import_nengo()
    bias, syn_bias = values["bias"].copy(), values["syn_bias"].copy()

    class CurrentBasedLIF(nengo.neurons.NeuronType):
        state = {"voltage": nengo.dists.Choice([0.0]), "current": nengo.dists.Choice([0.0])}
        spiking = True

        def step(self, dt, J, output, voltage, current):
            a_syn, a_rc = np.exp(-dt / node.tau_syn), np.exp(-dt / node.tau_rc)
            current[...] = a_syn * current + (1 - a_syn) * (J + syn_bias)
            voltage[...] = a_rc * voltage + (1 - a_rc) * (bias + current)
            spiked = voltage > node.threshold
            output[...] = spiked / dt
            if node.reset_mode == "zero":
                voltage[spiked] = node.reset
            else:
                voltage[spiked] -= node.threshold - node.reset

        def max_rates_intercepts(self, gain, bias):
            return np.full_like(gain, np.nan), np.full_like(gain, np.nan)

    return CurrentBasedLIF(initial_state={"voltage": values["v0"].copy(), "current": values["i0"].copy()})


def state_unit(update, v0):
    """A non-spiking Nengo neuron type whose output is its state v, updated each step by
    ``update(dt, v, J)`` (in place) with the input J held over the step."""
    nengo = import_nengo()

    class StateUnit(nengo.neurons.NeuronType):
        state = {"voltage": nengo.dists.Choice([0.0])}
        spiking = False

        def step(self, dt, J, output, voltage):
            update(dt, voltage, J)
            output[...] = voltage

        def max_rates_intercepts(self, gain, bias):
            return np.full_like(gain, np.nan), np.full_like(gain, np.nan)

    return StateUnit(initial_state={"voltage": np.asarray(v0, dtype=float).copy()})


def GraphLI(tau, bias, v0):
    """A leaky integrator: v = a v + (1 - a)(bias + J), a = e^(-dt/tau)."""
    bias = np.asarray(bias, dtype=float).copy()

    def update(dt, v, J):
        a = np.exp(-dt / tau)
        v[...] = a * v + (1 - a) * (bias + J)

    return state_unit(update, v0)


def GraphIntegrator(bias, v0):
    """An integrator: v = v + dt (bias + J), J = gain x (the ensemble's gain)."""
    bias = np.asarray(bias, dtype=float).copy()

    def update(dt, v, J):
        v += dt * (bias + J)

    return state_unit(update, v0)
