"""A hardware profile as target traits, and a model's network graph legalized for it: what the fit
check, the quantized-rate model and the energy estimate read (no simulator involved)."""

from __future__ import annotations

from ..graph import DecodePath, Traits, legalize
from .profile import RESETS

#: Steps of spike latency NengoLoihi's decode neurons add (Loihi 1).
DECODE_LATENCY_STEPS = 2


def traits(profile) -> Traits:
    """The :class:`~neuromorph.graph.Traits` a profile describes (unknown facts: no limit)."""
    kinds = profile.synapse_types.value
    if kinds is None or any(k in kinds for k in ("alpha", "any", "programmable")):
        synapses = frozenset({"none", "lowpass", "alpha"})
    else:
        synapses = frozenset({"none"} | set(kinds))
    dt = profile.time_step.value
    chip = profile.chip.cores.value is not None
    bits = profile.weights.bits.value if isinstance(profile.weights.bits.value, int) else None
    decode = None
    if profile.decode_neurons_per_dimension.value:
        decode = DecodePath(tau=0.005, latency=DECODE_LATENCY_STEPS * (dt or 0.001), gain=1.0)
    rules = frozenset(profile.learning_rules.value or ())
    resets = profile.neuron_reset.value if profile.neuron_reset is not None else None
    return Traits(name=profile.name, dt=dt, fixed_dt=chip, cuba=not chip, synapses=synapses, chip=chip,
                  offchip_spikes_per_step=1 if chip else None,
                  settable_voltage=not chip, decode=decode, weight_bits=bits if chip else None, learning_rules=rules,
                  reset_modes=frozenset(resets or RESETS), input_axons=profile.core.input_axons.value)


def graphs(model, profile, base_dir=None):
    """(lowered, legalized): one copy of the model's network graph for the profile's chip."""
    from .. import families

    family = families.of(model)
    weights = family.weights(model, base_dir)
    target = traits(profile)
    lowered = family.lower(model, weights, target)
    return lowered, legalize(lowered, target)
