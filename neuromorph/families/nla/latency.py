r"""The compiler's latency choices (``spiking.latency: auto``, docs/latency.md).

The design card's mapping (Poisson inputs, alpha synapses, the read-out's value at the end of
each presentation) needs the signal to cross its filters and membranes before the read-out looks:
a mean delay of

.. math:: D = 2\,\tau_{syn} S + \tau_{rc}

for S filtered stages (every layer, the read-out included). When a classification model is shown
for less than that (T < D), ``auto`` compiles it for the presentation time instead, keeping the
input code and the kind of synapse, and records each choice with its reason:

- the read-out counts spikes over the whole presentation (a count averages the spikes' noise; a
  value sampled after a filter needs the filter to settle);
- ``tau_syn`` at most T / 40, so the mean delay per stage, 2 tau_syn, is at most T / 20;
- Poisson inputs at :data:`INPUT_RATE` or more (a pixel at rate 1 sends 80 spikes in 20 ms: count
  noise 11 %; a chip takes them as several input neurons per pixel);
- LIF units :data:`RATE_SCALE` times as fast (``rate_scale``: the same rate function, three times
  the spikes per window);
- calibration on the target's LIF curve and the count read-out (``spiking.calibrate`` with its
  defaults): the read-out sees whole counts; on a chip with whole-step rates (Loihi:
  ``Traits.lif_rates``; there rate_scale 3 runs at 4, ``lower.rate_scale_on_grid``) each spike
  period is rounded up to a step, and on Brian2's step grid the rates are a staircase up to 11 %
  off the LIF curve (at 0.1 ms).

The constants are the best measured choices at 20 and 50 ms (docs/latency.md). At T >= D the
spec is compiled as written.
"""

from __future__ import annotations

import dataclasses

from ...graph import Substitution
from ...spec.common import Calibration

#: Poisson input rate (Hz) of a pixel at rate 1 under ``auto``: four inputs per pixel on a 1 ms clock.
INPUT_RATE = 4000.0
#: How many times faster LIF units fire under ``auto``.
RATE_SCALE = 3.0
#: The largest tau_syn under ``auto``, as a share of the presentation time.
TAU_SHARE = 1.0 / 40.0


def design_delay(model) -> float:
    """D (s): 2 tau_syn per filtered stage (each layer, the read-out included) plus tau_rc."""
    layers = getattr(model.network, "layers", None)
    stages = len(layers) - 1 if layers else 2
    return 2.0 * model.spiking.tau_syn * stages + model.neuron.tau_rc


def applies(model) -> bool:
    """Whether ``auto`` changes anything: a classification model shown for less than D."""
    sp = model.spiking
    return (getattr(sp, "latency", "fixed") == "auto" and model.task.kind == "digits"
            and model.task.presentation < design_delay(model))


def realized(model, traits=None):
    """(model, substitutions): ``model`` with the spiking choices ``auto`` makes for its
    presentation time (and for the target with ``traits``, when given), and a record of each;
    ``model`` itself when ``auto`` is off or T >= D."""
    if not applies(model):
        return model, []
    sp, T = model.spiking, model.task.presentation
    delay = design_delay(model)
    why = f"the presentation ({T * 1e3:g} ms) is shorter than the design mapping's delay D = {delay * 1e3:g} ms"
    changes: dict = {}
    subs = []
    if sp.readout != "count":
        changes.update(readout="count", readout_window=1.0)
        subs.append(Substitution("latency.readout", f"read-out {sp.readout}",
                                 "spike counts over the whole presentation",
                                 f"{why}; a count averages the spikes' noise, a filtered value needs the filter to "
                                 "settle"))
    tau = T * TAU_SHARE
    if sp.synapse != "none" and sp.tau_syn > tau:
        changes["tau_syn"] = tau
        subs.append(Substitution("latency.tau_syn", f"tau_syn = {sp.tau_syn * 1e3:g} ms", f"tau_syn = {tau * 1e3:g} ms",
                                 f"{why}; the mean delay per stage, 2 tau_syn, becomes T / 20"))
    if sp.encoding == "poisson" and sp.input_rate < INPUT_RATE:
        changes["input_rate"] = INPUT_RATE
        subs.append(Substitution("latency.input_rate", f"Poisson inputs at {sp.input_rate:g} Hz",
                                 f"Poisson inputs at {INPUT_RATE:g} Hz",
                                 f"{why}; a pixel at rate 1 sends {INPUT_RATE * T:g} spikes per presentation, count "
                                 f"noise {100 / (INPUT_RATE * T) ** 0.5:.0f} %"))
    if model.neuron.rho in ("lif", "soft_lif") and not sp.nir_exact and sp.rate_scale < RATE_SCALE:
        changes["rate_scale"] = RATE_SCALE
        subs.append(Substitution("latency.rate_scale", f"rate_scale {sp.rate_scale:g}", f"rate_scale {RATE_SCALE:g}",
                                 f"{why}; units {RATE_SCALE:g} times as fast send that many more spikes per window"))
    if traits is not None and sp.calibrate is None and "rate_scale" in changes:
        changes["calibrate"] = Calibration()
        subs.append(Substitution("latency.calibrate", "the trained weights",
                                 "calibrated on the target's LIF curve and spike counts", calibration_why(why, traits)))
    if not changes:
        return model, []
    return dataclasses.replace(model, spiking=dataclasses.replace(sp, **changes)), subs


def calibration_why(why: str, traits) -> str:
    """Why ``auto`` calibrates on the target with ``traits``."""
    counts = "the read-out sees whole spike counts, not the rates the weights were trained on"
    if traits.lif_rates is not None:
        return (f"{why}; {counts}, and {traits.name}'s LIF rates are whole-step ones: each spike period is "
                "rounded up to a step of its clock")
    if traits.refractory_on_grid:
        return (f"{why}; {counts}, and {traits.name}'s spike and refractory periods are whole steps of its grid: "
                f"at {RATE_SCALE:g} times the rate its LIF rates are a staircase off the LIF curve (up to 11 % at a "
                "0.1 ms step)")
    return f"{why}; {counts}"
