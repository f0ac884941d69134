r"""Population-coded BM in Nengo/NengoLoihi (:mod:`neuromorph.backends.population`).

Per synapse, one LIF ensemble represents x = (mu / R_mu, w / R_w, s / R_s); s(t) arrives from a
host node; a recurrent decoded connection realizes dx/dt = f(x) (Eqs 23-24) through its synapse:

- ``nengo``: an alpha synapse (tau = ``spiking.tau_recurrent``): g = x + 2 tau f + tau^2 f' f;
- ``loihi``: the chip has only first-order filters, and NengoLoihi routes an on-chip decoded
  connection through decode neurons whose spikes pass a second low-pass (``decode_tau``) and
  about two steps of latency, so the loop's synapse is 1 / ((t1 s + 1)(t2 s + 1)):
  g = x + (t1 + t2) f + t1 t2 f' f. The compiler puts the short stage before the decode neurons
  (t1 = 20 ms: a long filter there forces NengoLoihi to a low weight exponent and the decoders
  lose about 4 bits) and the long one after them (decode_tau = 200 ms, which also filters the
  decode neurons' spike noise). Both use the time constants the chip's 12-bit decays really
  give. Decoders are solved for the chip's LIF rate curve (whole-step refractory and spike
  periods) and divided by the decode neurons' gain (:func:`decode_gain`); intercepts are capped
  at ``LOIHI_INTERCEPT_MAX`` so the weights keep their bits. s(0) is a constant bias current;
  the other host inputs (s(t) - s(0), and the initial state) reach the chip through the same
  200 ms filter, so the host sends the filter's inverse (:class:`ChipInput`).

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

#: The loop's first stage on Loihi (s): the low-pass before the decode neurons.
LOOP_TAU = 0.02
#: The filter NengoLoihi puts on decoded on-chip connections and host inputs (its default is
#: 5 ms): the loop's second stage (s).
DECODE_TAU = 0.2
#: Steps of spike latency the decode path adds to the second stage.
DECODE_LATENCY = 2 * DT
#: Share of the Loihi LIF's top rate that maximum rates may use.
LOIHI_RATE_SHARE = 0.75
#: Highest intercept on Loihi: gains then spread at most (1 + 0.9) / (1 - 0.5) = 3.8-fold, so the
#: weight exponent a core shares (set by its largest weight) leaves the small weights more bits.
LOIHI_INTERCEPT_MAX = 0.5


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


def loihi_tau(tau: float) -> float:
    """The time constant (s) a Loihi low-pass of ``tau`` really has: the chip decays a current
    by (4095 - d) / 4096 per step, d = round(4095 (1 - exp(-dt / tau)) - 1) (12 bits)."""
    d = np.round(4095 * (1 - np.exp(-DT / tau)) - 1)
    return float(-DT / np.log((4095 - d) / 4096))


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


def decode_gain() -> float:
    """Static gain of NengoLoihi's decode neurons: the least-squares slope of their output
    y(g) = scale dt sum(r_on(g) - r_off(g)) over their design range g in [-1, 1]. The Preset10
    pairs scale y up by 1.02 on purpose (NengoLoihi's choice for summed inputs); a recurrent loop
    needs unit gain, so the loop's decoders are divided by this."""
    import_loihi()
    from nengo_loihi.decode_neurons import Preset10DecodeNeurons

    dn = Preset10DecodeNeurons(dt=DT)
    gain, bias = dn.gain[::2], dn.bias[::2]
    g = np.linspace(-1.0, 1.0, 401)
    on = np.stack([np.ravel(dn.neuron_type.rates(v, gain, bias, dt=DT)) for v in g])
    off = np.stack([np.ravel(dn.neuron_type.rates(-v, gain, bias, dt=DT)) for v in g])
    y = dn.scale * DT * (on - off).sum(axis=1)
    return float(y @ g / (g @ g))


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
    taus = (loihi_tau(LOOP_TAU), loihi_tau(DECODE_TAU) + DECODE_LATENCY)
    icpt = (min(sp.intercepts[0], LOIHI_INTERCEPT_MAX), min(sp.intercepts[1], LOIHI_INTERCEPT_MAX))
    mapping = population.build(model, times, taus, sp.tau_ref, rate_fn=loihi_rates(sp), max_rates=capped,
                               intercepts=icpt)
    loop_gain = decode_gain()
    for pop in mapping.populations:
        pop.recurrent = pop.recurrent / loop_gain
    subs += [
        Substitution("synapse.alpha_on_chip", f"alpha recurrent synapse (tau = {tau * 1e3:g} ms)",
                     f"Lowpass({LOOP_TAU * 1e3:g} ms) into the decode neurons, then NengoLoihi's decode "
                     f"filter ({DECODE_TAU * 1e3:g} ms) and 2 steps of latency (t1 = {taus[0] * 1e3:.4g} ms, "
                     f"t2 = {taus[1] * 1e3:.4g} ms as the chip's decays realize them)",
                     "Loihi has only first-order low-pass synapses; the decoders realize the ODE through "
                     "the two-stage synapse the loop really has; a short first stage keeps the decoders' "
                     "weight exponent (a long one loses about 4 bits)"),
        Substitution("input.s_on_chip", "s(t) enters without delay", "s(0) enters as a constant current in "
                     "the neurons' biases (exact and immediate); s(t) - s(0) reaches the chip as spikes of "
                     f"on/off input neurons through a {DECODE_TAU * 1e3:g} ms low-pass; the host sends that "
                     "filter's inverse (clipped to [-1, 1]) so the filtered input follows it",
                     "host-to-chip input encoding; a compartment has one synaptic filter, and a step "
                     "through a 200 ms filter with inputs limited to [-1, 1] would arrive late"),
        Substitution("loihi.decode_gain", "decode neurons with unit gain",
                     f"recurrent decoders divided by {loop_gain:.4f}",
                     "NengoLoihi's Preset10 decode neurons scale their output by about 1.02 (their "
                     "least-squares gain over [-1, 1]); the loop needs unit gain"),
        Substitution("initial.chip_input", "initial state (mu, w)(0) in the synapses' memory",
                     "the host input also carries the loop's free response from x(0), as if the trajectory "
                     "were under way at t = 0", "on-chip synapse states cannot be set"),
        Substitution("neuron.loihi_lif", "LIF rate curve", "Loihi LIF (whole-step refractory and spike periods)",
                     "decoders are solved for the chip's rate curve"),
        Substitution("loihi.decode_tau", "NengoLoihi's decode filter of 5 ms", f"{DECODE_TAU * 1e3:g} ms",
                     "the decode neurons re-encode the recurrent signal as spikes; a long filter after them "
                     "lowers that noise and the mapping accounts for it"),
        Substitution("weights.discretized", "float decoders", "8-bit weights with a shared exponent per core",
                     "Loihi's synapse format"),
        Substitution("neuron.initial_voltage", "initial voltages uniform in [0, 1)", "0",
                     "Loihi starts every compartment at v = 0"),
    ]
    if icpt != tuple(sp.intercepts):
        subs.append(Substitution("ensemble.intercepts", f"intercepts {sp.intercepts[0]:g} to {sp.intercepts[1]:g}",
                                 f"{icpt[0]:g} to {icpt[1]:g}",
                                 "a core's weights share one exponent set by the largest weight; capping "
                                 "the intercepts caps the gains, so small weights keep more bits"))
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
    if not loihi:
        built.notes.append("the synaptic filter states start as for a trajectory already under way at x(0)")
    with nengo.Network(label=model.name, seed=spiking_seed(model)) as net:
        if loihi:
            import_loihi().add_params(net)
        # on Loihi each synapse's input node carries s(t) itself (ChipInput)
        s_node = None if loihi else nengo.Node(lambda t: np.asarray(system.signal(t), dtype=float).reshape(-1) / scales,
                                               label="s(t)")
        for k, pop in enumerate(mapping.populations):
            add_synapse(model, mapping, pop, k, s_node, history[:, :, k], built)
    built.net = net
    return built


def add_synapse(model, mapping, pop, k, s_node, past, built) -> None:
    nengo = import_nengo()
    sp, loihi = model.spiking, built.backend == "loihi"
    ens_kw = {"initial_state": {"voltage": nengo.dists.Choice([0.0])}} if loihi else {}
    s_k = lambda t: float(np.asarray(mapping.system.signal(t), dtype=float).reshape(-1)[k]) / pop.scale[2]  # noqa: E731
    # Loihi: s(0) as a bias current, gain_i e_i3 s(0) / R_s (the input carries the rest)
    s0 = s_k(0.0) if loihi else 0.0
    bias = pop.ens.biases + pop.ens.gains * pop.ens.encoders[:, 2] * s0
    ens = nengo.Ensemble(pop.ens.n, 3, encoders=pop.ens.encoders, gain=pop.ens.gains, bias=bias,
                         neuron_type=nengo.LIF(tau_rc=sp.tau_rc, tau_ref=sp.tau_ref, **ens_kw), label=f"bm[{k}]")
    into_state = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])  # (mu, w) -> x, no sliced post
    if loihi:
        free = free_response(mapping, k)
        chip_in = nengo.Node(ChipInput(lambda t: np.append(free(t), s_k(t) - s0), loihi_tau(DECODE_TAU)),
                             size_out=3, label=f"input[{k}]")
        nengo.Connection(chip_in, ens, synapse=None)
    else:
        nengo.Connection(s_node[k], ens, transform=[[0.0], [0.0], [1.0]], synapse=None)
    rates = pop.ens.rates(past / pop.scale)  # (steps, n) along the trajectory before t = 0
    tau = sp.tau_recurrent
    if loihi:
        rec_syn = nengo.Lowpass(LOOP_TAU)
    else:
        rec_syn = make_primed("alpha", tau, filter_state(nengo.Alpha(tau), rates @ pop.recurrent @ into_state.T))
    nengo.Connection(ens, ens, function=lambda x: x[:2], solver=nengo.solvers.NoSolver(pop.recurrent),
                     transform=into_state, synapse=rec_syn)
    read = nengo.Node(lambda t, v: v, size_in=2, label=f"(mu, w)[{k}]")
    read_syn = make_primed("alpha", sp.tau_syn, filter_state(nengo.Alpha(sp.tau_syn), rates @ pop.readout))
    nengo.Connection(ens.neurons, read, transform=pop.readout.T, synapse=read_syn)
    built.readouts.append(nengo.Probe(read, synapse=None))
    counter = SpikeCounter(pop.ens.n)
    nengo.Connection(ens.neurons, nengo.Node(counter, size_in=pop.ens.n, size_out=0), synapse=None)
    if k == 0:
        built.raster = nengo.Probe(ens.neurons[:RASTER_NEURONS], synapse=None)
    built.counters.append(counter)


class ChipInput:
    """A host node's output v(t) for a host-to-chip connection whose on-chip Lowpass(tau) should
    deliver ``target(t)``: v_k = (x_(k+1) - a y_k) / (1 - a), a = exp(-dt / tau) (the filter's
    inverse), clipped to [-1, 1], the range the chip's input neurons carry."""

    def __init__(self, target, tau: float, limit: float = 1.0):
        self.target, self.a, self.limit = target, float(np.exp(-DT / tau)), limit
        self.y, self.last = None, np.inf

    def __call__(self, t):
        if t < self.last:  # a new run: the on-chip filter starts at rest
            self.y = None
        self.last = t
        x = np.asarray(self.target(t + DT), dtype=float).reshape(-1)
        if self.y is None:
            self.y = np.zeros_like(x)
        v = np.clip((x - self.a * self.y) / (1.0 - self.a), -self.limit, self.limit)
        self.y = self.a * self.y + (1.0 - self.a) * v
        return v


def free_response(mapping, k):
    """What the loop's second stage still delivers at t >= 0 with no input after t = 0, both
    stages in the state of a trajectory under way at x(0): z1(0) = x0 + t2 f(x0), z2(0) = x0
    (scaled (mu, w)): z2(t) = z2(0) e^(-t/t2) + z1(0) t1/(t1 - t2) (e^(-t/t1) - e^(-t/t2))."""
    t1, t2 = mapping.taus
    pop, system = mapping.populations[k], mapping.system
    f, _ = population.dynamics(pop.scale, system.params, k)
    s0 = float(np.asarray(system.signal(0.0), dtype=float).reshape(-1)[k])
    x0 = np.array([system.y0[0, k] / pop.scale[0], system.y0[1, k] / pop.scale[1], s0 / pop.scale[2]])
    z1, z2 = x0[:2] + t2 * f(x0[None])[0], x0[:2]
    c = t1 / (t1 - t2)
    return lambda t: z2 * np.exp(-t / t2) + z1 * c * (np.exp(-t / t1) - np.exp(-t / t2))


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
