r"""Target legalization: passes that rewrite a graph into one the target can run, each change
recorded as a :class:`~neuromorph.graph.network.Substitution` on the new graph.

- step: the graph's dt -> the target's fixed step;
- synapses on chip: an alpha synapse (tau) into on-chip neurons, where only first-order filters
  exist, becomes Lowpass(2 tau): the same mean delay :math:`\int t h = 2\tau` and the same noise
  power :math:`\int h^2 = 1/(4\tau)`;
- encoders off chip: Poisson encoders, where an off-chip population passes at most one spike
  per step, become Bernoulli encoders (p = min(rate dt, 1): the same mean rate up to 1/dt);
- initial voltages: set to 0 where a target cannot set them;
- refractory period on a step grid: recorded (effectively tau_ref - dt/2; population codes solve
  their decoders for it);
- weights: discretized by the target (recorded; the realized weights are measured in hardware);
- what no pass can fix (an unsupported reset mode) raises :class:`GraphError` naming the node.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .edges import Alpha, Lowpass
from .network import Graph, Substitution
from .nodes import IF, LIF, BernoulliEncoder, GraphError, PoissonEncoder
from .target import Traits


def on_chip(graph: Graph, name: str, traits: Traits) -> bool:
    """Whether node ``name`` runs on the chip (neurons, when the target has a chip)."""
    return traits.chip and isinstance(graph.nodes[name], (LIF, IF))


def step(graph: Graph, traits: Traits) -> Graph:
    if traits.dt is None or abs(traits.dt - graph.dt) <= 1e-12:
        return graph
    sub = Substitution("dt", f"dt = {graph.dt * 1e3:g} ms", f"dt = {traits.dt * 1e3:g} ms",
                       f"{traits.name} steps with a fixed dt; inputs are held between the model's steps")
    return graph.replace(dt=traits.dt).substituted(sub)


def synapses_on_chip(graph: Graph, traits: Traits) -> Graph:
    if "alpha" in traits.synapses:
        return graph
    edges, taus = [], []
    for e in graph.edges:
        if isinstance(e.synapse, Alpha) and on_chip(graph, e.target, traits):
            taus.append(e.synapse.tau)
            e = dataclasses.replace(e, synapse=Lowpass(2 * e.synapse.tau), history=None)
        edges.append(e)
    if not taus:
        return graph
    shown = ", ".join(f"{t * 1e3:g}" for t in sorted(set(taus)))
    after = ", ".join(f"{2 * t * 1e3:g}" for t in sorted(set(taus)))
    sub = Substitution("synapse.alpha_on_chip", f"alpha synapse (tau = {shown} ms) into on-chip neurons",
                       f"Lowpass({after} ms)",
                       f"{traits.name} filters with one first-order low-pass per compartment; Lowpass(2 tau) keeps the "
                       "alpha kernel's mean delay 2 tau and noise power 1/(4 tau)")
    return graph.replace(edges=tuple(edges)).substituted(sub)


def encoders_off_chip(graph: Graph, traits: Traits) -> Graph:
    if not traits.chip or traits.offchip_spikes_per_step != 1:
        return graph
    nodes, rates = dict(graph.nodes), []
    for name, node in graph.nodes.items():
        if isinstance(node, PoissonEncoder):
            nodes[name] = BernoulliEncoder(node.size, node.max_rate)
            rates.append(node.max_rate)
    if not rates:
        return graph
    dt = traits.step(graph.dt)
    subs = [Substitution("input.poisson_off_chip", "Poisson input neurons",
                         f"Bernoulli input neurons off chip (at most one spike per {dt * 1e3:g} ms step, "
                         "p = min(rate dt, 1))",
                         "Poisson neurons run only off chip, and an off-chip population delivers at most one spike "
                         "per step to the chip; Bernoulli keeps the mean rate up to 1/dt")]
    top = max(rates)
    if top * dt > 1:
        subs.append(Substitution("input.rate_capped", f"input rate {top:g} Hz", f"{1 / dt:g} Hz",
                                 "at most one spike per step reaches the chip"))
    return graph.replace(nodes=nodes).substituted(*subs)


def initial_voltages(graph: Graph, traits: Traits) -> Graph:
    if traits.settable_voltage:
        return graph
    nodes, changed = dict(graph.nodes), False
    for name, node in graph.nodes.items():
        if isinstance(node, (LIF, IF)) and node.v0 is not None and np.any(node.v0 != 0):
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
    for name, node in graph.nodes.items():
        if isinstance(node, (LIF, IF)) and node.reset_mode not in traits.reset_modes:
            raise GraphError(f"node {name!r}: {traits.name} has no {node.reset_mode!r} reset "
                             f"(it supports: {', '.join(sorted(traits.reset_modes))})")
    return graph


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


PASSES = (step, synapses_on_chip, encoders_off_chip, initial_voltages, refractory_on_grid, reset_modes, chip_records)


def legalize(graph: Graph, traits: Traits) -> Graph:
    """``graph`` rewritten for ``traits``, every change recorded in ``substitutions``."""
    for rewrite in PASSES:
        graph = rewrite(graph, traits)
    return graph
