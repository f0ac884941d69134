r"""Population-coded BM in Nengo/NengoLoihi (:mod:`neuromorph.backends.population`).

Per synapse, one LIF ensemble represents x = (mu / R_mu, w / R_w, s / R_s); s(t) arrives from a
host node; a recurrent decoded connection realizes dx/dt = f(x) (Eqs 23-24) through its synapse:

- ``nengo``: an alpha synapse (tau = ``spiking.tau_recurrent``): g = x + 2 tau f + tau^2 f' f;
- ``loihi``: the chip has only first-order filters, and NengoLoihi routes an on-chip decoded
  connection through decode neurons whose spikes pass a second low-pass (``decode_tau``, set
  to 30 ms) and about two steps of latency, so the loop's synapse is
  1 / ((tau s + 1)(t2 s + 1)) with t2 = 32 ms: g = x + (tau + t2) f + tau t2 f' f. Decoders are solved for the chip's LIF rate
  curve (whole-step refractory and spike periods).

(mu, w) are decoded on the host from the ensemble's spikes through alpha synapses of
``spiking.tau_syn``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...seeds import spiking_seed
from .. import population
from ..spikes import RASTER_NEURONS, raster_from_steps
from .common import (DT, NengoError, SpikeCounter, Substitution, filter_state, import_loihi, import_nengo,
                     make_primed)

#: The filter NengoLoihi puts on decoded on-chip connections and host inputs (its default is
#: 5 ms; 30 ms halves the decode neurons' spike noise in the loop, measured on kim_fig3_solid).
DECODE_TAU = 0.03
#: That filter plus two steps of spike latency: the second stage of the recurrent synapse.
DECODE_DELAY = DECODE_TAU + 2 * DT
#: Share of the Loihi LIF's top rate that maximum rates may use.
LOIHI_RATE_SHARE = 0.75


@dataclass
class BuiltBM:
    net: object
    backend: str
    substitutions: list
    notes: list
    steps: int
    readouts: list = field(default_factory=list)  # per synapse: probe of (mu, w)
    counters: list = field(default_factory=list)
    mapping: object = None
    decode_tau: float | None = None
    raster: object = None  # probe of the first neurons of synapse 0's ensemble

    @property
    def neurons(self) -> dict:
        return {"ens": self.mapping.n_neurons}


def loihi_top_rate(tau_ref: float) -> float:
    """The Loihi LIF's highest rate (Hz): one spike per round(tau_ref / dt) + 1 steps."""
    return 1.0 / (DT * (round(tau_ref / DT) + 1))


def loihi_rates(sp):
    """J -> rates (Hz) of Loihi LIF neurons (NengoLoihi's discretized curve)."""
    nengo = import_nengo()
    import_loihi()
    from nengo_loihi.neurons import loihi_lif_rates

    neuron = nengo.LIF(tau_rc=sp.tau_rc, tau_ref=sp.tau_ref)
    return lambda J: loihi_lif_rates(neuron, J, np.ones(J.shape[-1]), np.zeros(J.shape[-1]), DT)


def mapping_for(model, backend: str):
    """The population code for ``backend`` and the substitutions it implies."""
    sp = model.spiking
    tau = sp.tau_recurrent
    times = np.arange(int(round(model.time.duration / DT)) + 1) * DT
    subs = [Substitution("bm.momenta", "p_mu, p_w", "not represented (exactly 0)",
                         "Eqs 25-26 are homogeneous in p, so p stays 0 from p(0) = 0"),
            Substitution("input.s_current", "s(t) in the equations", "s(t) / R_s decoded into the ensemble "
                         "from a host node; its derivative's term in the synapse mapping is neglected",
                         "s is a represented dimension so that w s and s mu can be decoded")]
    if model.time.dt != DT:
        subs.append(Substitution("dt", f"dt = {model.time.dt * 1e3:g} ms ({model.time.integrator})", "dt = 1 ms",
                                 "Nengo/NengoLoihi step; traces are sampled at the model's recording times"))
    if backend != "loihi":
        return population.build(model, times, (tau, tau), sp.tau_ref), subs
    top = loihi_top_rate(sp.tau_ref)
    lo, hi = sp.max_rates
    capped = (min(lo, LOIHI_RATE_SHARE * top * 0.8), min(hi, LOIHI_RATE_SHARE * top))
    mapping = population.build(model, times, (tau, DECODE_DELAY), sp.tau_ref, rate_fn=loihi_rates(sp),
                               max_rates=capped)
    subs += [
        Substitution("synapse.alpha_on_chip", f"alpha recurrent synapse (tau = {tau * 1e3:g} ms)",
                     f"Lowpass({tau * 1e3:g} ms) followed by NengoLoihi's decode-neuron filter "
                     f"({DECODE_TAU * 1e3:g} ms + 2 steps: t2 = {DECODE_DELAY * 1e3:g} ms)",
                     "Loihi has only first-order low-pass synapses; the decoders realize the ODE through "
                     "the two-stage synapse the loop really has"),
        Substitution("input.s_on_chip", "s(t) enters without delay", "s(t) reaches the chip as spikes of "
                     f"on/off input neurons through a {DECODE_TAU * 1e3:g} ms low-pass", "host-to-chip input encoding"),
        Substitution("neuron.loihi_lif", "LIF rate curve", "Loihi LIF (whole-step refractory and spike periods)",
                     "decoders are solved for the chip's rate curve"),
        Substitution("loihi.decode_tau", "NengoLoihi's decode filter of 5 ms", f"{DECODE_TAU * 1e3:g} ms",
                     "the decode neurons re-encode the recurrent signal as spikes; a longer filter lowers "
                     "that noise and the mapping accounts for it"),
        Substitution("weights.discretized", "float decoders", "8-bit weights with a shared exponent per core",
                     "Loihi's synapse format"),
        Substitution("neuron.initial_voltage", "initial voltages uniform in [0, 1)", "0",
                     "Loihi starts every compartment at v = 0"),
    ]
    if tuple(capped) != tuple(sp.max_rates):
        subs.append(Substitution("ensemble.max_rates", f"max rates {lo:g}-{hi:g} Hz",
                                 f"{capped[0]:g}-{capped[1]:g} Hz",
                                 f"the Loihi LIF saturates at {top:.0f} Hz (tau_ref = {sp.tau_ref * 1e3:g} ms)"))
    return mapping, subs


def network(model, backend: str) -> BuiltBM:
    """The Nengo network of a BM model on ``backend`` ('nengo' or 'loihi')."""
    nengo = import_nengo()
    try:
        mapping, subs = mapping_for(model, backend)
    except population.MappingError as exc:
        raise NengoError(str(exc)) from None
    sp, system, loihi = model.spiking, mapping.system, backend == "loihi"
    steps = int(round(model.time.duration / DT))
    history = population.past(system, 8 * max(sp.tau_recurrent, sp.tau_syn))
    history = history[::int(round(DT / population.HISTORY_DT))][::-1]  # oldest first, 1 ms apart
    scales = np.array([p.scale[2] for p in mapping.populations])
    built = BuiltBM(net=None, backend=backend, substitutions=subs, notes=population.notes(mapping, sp.tau_syn),
                    steps=steps, mapping=mapping, decode_tau=DECODE_TAU if loihi else None)
    kick = initial_kick(mapping, backend) if loihi and np.any(system.y0[:2] != 0) else None
    if kick is not None:
        subs.append(Substitution("initial.kick", "initial state (mu, w)(0) in the synapses' memory",
                                 f"an input pulse of area x(0) through the recurrent synapse during the first "
                                 f"{kick[1] * 1e3:.0f} ms", "on-chip synapse states cannot be set"))
    elif not loihi:
        built.notes.append("the synaptic filter states start as for a trajectory already under way at x(0)")
    with nengo.Network(label=model.name, seed=spiking_seed(model)) as net:
        if loihi:
            import_loihi().add_params(net)
        s_node = nengo.Node(lambda t: np.asarray(system.signal(t), dtype=float).reshape(-1) / scales, label="s(t)")
        for k, pop in enumerate(mapping.populations):
            add_synapse(model, mapping, pop, k, s_node, history[:, :, k], built, kick)
    built.net = net
    return built


def add_synapse(model, mapping, pop, k, s_node, past, built, kick) -> None:
    nengo = import_nengo()
    sp, loihi = model.spiking, built.backend == "loihi"
    ens_kw = {"initial_state": {"voltage": nengo.dists.Choice([0.0])}} if loihi else {}
    ens = nengo.Ensemble(pop.ens.n, 3, encoders=pop.ens.encoders, gain=pop.ens.gains, bias=pop.ens.biases,
                         neuron_type=nengo.LIF(tau_rc=sp.tau_rc, tau_ref=sp.tau_ref, **ens_kw), label=f"bm[{k}]")
    into_state = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # (mu, w) -> x, no sliced post
    nengo.Connection(s_node[k], ens, transform=[[0.0], [0.0], [1.0]], synapse=None)
    rates = pop.ens.rates(past / pop.scale)  # (steps, n) along the trajectory before t = 0
    tau = sp.tau_recurrent
    if loihi:
        rec_syn = nengo.Lowpass(tau)
    else:
        rec_syn = make_primed("alpha", tau, filter_state(nengo.Alpha(tau), rates @ pop.recurrent @ into_state.T))
    nengo.Connection(ens, ens, function=lambda x: x[:2], solver=nengo.solvers.NoSolver(pop.recurrent),
                     transform=into_state, synapse=rec_syn)
    if kick is not None:
        values, length = kick
        nengo.Connection(nengo.Node(lambda t, v=values[k]: v if t <= length else 0 * v, label=f"x(0)[{k}]"), ens,
                         transform=into_state, synapse=nengo.Lowpass(tau))
    read = nengo.Node(lambda t, v: v, size_in=2, label=f"(mu, w)[{k}]")
    read_syn = make_primed("alpha", sp.tau_syn, filter_state(nengo.Alpha(sp.tau_syn), rates @ pop.readout))
    nengo.Connection(ens.neurons, read, transform=pop.readout.T, synapse=read_syn)
    built.readouts.append(nengo.Probe(read, synapse=None))
    counter = SpikeCounter(pop.ens.n)
    nengo.Connection(ens.neurons, nengo.Node(counter, size_in=pop.ens.n, size_out=0), synapse=None)
    if k == 0:
        built.raster = nengo.Probe(ens.neurons[:RASTER_NEURONS], synapse=None)
    built.counters.append(counter)


def initial_kick(mapping, backend):
    """(values per synapse, duration): the input that carries the state from 0 to x(0) through
    the recurrent synapse, kept within NengoLoihi's host-input range [-1, 1]."""
    t1, t2 = mapping.taus
    x0 = [mapping.system.y0[:2, k] / p.scale[:2] for k, p in enumerate(mapping.populations)]
    peak = max(float(np.max(np.abs(v))) for v in x0)
    length = max(0.02, (t1 + t2) * peak / 0.9)
    return [(t1 + t2) * v / length for v in x0], length


def run(built, seed: int, target=None):
    """Run the network; (t, mu, w) with arrays (steps + 1, n), row 0 the initial state."""
    from .common import quiet, simulator

    info = {}
    with quiet(), simulator(built.net, built.backend, seed, target, built.decode_tau) as sim:
        sim.run_steps(built.steps)
        values = np.stack([sim.data[p] for p in built.readouts], axis=2)  # (steps, 2, n)
        info["raster"] = raster_from_steps(sim.data[built.raster], DT, "ens")
        if built.backend == "loihi":
            from .loihi import resources

            info["resources"] = resources(sim)
    if built.backend == "loihi":
        from .loihi import quantization

        info["quantization"] = quantization(built.net, seed)
    y0 = built.mapping.system.y0[:2][None]
    values = np.concatenate([y0, values], axis=0)
    t = np.arange(built.steps + 1) * DT
    return t, values[:, 0], values[:, 1], info
