"""Hardware design rules: small named functions, each returning the findings of one rule.

A rule takes a :class:`Context` (the model's network graph as lowered and as legalized for the
profile's chip, the profile, the estimated blocks) and returns a list of :class:`Finding` -
errors (the model does not fit or cannot run as specified), warnings (it runs, with a
substitution or a cost), or notes (not checked: unknown in the profile). Every finding says what
would have to change.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, cast

if TYPE_CHECKING:
    from ..graph import Graph
    from .profile import Profile


@dataclass
class Finding:
    rule: str
    severity: str  # "error", "warning" or "note"
    message: str
    fix: str = ""

    def as_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "message": self.message, "fix": self.fix}


@dataclass
class Context:
    model: object
    profile: Profile
    blocks: list
    graph: Graph  # the model's network graph as its family lowered it (one copy)
    legal: Graph  # the same, legalized for the profile's chip
    weights: object = None  # trained weights, when the model has them


def _unknown(rule: str, what: str) -> list:
    return [Finding(rule, "note", f"not checked: {what} is unknown or not applicable in the profile")]


def neurons_per_core(ctx: Context) -> list:
    limit = ctx.profile.core.neurons.value
    if limit is None:
        return _unknown("neurons_per_core", "core.neurons")
    split = sorted({b.population for b in ctx.blocks if sum(x.population == b.population for x in ctx.blocks) > 1})
    if not split:
        return []
    return [Finding("neurons_per_core", "note", f"populations split across cores (<= {limit} neurons each): "
                    + ", ".join(split))]


def input_axons_per_core(ctx: Context) -> list:
    limit = ctx.profile.core.input_axons.value
    if limit is None:
        return _unknown("input_axons_per_core", "core.input_axons")
    out = []
    for pop in sorted({b.population for b in ctx.blocks if b.input_axons > limit}):
        need = max(b.input_axons for b in ctx.blocks if b.population == pop)
        out.append(Finding("input_axons_per_core", "error", f"{pop}: {need} input axons per core > {limit}",
                           f"give {pop} at most {limit} presynaptic neurons (fewer inputs, or an intermediate layer)"))
    return out


def output_axons_per_core(ctx: Context) -> list:
    limit = ctx.profile.core.output_axons.value
    if limit is None:
        return _unknown("output_axons_per_core", "core.output_axons")
    out = []
    for pop in sorted({b.population for b in ctx.blocks if b.output_axons > limit}):
        need = max(b.output_axons for b in ctx.blocks if b.population == pop)
        out.append(Finding("output_axons_per_core", "error", f"{pop}: {need} output axons per core > {limit} "
                           "(one per neuron and target core)",
                           f"shrink the layer after {pop} so it needs fewer cores, or split {pop} into smaller cores"))
    return out


def synapse_memory_per_core(ctx: Context) -> list:
    limit = ctx.profile.core.synapse_memory_bits.value
    if limit is None:
        return _unknown("synapse_memory_per_core", "core.synapse_memory_bits")
    over = [b for b in ctx.blocks if b.synapse_bits > limit]
    if not over:
        return []
    pops = sorted({b.population for b in over})
    return [Finding("synapse_memory_per_core", "error", f"{p}: one neuron's input synapses need more than {limit} "
                    "bits", f"reduce the fan-in of {p}") for p in pops]


def cores_and_chips(ctx: Context) -> list:
    per_chip = cast(Optional[int], ctx.profile.chip.cores.value)
    chips = cast(Optional[int], ctx.profile.chips.value)
    if per_chip is None:
        return _unknown("cores_and_chips", "chip.cores")
    cores = len(ctx.blocks)
    need = -(-cores // per_chip)
    if chips is not None and need > chips:
        return [Finding("cores_and_chips", "error", f"{cores} cores need {need} chips; the profile has {chips}",
                        f"use a system with >= {need} chips (profile key chips), or shrink the network")]
    if need > 1:
        return [Finding("cores_and_chips", "warning", f"{cores} cores span {need} chips (spikes cross chips)")]
    return []


def weight_precision(ctx: Context) -> list:
    bits = ctx.profile.weights.bits.value
    if bits is None:
        return _unknown("weight_precision", "weights.bits")
    if not isinstance(bits, int) or bits >= 16:
        return []
    msg = f"weights are stored with {bits} bits ({ctx.profile.weights.shared_exponent.value} exponent)"
    if ctx.weights is not None:
        from .quantize import relative_error

        msg += f": the trained weights' relative rms error is {relative_error(ctx.legal, ctx.profile):.2%}"
    return [Finding("weight_precision", "warning", msg, "compare the quantized-rate model (compare --profiles)")]


def _substitution(ctx: Context, ident: str):
    return next((s for s in ctx.legal.substitutions if s.id == ident), None)


def synapse_types(ctx: Context) -> list:
    types = cast(Optional[tuple[str, ...]], ctx.profile.synapse_types.value)
    if types is None:
        return _unknown("synapse_types", "synapse_types")
    sub = _substitution(ctx, "synapse.alpha_on_chip")
    if sub is None:
        return []
    return [Finding("synapse_types", "warning", f"{sub.original}: not available (only {', '.join(types)})",
                    f"the compiler uses {sub.replacement}: {sub.why}")]


def time_step(ctx: Context) -> list:
    dt = cast(Optional[float], ctx.profile.time_step.value)
    if dt is None:
        return _unknown("time_step", "time_step")
    own = ctx.graph.dt
    if abs(own - dt) <= 1e-12:
        return []
    if ctx.graph.meta.get("discrete"):
        return [Finding("time_step", "warning", f"the network steps {own * 1e3:g} ms; the chip steps {dt * 1e3:g} ms",
                        "the chip runs one of the network's steps per clock step, time constants scaled by "
                        f"{dt / own:g} (the same per-step dynamics, {dt / own:g} x slower in real time)")]
    return [Finding("time_step", "warning", f"the model's spiking dt is {own * 1e3:g} ms; the chip steps "
                    f"{dt * 1e3:g} ms", f"set spiking.dt: {dt:g} to simulate what the chip does")]


def refractory_period(ctx: Context) -> list:
    from ..graph import IF, LIF

    steps = cast(Optional[int], ctx.profile.refractory_max_steps.value)
    dt = cast(Optional[float], ctx.profile.time_step.value)
    if steps is None or dt is None:
        return _unknown("refractory_period", "refractory_max_steps or time_step")
    periods = [n.tau_ref for n in ctx.graph.nodes.values() if isinstance(n, (LIF, IF))]
    if not periods:
        return []
    tau_ref = max(periods)
    need = int(round(tau_ref / dt)) + 1
    if need <= steps:
        return []
    return [Finding("refractory_period", "error", f"tau_ref = {tau_ref * 1e3:g} ms is {need} steps > {steps}",
                    f"shorten tau_ref to <= {(steps - 1) * dt * 1e3:g} ms")]


def input_rate(ctx: Context) -> list:
    from ..graph import BernoulliEncoder, PoissonEncoder, RegularEncoder

    dt = cast(Optional[float], ctx.profile.time_step.value)
    rates = [n.max_rate for n in ctx.graph.nodes.values()
             if isinstance(n, (PoissonEncoder, BernoulliEncoder, RegularEncoder))]
    if dt is None or not rates:
        return []
    rate = max(rates)
    if rate * dt <= 1:
        return []
    m = math.ceil(rate * dt - 1e-9)
    return [Finding("input_rate", "warning", f"input rate {rate:g} Hz > one spike per {dt * 1e3:g} ms step: {m} input "
                    "neurons per input on chip (input.split), as many input axons",
                    f"set spiking.input_rate <= {1 / dt:g} for one input neuron per input")]


def learning_on_chip(ctx: Context) -> list:
    """What of the model's learning the chip can run: the graph is the inference one; its output
    layer learns in spikes by PES (``train -b nengo|loihi``) where the profile lists that rule."""
    sub = next((s for s in ctx.graph.substitutions if s.id.endswith("inference_only")), None)
    if sub is None:
        return []
    rules = cast(Optional[tuple[str, ...]], ctx.profile.learning_rules.value) or ()
    pes = "PES" in rules or "any" in rules
    can = ("its output layer can learn on this chip by PES (neuromorph train -b loihi; "
           "neuromorph compile --learning shows the graph)" if pes else
           "no PES on this chip: the output layer cannot learn on it with neuromorph's mapping")
    return [Finding("learning_on_chip", "note", f"{sub.original}: {sub.replacement} on chip ({sub.why}); the chip's "
                    f"learning rules: {', '.join(rules) or 'none known'}; {can}")]


def neuron_model(ctx: Context) -> list:
    """The model's transfer function on the chip's neurons: a recorded spiking counterpart is a
    warning (it runs, with that mapping); none is an error that says what to train instead. A
    profile without neuromorphic cores (a CPU) runs any transfer function."""
    if ctx.profile.chip.cores.value is None:
        return []
    found = []
    for sub in ctx.graph.substitutions:
        if sub.id == "rho.no_spiking_counterpart":
            found.append(Finding("neuron_model", "error", f"{sub.original} has no spiking counterpart "
                                 f"({sub.replacement})", sub.detail.get("fix", "train with rho: lif or soft_lif")))
        elif sub.id.startswith("rho."):
            found.append(Finding("neuron_model", "warning", f"{sub.original} runs as {sub.replacement} on chip",
                                 f"recorded mapping: {sub.why}"))
    for sub in ctx.legal.substitutions:
        if sub.id == "neuron.split":
            found.append(Finding("neuron_model", "warning", f"integrate-and-fire units on chip: {sub.replacement}",
                                 sub.why))
    return found


RULES = [neurons_per_core, input_axons_per_core, output_axons_per_core, synapse_memory_per_core, cores_and_chips,
         weight_precision, synapse_types, time_step, refractory_period, input_rate, learning_on_chip, neuron_model]


def run_all(ctx: Context) -> list:
    """Every rule's findings (all rules run; none stops the others)."""
    return [f for rule in RULES for f in rule(ctx)]


__all__ = ["Context", "Finding", "RULES", "run_all"]
