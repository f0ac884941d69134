r"""Target legalization: passes that rewrite a graph into one the target can run, each change
recorded as a :class:`~neuromorph.graph.network.Substitution` on the new graph.

- step: the graph's dt -> the target's step; a discrete-time graph (``meta['discrete']``: its
  step is part of its meaning, as in NIR) keeps its step where the target can, and on a fixed
  clock runs step for step with time rescaled (every time constant, and spike weights, times
  the clock's step over the graph's);
- CubaLIF on chip: current-based neurons become LIF with Lowpass(tau_syn) inputs where the target
  has no CubaLIF of its own (a chip compartment's current is that low-pass);
- synapses on chip: an alpha synapse (tau) into on-chip neurons (or on a learning edge, which the
  chip decodes), where only first-order filters exist, becomes Lowpass(2 tau): the same mean
  delay :math:`\int t h = 2\tau` and the same noise power :math:`\int h^2 = 1/(4\tau)`;
- learning: an edge that learns by a rule the target lacks raises :class:`GraphError`; on a chip
  the rule's precision is recorded and its trace's time constant rounded to whole steps;
- encoders off chip: Poisson encoders, where an off-chip population passes at most one spike
  per step, become Bernoulli encoders (p = rate dt); an encoder above one spike per step becomes
  several input neurons per input (each at rate / m, the same weight per spike);
- prospective kicks on chip: a host current (an Input of values into on-chip neurons) becomes
  spike bursts from off-chip relay neurons, one positive and one negative per input, whose
  counts quantize the kick to :data:`KICK_LEVELS` levels (at most one spike per step);
- IF neurons on a chip that resets to 0: a unit becomes several compartments whose summed spikes
  follow its rate closely (the charge lost at each reset would otherwise make a staircase);
- initial voltages: set to 0 where a target cannot set them;
- refractory period on a step grid: recorded (effectively tau_ref - dt/2; population codes solve
  their decoders for it);
- weights: discretized by the target (recorded; the realized weights are measured in hardware);
- what no pass can fix (an unsupported reset mode) raises :class:`GraphError` naming the node.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .edges import Alpha, Connection, Decoded, DoubleExp, Lowpass, scaled, stages
from .network import Graph, Substitution
from .nodes import (IF, LI, LIF, BernoulliEncoder, CubaLIF, GraphError, Input, Integrator, PoissonEncoder,
                    RegularEncoder, Signal)
from .target import Traits


def on_chip(graph: Graph, name: str, traits: Traits) -> bool:
    """Whether node ``name`` runs on the chip (neurons, when the target has a chip)."""
    return traits.chip and isinstance(graph.nodes[name], (LIF, IF, CubaLIF))


def step(graph: Graph, traits: Traits) -> Graph:
    if traits.dt is None or abs(traits.dt - graph.dt) <= 1e-12:
        return graph
    if graph.meta.get("discrete"):
        if not traits.fixed_dt:
            return graph
        return rescaled_time(graph, traits)
    sub = Substitution("dt", f"dt = {graph.dt * 1e3:g} ms", f"dt = {traits.dt * 1e3:g} ms",
                       f"{traits.name} steps with a fixed dt; inputs are held between the model's steps")
    return graph.replace(dt=traits.dt).substituted(sub)


def _scaled(node, k: float):
    """A node with its time constants (and rates) for time running k times slower per step."""
    if isinstance(node, LIF):
        return dataclasses.replace(node, tau_rc=node.tau_rc * k, tau_ref=node.tau_ref * k)
    if isinstance(node, IF):
        return dataclasses.replace(node, tau=node.tau * k, tau_ref=node.tau_ref * k)
    if isinstance(node, CubaLIF):
        return dataclasses.replace(node, tau_syn=node.tau_syn * k, tau_rc=node.tau_rc * k)
    if isinstance(node, LI):
        return dataclasses.replace(node, tau=node.tau * k)
    if isinstance(node, Integrator):  # per clock step it adds what it added per graph step
        return dataclasses.replace(node, bias=node.bias / k, gain=node.gain / k)
    if isinstance(node, (PoissonEncoder, BernoulliEncoder, RegularEncoder)):
        return dataclasses.replace(node, max_rate=node.max_rate / k)
    if isinstance(node, Signal):
        return dataclasses.replace(node, dt=node.dt * k)
    return node


def rescaled_time(graph: Graph, traits: Traits) -> Graph:
    """A discrete-time graph on a fixed clock: one graph step per clock step, every time constant
    times k = clock step / graph step, and every edge from spikes times k (a spike carries weight
    per unit time), so each step computes what the graph's step computes."""
    if traits.dt is None or graph.dt is None:
        raise GraphError("rescaled_time needs the graph's step and a fixed clock")
    k = traits.dt / graph.dt
    nodes = {name: _scaled(node, k) for name, node in graph.nodes.items()}
    edges = []
    for e in graph.edges:
        if not isinstance(e, Connection):
            raise GraphError(f"edge {e.name!r}: a discrete-time graph on a fixed clock takes plain connections only")
        syn = scaled(e.synapse, k)
        weights = e.weights * k if graph.nodes[e.source].spiking else e.weights
        edges.append(dataclasses.replace(e, synapse=syn, weights=weights, history=None))
    sub = Substitution("dt.rescaled", f"the graph's step, {graph.dt * 1e3:g} ms",
                       f"{traits.name}'s {traits.dt * 1e3:g} ms clock, one graph step per clock step",
                       f"a discrete-time network computes per step; time constants are scaled by {k:g} so every step "
                       "does what the graph's step does; reported times are the graph's", {"time_scale": k})
    meta = {**graph.meta, "time_scale": k * graph.meta.get("time_scale", 1.0)}
    return graph.replace(nodes=nodes, edges=tuple(edges), dt=traits.dt, meta=meta).substituted(sub)


def cuba_on_chip(graph: Graph, traits: Traits) -> Graph:
    if traits.cuba or not any(isinstance(n, CubaLIF) for n in graph.nodes.values()):
        return graph
    nodes, edges, names = dict(graph.nodes), list(graph.edges), []
    for name, node in graph.nodes.items():
        if not isinstance(node, CubaLIF):
            continue
        names.append(name)
        nodes[name] = LIF(node.size, tau_rc=node.tau_rc, tau_ref=0.0, threshold=node.threshold, reset=node.reset,
                          reset_mode=node.reset_mode, bias=node.bias + node.syn_bias, v0=node.v0)
        edges = [dataclasses.replace(e, synapse=Lowpass(node.tau_syn)) if e.target == name else e for e in edges]
    sub = Substitution("neuron.cuba_on_chip", f"CubaLIF neurons ({', '.join(names)})",
                       "LIF neurons with Lowpass(tau_syn) synapses on their inputs",
                       f"{traits.name}'s compartment current is a first-order low-pass of its input: the same "
                       "equations, integrated by the chip (its synaptic bias enters as a constant current)",
                       {"nodes": names})
    return graph.replace(nodes=nodes, edges=tuple(edges)).substituted(sub)


def synapses_on_chip(graph: Graph, traits: Traits) -> Graph:
    if "alpha" in traits.synapses:
        return graph
    edges, taus = [], []
    for e in graph.edges:
        decoded_on_chip = isinstance(e, Connection) and e.learning is not None and on_chip(graph, e.source, traits)
        if isinstance(e.synapse, (Alpha, DoubleExp)) and (on_chip(graph, e.target, traits) or decoded_on_chip):
            taus.append(stages(e.synapse))
            e = dataclasses.replace(e, synapse=Lowpass(sum(stages(e.synapse))), history=None)
        edges.append(e)
    if not taus:
        return graph
    pairs = sorted(set(taus))
    alphas = [f"{a * 1e3:g}" for a, b in pairs if a == b]
    doubles = [f"{a * 1e3:g} then {b * 1e3:g}" for a, b in pairs if a != b]
    shown = "; ".join(([f"alpha synapse (tau = {', '.join(alphas)} ms)"] if alphas else [])
                      + ([f"two-stage synapse ({', '.join(doubles)} ms)"] if doubles else []))
    after = ", ".join(f"{(a + b) * 1e3:g}" for a, b in pairs)
    sub = Substitution("synapse.alpha_on_chip", f"{shown} into on-chip neurons", f"Lowpass({after} ms)",
                       f"{traits.name} filters with one first-order low-pass per compartment; Lowpass(tau1 + tau2) "
                       "keeps the kernel's mean delay (2 tau for an alpha synapse, whose noise power 1/(4 tau) it "
                       "also keeps)")
    return graph.replace(edges=tuple(edges)).substituted(sub)


def encoders_off_chip(graph: Graph, traits: Traits) -> Graph:
    """Input encoders where an off-chip population passes at most one spike per step: Poisson
    becomes Bernoulli (p = rate dt); an encoder whose top rate exceeds 1/dt becomes m =
    ceil(rate dt) encoders per input at rate / m each, with the same weight per spike (several
    inputs per pixel: the same mean rate, and for Poisson the same statistics, which a sum of
    independent Poisson trains keeps)."""
    if not traits.chip or traits.offchip_spikes_per_step != 1:
        return graph
    dt = traits.step(graph.dt)
    nodes, edges, rates, split = dict(graph.nodes), list(graph.edges), [], {}
    for name, node in graph.nodes.items():
        if not isinstance(node, (PoissonEncoder, RegularEncoder)):
            continue
        m = max(int(np.ceil(node.max_rate * dt - 1e-9)), 1)
        if isinstance(node, PoissonEncoder):
            nodes[name] = BernoulliEncoder(node.size * m, node.max_rate / m)
            rates.append(node.max_rate)
        elif m > 1:  # copy j fires where phi + r t passes m n - j: together, every spike of the train
            phase = node.phase + np.zeros(node.size)  # a number or (copies, size): per input
            phases = np.concatenate([(phase + j) / m for j in range(m)], axis=-1)
            nodes[name] = RegularEncoder(node.size * m, node.max_rate / m, phase=phases)
        if m > 1:
            split[name] = m
            edges = [_split_edge(graph, e, name, m) for e in edges]
    if not rates and not split:
        return graph
    subs = []
    if rates:
        subs.append(Substitution("input.poisson_off_chip", "Poisson input neurons",
                                 f"Bernoulli input neurons off chip (at most one spike per {dt * 1e3:g} ms step, "
                                 "p = rate dt)",
                                 "Poisson neurons run only off chip, and an off-chip population delivers at most one "
                                 "spike per step to the chip; Bernoulli keeps the mean rate"))
    if split:
        shown = ", ".join(f"{k}: {m}" for k, m in split.items())
        subs.append(Substitution("input.split", "one input neuron per input, above one spike per step",
                                 f"several input neurons per input ({shown}), each at rate / m, same weight per spike",
                                 "an off-chip population delivers at most one spike per step; m neurons carry m times "
                                 "that", {"inputs_per_input": split}))
    return graph.replace(nodes=nodes, edges=tuple(edges)).substituted(*subs)


def _split_edge(graph: Graph, edge, name: str, m: int, in_gain: float = 1.0, out_gain: float = 1.0):
    """An edge into or out of node ``name`` after it became m copies of itself (copy j of
    neuron i is neuron j * size + i): the same weights per copy, times ``in_gain`` into it and
    ``out_gain`` out of it."""
    size = graph.nodes[name].size
    if edge.source == name and edge.target == name:
        W = np.tile(edge.matrix(size, size), (m, m)) * (in_gain * out_gain)
    elif edge.source == name:
        W = np.hstack([edge.matrix(graph.nodes[edge.target].size, size)] * m) * out_gain
    elif edge.target == name:
        W = np.vstack([edge.matrix(size, graph.nodes[edge.source].size)] * m) * in_gain
    else:
        return edge
    return dataclasses.replace(edge, weights=W)


#: Compartments per integrate-and-fire unit on a chip that resets to 0.
IF_COPIES = 4


def if_split_on_chip(graph: Graph, traits: Traits) -> Graph:
    r"""IF neurons with reset by subtraction, on a chip that resets to 0, as several compartments
    per unit (``meta['split_units']``: per node, the copies and the gains on their input and output
    weights).

    A compartment charged by c per step (in units of its threshold) and reset to 0 loses the charge
    above threshold: it fires at :math:`1/\lceil 1/c \rceil` per step, a staircase (at 1 kHz every
    rate from 500 to 1000 Hz becomes 500 Hz).

    - A capped unit (``tau_ref`` > 0: the hard sigmoid, rate :math:`r_{top}\,\mathrm{clip}(J/J_{top}, 0, 1)`,
      :math:`J_{top} = \tau\,\theta / \tau_{ref}`) becomes m = :data:`IF_COPIES` compartments
      j = 0 .. m-1 charged by :math:`m J / J_{top} - j` thresholds per step, each capped by the
      chip's one spike per step. Since :math:`\mathrm{clip}(x, 0, 1) = \frac1m \sum_j
      \mathrm{clip}(m x - j, 0, 1)`, their spikes, each weighted by :math:`1 / (m\,r_{top}\,dt)`,
      send the unit's rate; at most one copy is between 0 and 1 at a time, so the staircase's
      error shrinks m times.
    - An uncapped unit (the rectified linear) becomes m = ceil(:data:`IF_COPIES` r dt) copies of
      itself with tau times m (r its rate at J = threshold), each at rate / m, the same weights.
    """
    if not traits.chip or "subtract" in traits.reset_modes:
        return graph
    dt = traits.step(graph.dt)
    nodes, edges, split = dict(graph.nodes), list(graph.edges), {}
    for name, node in graph.nodes.items():
        if not isinstance(node, IF) or node.reset_mode != "subtract":
            continue
        if node.tau_ref > 0:
            m, top = IF_COPIES, 1.0 / node.tau_ref
            gain = m * node.tau_ref / node.tau  # J -> m J / J_top
            shift = np.repeat(np.arange(m) * node.threshold, node.size)  # copy j: - j thresholds
            nodes[name] = dataclasses.replace(node, size=node.size * m, tau=dt, tau_ref=0.0,
                                              bias=_tiled(node.bias, m) * gain - shift, v0=_tiled(node.v0, m))
            split[name] = {"copies": m, "in_gain": gain, "out_gain": 1.0 / (m * top * dt)}
        else:
            m = int(np.ceil(IF_COPIES * dt / node.tau - 1e-9))
            if m <= 1:
                continue
            nodes[name] = dataclasses.replace(node, size=node.size * m, tau=node.tau * m, bias=_tiled(node.bias, m),
                                              v0=_tiled(node.v0, m))
            split[name] = {"copies": m, "in_gain": 1.0, "out_gain": 1.0}
        edges = [_split_edge(graph, e, name, m, split[name]["in_gain"], split[name]["out_gain"]) for e in edges]
    if not split:
        return graph
    shown = ", ".join(f"{k}: {v['copies']}" for k, v in split.items())
    sub = Substitution("neuron.split", "one compartment per integrate-and-fire unit",
                       f"several compartments per unit ({shown}): copies j of a capped unit charged by "
                       "m J / J_top - j, each capped at one spike per step, outgoing weights / (m r_top dt); copies "
                       "of an uncapped one at rate / m",
                       f"{traits.name} resets to 0 and loses the charge above threshold, so a compartment charged by "
                       "c per step fires at 1 / ceil(1 / c) per step; over m compartments the error of that staircase "
                       "shrinks m times (a capped unit sends up to m times the spikes)",
                       {"split_units": split})
    meta = dict(graph.meta, split_units={**graph.meta.get("split_units", {}), **split})
    return graph.replace(nodes=nodes, edges=tuple(edges), meta=meta).substituted(sub)


def _tiled(value, m: int):
    """A per-neuron parameter (a number, (size,) or (copies, size)) for m copies of each neuron."""
    if value is None or np.ndim(value) == 0:
        return value
    return np.concatenate([np.asarray(value)] * m, axis=-1)


#: Spikes a whole kick (a change of the input from 0 to 1) is sent as on a chip.
KICK_LEVELS = 4


def kicks_on_chip(graph: Graph, traits: Traits) -> Graph:
    """Prospective kicks (``meta['prospective']``: Input name -> the Input it is d/dt of) as spike
    bursts where neurons run on a chip: the kick's area Delta x per input, quantized to
    1 / KICK_LEVELS, leaves as round(|Delta x| KICK_LEVELS) spikes of a positive or a negative
    relay neuron in the steps after the change, on edges with weights +-W / KICK_LEVELS."""
    kicks = graph.meta.get("prospective") or {}
    if not traits.chip or not kicks:
        return graph
    nodes, edges = dict(graph.nodes), []
    for e in graph.edges:
        if e.source in kicks:
            w = e.matrix(graph.nodes[e.target].size, graph.nodes[e.source].size) / KICK_LEVELS
            e = dataclasses.replace(e, weights=np.hstack([w, -w]))
        edges.append(e)
    for name in kicks:
        nodes[name] = Input(2 * graph.nodes[name].size, kind="spikes")
    dt = traits.step(graph.dt)
    meta = dict(graph.meta, kick_bursts={name: KICK_LEVELS for name in kicks})
    sub = Substitution("input.kick_as_spikes", "the prospective kick as a host current",
                       f"bursts of up to {KICK_LEVELS} spikes from off-chip relay neurons (+ and -) after each change, "
                       f"one per {dt * 1e3:g} ms step", f"{traits.name} takes only spikes from off chip; the kick is "
                       f"quantized to 1/{KICK_LEVELS} of a full input change and spread over up to {KICK_LEVELS} steps",
                       {"levels": KICK_LEVELS})
    return graph.replace(nodes=nodes, edges=tuple(edges), meta=meta).substituted(sub)


def initial_voltages(graph: Graph, traits: Traits) -> Graph:
    if traits.settable_voltage:
        return graph
    nodes, changed = dict(graph.nodes), False
    for name, node in graph.nodes.items():
        if isinstance(node, (LIF, IF, CubaLIF)) and node.v0 is not None and np.any(node.v0 != 0):
            nodes[name] = dataclasses.replace(node, v0=None)
            changed = True
    if not changed:
        return graph
    sub = Substitution("neuron.initial_voltage", "initial voltages as the model sets them", "0",
                       f"{traits.name} starts every compartment at v = 0")
    return graph.replace(nodes=nodes).substituted(sub)


def refractory_on_grid(graph: Graph, traits: Traits) -> Graph:
    """Recorded: on a step grid the refractory period is effectively tau_ref - dt/2 (a spike is
    seen at the end of the step in which v crossed, and refractoriness lasts whole steps); families
    that solve for rate curves use the effective value."""
    if not traits.refractory_on_grid or not any(isinstance(n, LIF) and n.tau_ref > 0 for n in graph.nodes.values()):
        return graph
    dt = traits.step(graph.dt)
    sub = Substitution("neuron.refractory_on_grid", "refractory period tau_ref",
                       f"effectively tau_ref - dt/2 (spikes and refractoriness on the {dt * 1e3:g} ms grid)",
                       f"{traits.name} spikes at the end of the step in which the voltage crossed and holds "
                       "refractoriness for whole steps: the mean inter-spike interval is tau_ref + rise - dt/2")
    return graph.substituted(sub)


def reset_modes(graph: Graph, traits: Traits) -> Graph:
    """A reset the target lacks becomes reset to zero where the target has that (recorded: the
    rate curve changes), else the node is refused."""
    nodes, changed = dict(graph.nodes), []
    for name, node in graph.nodes.items():
        if not isinstance(node, (LIF, IF, CubaLIF)) or node.reset_mode in traits.reset_modes:
            continue
        if "zero" not in traits.reset_modes:
            raise GraphError(f"node {name!r}: {traits.name} has no {node.reset_mode!r} reset "
                             f"(it supports: {', '.join(sorted(traits.reset_modes))})")
        nodes[name] = dataclasses.replace(node, reset_mode="zero", reset=0.0)
        changed.append(name)
    if not changed:
        return graph
    sub = Substitution("neuron.reset_to_zero", f"reset by subtraction ({', '.join(changed)})", "reset to 0",
                       f"{traits.name} resets a compartment to 0 after a spike; the charge above threshold is lost, "
                       "so rates fall slightly below the threshold-linear curve", {"nodes": changed})
    return graph.replace(nodes=nodes).substituted(sub)


def if_refractory(graph: Graph, traits: Traits) -> Graph:
    """IF neurons' refractory cap, where the target's IF neurons have none (recorded)."""
    if traits.if_refractory:
        return graph
    nodes = {k: dataclasses.replace(n, tau_ref=0.0) if isinstance(n, IF) and n.tau_ref > 0 else n
             for k, n in graph.nodes.items()}
    capped = [k for k in nodes if nodes[k] is not graph.nodes[k]]
    if not capped:
        return graph
    dt = traits.step(graph.dt)
    sub = Substitution("neuron.if_refractory", f"IF neurons capped at one spike per tau_ref ({', '.join(capped)})",
                       f"capped by the chip's own refractory step (at most one spike per {2 * dt * 1e3:g} ms)",
                       f"{traits.name}'s integrate-and-fire compartments have a fixed one-step refractory period")
    return graph.replace(nodes=nodes).substituted(sub)


def chip_records(graph: Graph, traits: Traits) -> Graph:
    """What the chip does to every network, recorded (weights, the neuron's integer dynamics)."""
    if not traits.chip:
        return graph
    subs = []
    if traits.weight_bits:
        subs.append(Substitution("weights.discretized", "float weights",
                                 f"{traits.weight_bits}-bit weights with a shared exponent per core",
                                 f"{traits.name}'s synapse format; the realized weights are measured in "
                                 "'quantization'"))
    if any(isinstance(n, LIF) for n in graph.nodes.values()):
        subs.append(Substitution("neuron.loihi_lif", "LIF rate curve", "the chip's LIF (refractory period and spike "
                                 "period rounded to whole steps)", "the chip's integer dynamics"))
    return graph.substituted(*subs)


def learning(graph: Graph, traits: Traits) -> Graph:
    """Learning edges: refused where the target has no such rule; on a chip, the trace's time
    constant on whole steps and the rule's precision recorded."""
    learned = graph.learning_edges()
    if not learned:
        return graph
    for k in learned:
        edge = graph.edges[k]
        rule = type(edge.learning).__name__
        if rule not in traits.learning_rules:
            can = ", ".join(sorted(traits.learning_rules)) or "none"
            raise GraphError(f"edge {edge.name!r} learns by {rule}; {traits.name} has no such learning rule (it "
                             f"has: {can})")
    if graph.copies > 1 and not traits.shared_learning:
        raise GraphError(f"{traits.name} learns each copy's weights apart; a learning graph runs one copy here (this "
                         f"one has {graph.copies})")
    if not traits.chip:
        return graph
    dt = traits.step(graph.dt)
    edges, taus = list(graph.edges), []
    for k in learned:
        rule = edges[k].learning
        steps = max(1, int(round(rule.pre_tau / dt)))
        taus.append((rule.pre_tau, steps * dt))
        edges[k] = dataclasses.replace(edges[k], learning=dataclasses.replace(rule, pre_tau=steps * dt))
    shown = ", ".join(f"{a * 1e3:g} ms -> {b * 1e3:g} ms" for a, b in sorted(set(taus)))
    grid = traits.learning_error_grid
    on_grid = (f" in multiples of {grid} levels (rounded stochastically on the host, so the learning engine's "
               "shift of each product is exact)" if grid else "")
    decays = sorted({float(getattr(graph.edges[k].learning, "decay", 1.0)) for k in learned})
    finer = (f" (their step finer as the rate has decayed: x {', '.join(f'{d:.3g}' for d in decays)})"
             if traits.learning_step_follows_rate and min(decays) < 1 else "")
    sub = Substitution("learning.on_chip", "learning with float weights, errors and traces",
                       f"{traits.name}'s on-chip learning: the error arrives from the host as an 8-bit integer each "
                       f"step{on_grid}, the learned weights have 8 bits{finer} and are rounded stochastically, the "
                       f"presynaptic trace decays over whole steps (tau {shown})",
                       "the chip's learning engine computes in integers; its mean update is the rule's",
                       {"edges": [graph.edges[k].name for k in learned], "error_grid_levels": grid,
                        "rate_decay": decays})
    return graph.replace(edges=tuple(edges)).substituted(sub)


def _rows(value, idx):
    """A per-neuron parameter (a number, (size,) or (copies, size)) for the neurons ``idx``."""
    if value is None or np.ndim(value) == 0:
        return value
    return np.asarray(value)[..., idx]


def _parted_edge(graph: Graph, edge, name: str, parts: list) -> list:
    """Edges that replace ``edge`` once node ``name`` of ``graph`` became ``parts`` [(part name,
    neuron indices)]: out of it, one per part with its decoders (or weight columns) and an equal
    share of the history, so the parts' outputs sum to the whole's; into it, one per part (a
    decoded value or an ensemble input to every part; weight rows into its neurons)."""
    out = [edge]
    size = graph.nodes[name].size
    if edge.source == name:
        history = None if edge.history is None else edge.history / len(parts)
        if isinstance(edge, Decoded):
            out = [dataclasses.replace(edge, source=p, decoders=edge.decoders[idx], history=history)
                   for p, idx in parts]
        else:
            W = _full(graph, edge, graph.nodes[edge.target].size)
            out = [dataclasses.replace(edge, source=p, weights=W[:, idx], history=history) for p, idx in parts]
    if edge.target == name:
        if isinstance(edge, Decoded) or edge.into == "ensemble":
            return [dataclasses.replace(e, target=p) for e in out for p, _ in parts]
        return [dataclasses.replace(e, target=p, weights=_full(graph, e, size)[idx]) for e in out for p, idx in parts]
    return out


def _full(graph: Graph, edge, n_post: int) -> np.ndarray:
    """The weights of ``edge`` as a matrix (a part's out-edge already has one)."""
    w = np.asarray(edge.weights)
    return w if w.ndim == 2 else edge.matrix(n_post, graph.nodes[edge.source].size)


def _decoded_beyond(graph: Graph, name: str, limit: int) -> bool:
    """Whether ``name`` is an ensemble of more than ``limit`` neurons with a decoded edge out of it
    (and neither probed nor at a learning edge, which keep it whole)."""
    node = graph.nodes[name]
    if not (isinstance(node, LIF) and node.encoders is not None and node.size > limit):
        return False
    at = [e for e in graph.edges if name in (e.source, e.target)]
    return (any(isinstance(e, Decoded) and e.source == name for e in at)
            and not any(getattr(e, "learning", None) is not None for e in at)
            and all(p.node != name for p in graph.probes.values()))


def populations_on_cores(graph: Graph, traits: Traits) -> Graph:
    r"""Ensembles too large for one decode block: each on-chip ensemble with more neurons than a
    core has input axons (``traits.input_axons``), and a decoded edge out of it, becomes the
    fewest parts of at most that many neurons, each part keeping its neurons' tuning.

    A decoded value is a sum over neurons, :math:`y = \sum_i d_i a_i = \sum_p \sum_{i \in p} d_i a_i`,
    so each part decodes with its own rows of the decoders and the target adds the parts' values;
    every part receives what the ensemble received. The network computes the same function; only
    the decode neurons (one population per part and edge on the chip) see partial sums.
    """
    limit = traits.input_axons
    if not traits.chip or traits.decode is None or limit is None:
        return graph
    big = [name for name in graph.nodes if _decoded_beyond(graph, name, limit)]
    if not big:
        return graph
    shown = []
    for name in big:
        node = graph.nodes[name]
        m = -(-node.size // limit)
        parts = [(f"{name}.{j}", idx) for j, idx in enumerate(np.array_split(np.arange(node.size), m))]
        nodes: dict = {}
        for key, value in graph.nodes.items():  # the parts take the ensemble's place, in order
            if key != name:
                nodes[key] = value
                continue
            for p, idx in parts:
                nodes[p] = dataclasses.replace(node, size=len(idx), bias=_rows(node.bias, idx), v0=_rows(node.v0, idx),
                                               encoders=node.encoders[idx], gain=_rows(node.gain, idx))
        edges = [new for e in graph.edges for new in _parted_edge(graph, e, name, parts)]
        graph = graph.replace(nodes=nodes, edges=tuple(edges))
        shown.append(f"{name}: {node.size} neurons as {m} parts")
    sub = Substitution("population.parts", "one ensemble per population",
                       f"ensembles in parts of at most {limit} neurons ({', '.join(shown)}), each decoding with its "
                       "own rows of the decoders, the parts' values summed by their targets",
                       f"{traits.name}'s decode neurons take each presynaptic neuron as an input axon, {limit} per "
                       "core; a decoded value is a sum over neurons, so parts compute the same function")
    return graph.substituted(sub)


PASSES = (step, learning, cuba_on_chip, synapses_on_chip, encoders_off_chip, if_split_on_chip, kicks_on_chip,
          populations_on_cores, initial_voltages, refractory_on_grid, reset_modes, if_refractory, chip_records)


def legalize(graph: Graph, traits: Traits) -> Graph:
    """``graph`` rewritten for ``traits``, every change recorded in ``substitutions``."""
    for rewrite in PASSES:
        graph = rewrite(graph, traits)
    return graph
