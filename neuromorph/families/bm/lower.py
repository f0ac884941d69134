r"""Population-coded BM (Kim 2024) lowered to the spiking network graph.

Per synapse k, one LIF ensemble ``bm[k]`` represents x = (mu / R_mu, w / R_w, s / R_s)
(:mod:`.population`); s(t) arrives from a host signal into the ensemble's third dimension; a
decoded recurrent edge realizes dx/dt = f(x) (Eqs 23-24) through its synapse; (mu, w) are decoded
on the host from the ensemble's spikes through alpha synapses of ``spiking.tau_syn`` into the
read-out ``state[k]``. The momenta stay exactly 0 from p(0) = 0 and are not represented.

How the recurrence is realized depends on the target (:class:`~neuromorph.graph.Traits`):

- targets with alpha synapses: two first-order stages, 20 ms then 2 ``spiking.tau_recurrent`` - 20 ms
  (:func:`recurrent_taus`: the alpha synapse's mean delay, about a third of its t1 t2), so
  g = x + (t1 + t2) f + t1 t2 f' f; filter states start as for a trajectory already under way at x(0);
- targets that route decoded on-chip recurrence through decode neurons (Loihi, ``traits.decode``):
  the loop's synapse is two first-order stages, 1 / ((t1 s + 1)(t2 s + 1)), so
  g = x + (t1 + t2) f + t1 t2 f' f. The short stage goes before the decode neurons (t1 = 20 ms: a
  long filter there costs the decoders about 4 bits of the shared weight exponent) and the long
  one after them (decode filter 200 ms, which also filters the decode neurons' spike noise); both
  as the chip's decays realize them. Decoders are solved for the chip's LIF rate curve and divided
  by the decode neurons' gain; intercepts are capped at :data:`CHIP_INTERCEPT_MAX` so that small
  weights keep their bits. x(0) and s(0) enter as a constant bias current; the rest of s(t), and
  of the loop's free response from x(0), reach the chip through the same 200 ms input filter, so
  the host sends that filter's inverse (:func:`chip_input`). A synapse whose ensemble a decode
  block cannot take becomes independent replicas (:func:`replicas_for`), each with its own loop
  and decode neurons, the read-out averaging them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...graph import LI, LIF, Alpha, Connection, Decoded, DoubleExp, Graph, Lowpass, Probe, Signal, Substitution
from ...seeds import rng_for, spiking_seed
from . import population

if TYPE_CHECKING:
    from ...graph.edges import Edge
    from ...graph.nodes import Node
    from ...spec.common import Spiking

#: The loop's first stage on a decode-neuron target (s): the low-pass before the decode neurons.
LOOP_TAU = 0.02
#: The filter on decoded on-chip connections and host inputs there: the loop's second stage (s).
DECODE_TAU = 0.2
#: Share of the chip LIF's top rate that maximum rates may use.
CHIP_RATE_SHARE = 0.75
#: Highest intercept on a chip with a shared weight exponent: gains then spread at most
#: (1 + 0.9) / (1 - 0.5) = 3.8-fold, so the exponent a core shares leaves small weights more bits.
CHIP_INTERCEPT_MAX = 0.5
#: (mu, w) -> the ensemble's first two dimensions (no sliced targets).
INTO_STATE = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])


def half_grid(model) -> np.ndarray:
    """Times k dt / 2, k = 0..2N, of the rate model's step: where s(t) is tabulated."""
    n = int(round(model.time.duration / model.time.dt))
    return np.arange(2 * n + 1) * (model.time.dt / 2)


def effective_tau_ref(traits, sp) -> float:
    """The refractory period (s) the target's LIF neurons realize on average: tau_ref - dt/2 on a
    step grid (:func:`~neuromorph.graph.legalize.refractory_on_grid`), else tau_ref."""
    return max(sp.tau_ref - traits.step(sp.dt) / 2, 0.0) if traits.refractory_on_grid else sp.tau_ref


def lif_rates(traits, sp):
    """J -> rates (Hz) of the target's LIF neurons when not the (effective) LIF curve."""
    if traits.lif_rates is not None:
        return lambda J: traits.lif_rates(J, sp.tau_rc, sp.tau_ref)
    return None


def top_rate(traits, sp) -> float:
    """The target LIF's highest rate (Hz), at a very large current."""
    rates = lif_rates(traits, sp)
    return float(np.max(rates(np.full((1, 1), 1e6)))) if rates else 1.0 / max(sp.tau_ref, 1e-6)


def common_substitutions(tau_syn: float) -> list:
    return [Substitution("bm.momenta", "p_mu, p_w", "not represented (exactly 0)",
                         "Eqs 25-26 are homogeneous in p, so p stays 0 from p(0) = 0"),
            Substitution("bm.readout_ahead", "read-out decoders of (mu, w)",
                         f"decoders of x + 2 tau f + tau^2 (df/dx) f, tau = {tau_syn * 1e3:g} ms",
                         "the read-out's alpha synapse delays what it decodes by 2 tau on average; decoding the "
                         "state that far ahead cancels the delay to second order (the loop's own mapping)")]


def recurrent_taus(tau: float) -> tuple[float, float]:
    """The recurrent synapse's stages (s) off chip for ``spiking.tau_recurrent`` = tau: t1 =
    min(LOOP_TAU, tau), t2 = 2 tau - t1, the alpha synapse's mean delay 2 tau (equal to it for
    tau <= LOOP_TAU)."""
    t1 = min(LOOP_TAU, tau)
    return t1, 2 * tau - t1


def recurrent_synapse(taus):
    t1, t2 = taus
    return Alpha(t1) if t1 == t2 else DoubleExp(t1, t2)


def two_stage(tau: float, taus) -> Substitution:
    t1, t2 = taus
    return Substitution("synapse.recurrent_two_stage", f"alpha recurrent synapse (tau = {tau * 1e3:g} ms)",
                        f"two first-order stages, {t1 * 1e3:g} ms then {t2 * 1e3:g} ms (the same mean delay, "
                        f"{(t1 + t2) * 1e3:g} ms)",
                        "the loop's mapping misses terms of order t1 t2 c ds/dt when s changes; a short first "
                        "stage cuts t1 t2 to about a third at the same delay and low-frequency noise, and the "
                        "loop's error to a seventh (kim_fig5 without spikes: nrmse 0.039 -> 0.005; on Nengo at "
                        "1200 neurons per dimension 0.057 / 0.049 -> 0.035 / 0.031)")


def mapping_for(model, traits):
    """The population code for a target and the substitutions it implies."""
    sp = model.spiking
    tau = sp.tau_recurrent
    subs = common_substitutions(sp.tau_syn)
    if traits.decode is None:
        subs.append(Substitution("input.s_current", "s(t) in the equations", "s(t) / R_s decoded into the "
                                 "ensemble from a host signal",
                                 "s is a represented dimension so that w s and s mu can be decoded"))
        taus = recurrent_taus(tau)
        if taus[0] != taus[1]:
            subs.append(two_stage(tau, taus))
        subs.append(input_ahead(taus))
        return population.build(model, half_grid(model), taus, effective_tau_ref(traits, sp),
                                reg=population.REG_OFF_CHIP), subs
    top = top_rate(traits, sp)
    lo, hi = sp.max_rates
    capped = (min(lo, CHIP_RATE_SHARE * top * 0.8), min(hi, CHIP_RATE_SHARE * top))
    taus = (traits.tau(LOOP_TAU), traits.tau(DECODE_TAU) + traits.decode.latency)
    icpt = (min(sp.intercepts[0], CHIP_INTERCEPT_MAX), min(sp.intercepts[1], CHIP_INTERCEPT_MAX))
    m = replicas_for(traits, sp.neurons)
    mapping = population.build(model, half_grid(model), taus, sp.tau_ref, rate_fn=lif_rates(traits, sp),
                               max_rates=capped, intercepts=icpt, replicas=m)
    for group in mapping.replicas:
        for pop in group:
            pop.recurrent = pop.recurrent / traits.decode.gain
    subs += chip_substitutions(model, traits, taus, icpt, capped, top) + [input_ahead(taus)]
    if m > 1:
        subs.append(replicas_substitution(traits, sp.neurons, m))
    return mapping, subs


def replicas_for(traits, neurons: int) -> int:
    """Independent ensembles per synapse on a decode-neuron target: the fewest whose 3 x
    ``neurons`` neurons each fit one decode block (``traits.input_axons`` input axons)."""
    limit = traits.input_axons
    return 1 if limit is None else -(-3 * neurons // limit)


def replicas_substitution(traits, neurons: int, m: int) -> Substitution:
    return Substitution("bm.replicas", f"one ensemble of {3 * neurons} neurons per synapse",
                        f"{m} independent ensembles of about {3 * neurons // m} neurons per synapse, each with its "
                        "own tuning, loop and decode neurons; the read-out averages them",
                        f"a decode block takes at most {traits.input_axons} input axons; one ensemble decoded in "
                        "parts sends every part through every part's decode neurons, whose spike noise adds up "
                        "(kim_fig3_solid, loihi: 0.163 / 0.136 at 2000 per dimension against 0.119 / 0.133 at "
                        "1000), and at 4000 per dimension the parts need more output axons than a core has; "
                        "independent loops keep one decode path each, and their errors partly average out",
                        {"replicas": m})


def input_ahead(taus) -> Substitution:
    c = population.lead(taus)
    return Substitution("bm.input_ahead", "s(t) represented as it is",
                        f"s(t) + (s(t + c) - s(t - c)) / 2, c = t1 t2 / (t1 + t2) = {c * 1e3:.4g} ms",
                        "through its synapse the loop needs g = x + (t1 + t2) f + t1 t2 (df/dx) f + t1 t2 (df/ds) "
                        "ds/dt; f is linear in s, so s represented c ahead supplies the last term (kim_fig5's "
                        "loop without spikes: nrmse 0.137 -> 0.039)")


def chip_substitutions(model, traits, taus, icpt, capped, top) -> list:
    sp: Spiking = model.spiking
    tau, lo, hi = sp.tau_recurrent, *sp.max_rates
    subs = [
        Substitution("synapse.alpha_on_chip", f"alpha recurrent synapse (tau = {tau * 1e3:g} ms)",
                     f"Lowpass({LOOP_TAU * 1e3:g} ms) into the decode neurons, then the decode filter "
                     f"({DECODE_TAU * 1e3:g} ms) and {traits.decode.latency * 1e3:g} ms of latency (t1 = "
                     f"{taus[0] * 1e3:.4g} ms, t2 = {taus[1] * 1e3:.4g} ms as the chip's decays realize them)",
                     "the chip has only first-order low-pass synapses; the decoders realize the ODE through "
                     "the two-stage synapse the loop really has; a short first stage keeps the decoders' "
                     "weight exponent (a long one loses about 4 bits)"),
        Substitution("input.s_on_chip", "s(t) enters without delay", "s(0) enters as a constant current in "
                     "the neurons' biases (exact and immediate); s(t) - s(0) reaches the chip as spikes of "
                     f"on/off input neurons through a {DECODE_TAU * 1e3:g} ms low-pass; the host sends that "
                     "filter's inverse (clipped to [-1, 1]) so the filtered input follows it",
                     "host-to-chip input encoding; a compartment has one synaptic filter, and a step "
                     "through a 200 ms filter with inputs limited to [-1, 1] would arrive late"),
        Substitution("loihi.decode_gain", "decode neurons with unit gain",
                     f"recurrent decoders divided by {traits.decode.gain:.4f}",
                     "NengoLoihi's Preset10 decode neurons scale their output by about 1.02 (their "
                     "least-squares gain over [-1, 1]); the loop needs unit gain"),
        Substitution("initial.chip_input", "initial state (mu, w)(0) in the synapses' memory",
                     "x(0) enters as a constant current in the neurons' biases (with s(0)); the host input "
                     "carries the rest of the loop's free response from x(0), as if the trajectory were under "
                     "way at t = 0", "on-chip synapse states cannot be set, and the input's 200 ms filter "
                     "cannot deliver a start away from 0 in time: its inverse asked for up to 96 times the "
                     "input neurons' range in the first step (kim_fig5), and was clipped"),
        Substitution("loihi.decode_tau", f"the decode filter's default of {traits.decode.tau * 1e3:g} ms",
                     f"{DECODE_TAU * 1e3:g} ms",
                     "the decode neurons re-encode the recurrent signal as spikes; a long filter after them "
                     "lowers that noise and the mapping accounts for it"),
    ]
    if icpt != tuple(sp.intercepts):
        subs.append(Substitution("ensemble.intercepts", f"intercepts {sp.intercepts[0]:g} to {sp.intercepts[1]:g}",
                                 f"{icpt[0]:g} to {icpt[1]:g}",
                                 "a core's weights share one exponent set by the largest weight; capping "
                                 "the intercepts caps the gains, so small weights keep more bits"))
    if tuple(capped) != tuple(sp.max_rates):
        subs.append(Substitution("ensemble.max_rates", f"max rates {lo:g}-{hi:g} Hz",
                                 f"{capped[0]:g}-{capped[1]:g} Hz",
                                 f"the chip's LIF saturates at {top:.0f} Hz (tau_ref = {sp.tau_ref * 1e3:g} ms)"))
    return subs


def s_of(signal, k: int):
    """s_k(t) (model units) of synapse k from ``signal`` (the model's or the represented one), for a
    time or an array of times."""
    return lambda t: np.asarray(signal(t), dtype=float)[..., k]


def free_response(mapping, k):
    """What the loop's second stage still delivers at t >= 0 with no input after t = 0, both
    stages in the state of a trajectory under way at x(0): z1(0) = x0 + t2 f(x0), z2(0) = x0
    (scaled (mu, w)): z2(t) = z2(0) e^(-t/t2) + z1(0) t1/(t1 - t2) (e^(-t/t1) - e^(-t/t2))."""
    t1, t2 = mapping.taus
    pop, system = mapping.populations[k], mapping.system
    f, _ = population.dynamics(pop.scale, system.params, k)
    x0 = np.array([system.y0[0, k] / pop.scale[0], system.y0[1, k] / pop.scale[1],
                   float(s_of(system.signal, k)(0.0)) / pop.scale[2]])
    z1, z2 = x0[:2] + t2 * f(x0[None])[0], x0[:2]
    c = t1 / (t1 - t2)

    def response(t):
        t = np.asarray(t, dtype=float)[..., None]
        return z2 * np.exp(-t / t2) + z1 * c * (np.exp(-t / t1) - np.exp(-t / t2))

    return response


def chip_input(target: np.ndarray, tau: float, dt: float, limit: float = 1.0) -> np.ndarray:
    r"""Host values v_k, k = 0..steps-1, for a host-to-chip connection whose on-chip Lowpass(tau)
    should deliver the ``target`` x_j at t = j dt ((steps + 2, d)): the filter's inverse,
    v_k = (x_(k+2) - a y_k) / (1 - a), a = exp(-dt / tau), clipped to [-limit, limit] (the range the
    chip's input neurons carry); y_(k+1) = a y_k + (1 - a) v_k."""
    a = float(np.exp(-dt / tau))
    out = np.empty((len(target) - 2, target.shape[1]))
    y = np.zeros(target.shape[1])
    for k in range(len(out)):
        v = np.clip((target[k + 2] - a * y) / (1.0 - a), -limit, limit)
        y = a * y + (1.0 - a) * v
        out[k] = v
    return out


def lower(model, traits, copies: int = 1) -> Graph:
    """The population-coded network of ``model`` for a target with ``traits``."""
    if copies != 1:
        raise population.MappingError("population-coded BM networks run one copy (the synapses are the population)")
    sp = model.spiking
    dt = traits.step(sp.dt)
    mapping, subs = mapping_for(model, traits)
    system, chip = mapping.system, traits.decode is not None
    span = 8 * max(sp.tau_recurrent, sp.tau_syn)
    history = population.past(system, span, mapping.signal)[::-1]  # (steps, 3, n): oldest first, HISTORY_DT apart
    scales = np.array([p.scale[2] for p in mapping.populations])
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    probes: dict[str, Probe] = {}
    if not chip:
        grid = half_grid(model)
        nodes["s"] = Signal(np.asarray(mapping.signal(grid)).reshape(len(grid), -1) / scales, model.time.dt / 2)
    rng = rng_for(spiking_seed(model), "spiking", "v0")
    steps = int(round(model.time.duration / dt))
    for k, group in enumerate(mapping.replicas):
        s0 = float(s_of(mapping.signal, k)(0.0)) / group[0].scale[2] if chip else 0.0
        free = free_response(mapping, k)
        x0 = free(0.0) if chip else np.zeros(2)  # scaled (mu, w)(0)
        for r, pop in enumerate(group):
            ens, name = pop.ens, f"bm[{k}]" if len(group) == 1 else f"bm[{k}]#{r}"
            # chip: x(0) and s(0) as a bias current
            bias = ens.biases + ens.gains * (ens.encoders[:, :2] @ x0 + ens.encoders[:, 2] * s0)
            nodes[name] = LIF(ens.n, sp.tau_rc, sp.tau_ref, bias=bias, v0=rng.uniform(0, 1, ens.n), v_min=0.0,
                              encoders=ens.encoders, gain=ens.gains)
            if chip and r == 0:
                times = np.arange(steps + 2) * dt
                ahead = s_of(mapping.signal, k)(times) / pop.scale[2] - s0
                target = np.column_stack([free(times) - x0, ahead])
                nodes[f"input[{k}]"] = Signal(chip_input(target, traits.tau(DECODE_TAU), dt), dt)
            if chip:
                edges.append(Connection(f"input[{k}]", name, np.eye(3), into="ensemble"))
            else:
                select = np.zeros((3, len(scales)))
                select[2, k] = 1.0
                edges.append(Connection("s", name, select, into="ensemble"))
            rates = ens.rates(history[:, :, k] / pop.scale)  # (steps, n) along the trajectory before t = 0
            if chip:
                edges.append(Decoded(name, name, pop.recurrent, INTO_STATE, Lowpass(LOOP_TAU)))
            else:
                edges.append(Decoded(name, name, pop.recurrent, INTO_STATE, recurrent_synapse(mapping.taus),
                                     history=rates @ pop.recurrent, history_dt=population.HISTORY_DT))
            read = pop.readout / len(group)  # the read-out averages the replicas
            edges.append(Connection(name, f"state[{k}]", read.T, Alpha(sp.tau_syn), history=rates @ read,
                                    history_dt=population.HISTORY_DT))
        nodes[f"state[{k}]"] = LI(2)
        probes[f"state[{k}]"] = Probe(f"state[{k}]", "value")
    notes = population.notes(mapping, sp.tau_syn)
    if not chip:
        notes.append("the synaptic filter states start as for a trajectory already under way at x(0)")
    meta = {"decode_tau": DECODE_TAU} if chip else {}
    return Graph(name=model.name, nodes=nodes, edges=tuple(edges), probes=probes, dt=sp.dt, copies=1,
                 substitutions=tuple(subs), notes=tuple(notes), meta=meta)
