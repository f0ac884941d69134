"""Spiking Brian2 programs: LIF neurons, Poisson input encoding, alpha synapses.

Alpha synapse (unit area, kernel (t / tau^2) exp(-t / tau)): two first-order stages in the
postsynaptic neuron, dsyn_a/dt = -syn_a / tau, dsyn_b/dt = (syn_a - syn_b) / tau, and a spike of a synapse with
weight w_eff (seconds x input current) adds w_eff / tau to syn_a. Then syn_b(t) = sum w_eff h(t - t_spike).

- NLA, neuron-level mapping (layered networks): input rate x fires a Poisson train at
  x * input_rate; hidden neuron i is an LIF neuron (tau_rc, tau_ref) with input current
  J_i = b_i + sum_j W_ij s_j a_j, where a_j is presynaptic neuron j's alpha-filtered spike train
  (Hz) and s_j its rate scale (the model's amplitude for LIF neurons, 1 / input_rate for inputs),
  so that a neuron firing at r(J) stands for rho(u) = amplitude * r(u) of the rate model; the
  output voltages are read out linearly from the last hidden layer's filtered spikes.
- BM, population coding: see :func:`bm_program`.
"""

from __future__ import annotations

import numpy as np

from ...errors import NeuromorphError
from ...families import bm, nla
from ...tasks import marked_outputs
from ...seeds import rng_for, spiking_seed
from .. import population
from ..spikes import rate_histogram
from .program import Group, Monitor, Program, Readout, Syn, TimedInput

LIF = """
dv/dt = (J - v)/tau_rc : 1 (unless refractory)
dsyn_a/dt = -syn_a/tau_syn : 1
dsyn_b/dt = (syn_a - syn_b)/tau_syn : 1
J = b + syn_b : 1
b : 1 (constant)
"""

READOUT = """
dsyn_a/dt = -syn_a/tau_syn : 1
dsyn_b/dt = (syn_a - syn_b)/tau_syn : 1
u = b + syn_b : 1
b : 1 (constant)
"""


class SpikingError(NeuromorphError):
    """A model the spiking compiler cannot map."""


def nla_notes(model) -> tuple[list, list]:
    n, sp = model.neuron, model.spiking
    notes = ["neuron-level mapping: each hidden unit is an LIF neuron, inputs fire Poisson trains at "
             f"x * {sp.input_rate:g} Hz, synapses are alpha filters with tau = {sp.tau_syn * 1e3:g} ms; "
             "output voltages are read out linearly from filtered spikes"]
    subs = []
    if n.rho == "soft_lif":
        subs.append(f"rho: soft_lif (sigma = {n.sigma:g}) -> LIF neurons with a hard threshold")
    elif n.rho != "lif":
        subs.append(f"rho: {n.rho} has no LIF rate curve; LIF neurons (tau_rc = {n.tau_rc:g} s, "
                    f"tau_ref = {n.tau_ref:g} s, amplitude = {n.amplitude:g} s) stand in for it")
    subs.append(f"input filter: tau_in = {n.tau_in * 1e3:g} ms low-pass -> alpha synapse on Poisson spikes "
                f"(tau = {sp.tau_syn * 1e3:g} ms)")
    subs.append(f"dt: {model.dynamics.dt * 1e3:g} ms (rate model) -> {sp.dt * 1e3:g} ms (spiking simulation); "
                f"refractory period {n.tau_ref * 1e3:g} ms + dt/2, because Brian2 spikes on the step grid and "
                "ends refractoriness one step early (mean ISI tau_ref + rise - dt/2)")
    subs.append("NLA error dynamics (e, nudging, plasticity) are not run: inference with the trained weights")
    return notes, subs


def nla_program(model, weights, st, protocol, state=None) -> Program:
    """Spiking inference program for a layered NLA network over one protocol."""
    if not st.layered:
        raise SpikingError("the neuron-level spiking mapping needs a layered network (network.layers)")
    if weights.W_IP is not None:
        raise SpikingError("microcircuit models are not mapped to spikes; their forward weights could be")
    sp, neuron = model.spiking, model.neuron
    L, K, dt = protocol.x.shape[1], protocol.steps, model.dynamics.dt
    inputs = [TimedInput("nm_x", protocol.x.reshape(K, L * st.n_in), dt)]
    groups = [Group(name="inp", n=L * st.n_in, rates="nm_x(t, i)*input_rate",
                    namespace={"nm_x": "nm_x", "input_rate": (sp.input_rate, "Hz")})]
    syn_ns = {"tau_syn": (sp.tau_syn, "second")}
    lif_ns = {"tau_rc": (neuron.tau_rc, "second"), "tau_syn": (sp.tau_syn, "second")}
    synapses = []
    names = [f"h{k + 1}" for k in range(len(st.layers) - 1)] + ["out"]
    for k, (name, layer) in enumerate(zip(names, st.layers)):
        size = layer.stop - layer.start
        b = np.tile(weights.b[layer], L)
        init = {"b": b}
        if state is not None and name in state:
            init.update(state[name])
        if name == "out":
            groups.append(Group(name=name, n=L * size, model=READOUT, method="exact",
                                namespace={"tau_syn": (sp.tau_syn, "second")}, init=init))
        else:
            groups.append(Group(name=name, n=L * size, model=LIF, method="exponential_euler", namespace=lif_ns,
                                threshold="v > 1", reset="v = 0", refractory=neuron.tau_ref + sp.dt / 2, init=init))
        if k == 0:
            W, pre_name, n_pre, scale = weights.W_in[layer], "inp", st.n_in, 1.0 / sp.input_rate
        else:
            prev = st.layers[k - 1]
            W, pre_name, n_pre, scale = weights.W[layer, prev], names[k - 1], prev.stop - prev.start, neuron.amplitude
        post, pre = np.nonzero(W != 0)
        i = np.concatenate([pre + ln * n_pre for ln in range(L)])
        j = np.concatenate([post + ln * size for ln in range(L)])
        w = np.tile(W[post, pre] * scale / sp.tau_syn, L)
        synapses.append(Syn(name=f"s_{name}", source=pre_name, target=name, model="w : 1 (constant)",
                            on_pre="syn_a_post += w", i=i, j=j, init={"w": w}, namespace=syn_ns))
    monitors = [Monitor(name="mon_out", group="out", variables=("u",), dt=dt)]
    monitors += [Monitor(name=f"spk_{g.name}", group=g.name, spikes=True) for g in groups if g.threshold or g.rates]
    readouts = [Readout(name="u_out", monitor="mon_out", variable="u", lanes=L)]
    notes, subs = nla_notes(model)
    return Program(model=model.name, backend="brian2-spiking", dt=sp.dt, duration=K * dt, seed=spiking_seed(model),
                   groups=groups, synapses=synapses, inputs=inputs, monitors=monitors, readouts=readouts,
                   notes=notes, substitutions=subs)


class SpikingNLAEngine:
    """NLA inference on spiking neurons (the engine interface of the tasks; no learning)."""

    def __init__(self, model, weights=None, base_dir=None, codegen="numpy"):
        self.model = model
        self.st = nla.structure(model)
        self.weights = weights.copy() if weights is not None else nla.model_weights(model, self.st, base_dir)
        self.lanes = model.learning.lanes
        self.codegen = codegen
        self.state = None  # per hidden group: {"v", "syn_a", "syn_b"} at the end of the last run
        notes, subs = nla_notes(model)
        self.stats = {"steps": 0, "spikes": {}, "neurons": {}, "simulated_s": 0.0, "substitutions": subs,
                      "notes": notes}
        self.last_program = None

    def save_state(self):
        return None if self.state is None else {k: dict(v) for k, v in self.state.items()}

    def restore_state(self, saved) -> None:
        self.state = saved

    def scale_eta(self, factor: float) -> None:
        raise SpikingError("brian2-spiking runs rate-trained weights; train with the rate or brian2 backend")

    set_plastic = scale_eta

    def run_protocol(self, protocol, record=(), every: int = 1, marks=(), progress=None):
        from .program import run

        if protocol.learn:
            raise SpikingError("brian2-spiking runs rate-trained weights; train with the rate or brian2 backend")
        state = None if protocol.x0 is not None else self.state
        prog = nla_program(self.model, self.weights, self.st, protocol, state)
        self.last_program = prog
        t, traces, spikes, objs = run(prog, self.codegen)
        self.state = {g.name: {v: np.asarray(getattr(objs[g.name], v)[:])
                               for v in (("v", "syn_a", "syn_b") if g.threshold else ("syn_a", "syn_b"))}
                      for g in prog.groups if g.rates is None}
        for group, counts in spikes.items():
            self.stats["spikes"][group] = self.stats["spikes"].get(group, 0) + int(counts.sum())
            self.stats["neurons"][group] = int(len(counts))
        if "h1" in spikes:
            from . import raster_of

            self.stats.setdefault("raster", raster_of(objs, "h1"))
            self.stats["rates_hz"] = rate_histogram(spikes["h1"], prog.duration)
        self.stats["steps"] += protocol.steps
        self.stats["simulated_s"] += prog.duration
        if progress is not None:
            progress(protocol.steps)
        u = traces["u_out"]  # (K + 1, L, n_out): state after m model steps at row m
        return marked_outputs(u, protocol, record, every, marks)


ENSEMBLE = """
dv/dt = (J - v)/tau_rc : 1 (unless refractory)
dsyn_a/dt = -syn_a/tau_rec : Hz
dsyn_b/dt = (syn_a - syn_b)/tau_rec : Hz
dout_a/dt = -out_a/tau_syn : Hz
dout_b/dt = (out_a - out_b)/tau_syn : Hz
J = bias + gain*(xe + e2*s_hat) : 1
s_hat = ({s})/Rs : 1
xe : 1
e2 : 1 (constant)
gain : 1 (constant)
bias : 1 (constant)
Rs : 1 (constant)
k_syn : 1 (constant)
"""


HISTORY_DT = population.HISTORY_DT


def filter_history(ens, past, scale, tau) -> tuple[np.ndarray, np.ndarray]:
    """States (syn_a, syn_b) at t = 0 of the two stages of an alpha synapse (time constant tau) fed by
    the ensemble's rates along ``past`` ((steps, 3) values at t = -k h)."""
    rates = ens.rates(past / scale)  # (steps, n)
    ago = np.arange(len(past)) * HISTORY_DT
    first = np.exp(-ago / tau) / tau
    second = ago / tau**2 * np.exp(-ago / tau)
    weights = np.full(len(past), HISTORY_DT)
    weights[[0, -1]] /= 2  # trapezoid rule
    return (first * weights) @ rates, (second * weights) @ rates


def bm_program(model) -> Program:
    """Population-coded BM (:mod:`neuromorph.backends.population`): per synapse one LIF ensemble,
    a recurrent connection through the alpha synapse realizes Eqs 23-24, s(t) enters as input
    current. The momenta stay exactly 0 from p(0) = 0 and are not represented."""
    from ..brian2.bm import input_expression, half_grid

    sp = model.spiking
    tau = sp.tau_recurrent
    rec_dt = model.record.dt or model.time.dt
    # Brian2 ends refractoriness one step early and spikes on the step grid: on average an ISI
    # is tau_ref + rise - dt/2, so tuning curves and decoders use tau_ref - dt/2.
    try:
        mapping = population.build(model, half_grid(model), (tau, tau), max(sp.tau_ref - sp.dt / 2, 0.0))
    except population.MappingError as exc:
        raise SpikingError(str(exc)) from None
    system = mapping.system
    N, n = system.n, 3 * sp.neurons
    start = {"syn_a": [], "syn_b": [], "out_a": [], "out_b": []}
    past = population.past(system, 8 * max(tau, sp.tau_syn))
    for k, pop in enumerate(mapping.populations):
        # Filter states as if the synapse had followed the model's own trajectory before t = 0
        # (integrated backwards from x(0)), so the recurrence starts at x(0) with no transient.
        for first, second, tau_k in (("syn_a", "syn_b", tau), ("out_a", "out_b", sp.tau_syn)):
            a0, b0 = filter_history(pop.ens, past[:, :, k], pop.scale, tau_k)
            start[first].append(a0)
            start[second].append(b0)
    pops = mapping.populations
    enc = [p.ens.encoders for p in pops]
    gains = [p.ens.gains for p in pops]
    biases = [p.ens.biases for p in pops]
    dg = [p.recurrent for p in pops]
    did = [p.readout for p in pops]
    R_s = np.array([p.scale[2] for p in pops])
    rng = rng_for(spiking_seed(model), "spiking", "v0")
    enc, gains, biases = np.concatenate(enc), np.concatenate(gains), np.concatenate(biases)
    inputs: list = []
    s_code = input_expression(model, system, inputs)
    s_code = s_code.replace("(t, i)", "(t, k_syn)")
    neuron = np.arange(N * n)
    ens_init = {"e2": enc[:, 2], "gain": gains, "bias": biases, "Rs": np.repeat(R_s, n),
                "k_syn": np.repeat(np.arange(N), n).astype(float),
                "v": rng.uniform(0, 1, N * n)}
    ens_init.update({key: (np.concatenate(values), "Hz") for key, values in start.items()})
    ns = {"tau_rc": (sp.tau_rc, "second"), "tau_rec": (tau, "second"), "tau_syn": (sp.tau_syn, "second")}
    ns.update({t.name: t.name for t in inputs})
    groups = [
        Group(name="ens", n=N * n, model=ENSEMBLE.format(s=s_code), method="exponential_euler", namespace=ns,
              threshold="v > 1", reset="v = 0; syn_a += 1/tau_rec; out_a += 1/tau_syn", refractory=sp.tau_ref,
              init=ens_init),
        Group(name="dec", n=2 * N, model="val : 1"),
        Group(name="rd", n=2 * N, model="y : 1"),
    ]
    dims = np.tile([0, 1], N * n)
    pre = np.repeat(neuron, 2)
    post = np.repeat(np.arange(N), 2 * n) * 2 + dims
    dg_all, did_all = np.concatenate(dg), np.concatenate(did)
    synapses = [
        Syn(name="s_dec", source="ens", target="dec", model="d : second (constant)\nval_post = d*syn_b_pre : 1 (summed)",
            i=pre, j=post, init={"d": (dg_all[pre, dims], "second")}),
        Syn(name="s_enc", source="dec", target="ens", model="enc : 1 (constant)\nxe_post = enc*val_pre : 1 (summed)",
            i=post, j=pre, init={"enc": enc[pre, dims]}),
        Syn(name="s_read", source="ens", target="rd", model="d : second (constant)\ny_post = d*out_b_pre : 1 (summed)",
            i=pre, j=post, init={"d": (did_all[pre, dims], "second")}),
    ]
    sel = {var: np.zeros((N, 2 * N)) for var in bm.STATE}
    for k in range(N):
        sel["mu"][k, 2 * k] = sel["w"][k, 2 * k + 1] = 1.0
    readouts = [Readout(name=v, monitor="mon_rd", variable="y", matrix=sel[v],
                        squeeze=model.population is None) for v in model.record.variables]
    monitors = [Monitor(name="mon_rd", group="rd", variables=("y",), dt=rec_dt),
                Monitor(name="spk_ens", group="ens", spikes=True)]
    notes = population.notes(mapping, sp.tau_syn)
    notes.append("the synaptic filter states start as for a trajectory already under way at x(0) with slope f(x(0))")
    subs = ["p_mu, p_w: not represented; they stay exactly 0 from p(0) = 0 (Eqs 25-26 are homogeneous in p)",
            "s(t): injected as input current into the ensembles (not spike-encoded); its derivative's term in "
            "the alpha mapping is neglected",
            f"dt: {model.time.dt * 1e3:g} ms ({model.time.integrator}) -> {sp.dt * 1e3:g} ms spiking simulation"]
    return Program(model=model.name, backend="brian2-spiking", dt=sp.dt, duration=model.time.duration,
                   seed=spiking_seed(model), groups=groups, synapses=synapses, inputs=inputs, monitors=monitors,
                   readouts=readouts, notes=notes, substitutions=subs)
