r"""Layered NLA networks in Nengo/NengoLoihi, neuron by neuron (inference with trained weights).

Input unit j with rate x_j in [0, 1] fires a Poisson train at x_j * input_rate; hidden unit i is an
LIF neuron (tau_rc, tau_ref, threshold 1) with current

    J_i = b_i + sum_j W_ij s_j a_j(t),

a_j the alpha-filtered spike train of presynaptic neuron j (Hz) and s_j its rate scale (the
model's amplitude for LIF units, 1 / input_rate for inputs), so a neuron firing at r(J) stands
for rho(u) = amplitude r(u) of the rate model. Output voltages are read out linearly from the last
hidden layer's alpha-filtered spikes, u_out = b_out + W_out amplitude a(t), on the host.
``lanes`` independent copies of the network run side by side, like the rate reference's batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...families import nla
from ...tasks import marked_outputs
from ...seeds import spiking_seed
from ..spikes import RASTER_NEURONS, rate_histogram, raster_from_steps
from .common import DT, NengoError, SpikeCounter, Substitution, bernoulli_type, import_loihi, import_nengo


@dataclass
class Built:
    """A compiled Nengo network and what the compiler decided."""

    net: object
    backend: str
    substitutions: list
    notes: list
    probes: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)
    raster: object = None  # probe of the first neurons of lane 0's first hidden layer
    steps: int = 0
    neurons: dict = field(default_factory=dict)
    loihi_conns: list = field(default_factory=list)


def choices(model, backend: str) -> tuple[list, list]:
    """(notes, substitutions) of the neuron-level mapping on ``backend``."""
    n, sp, tau = model.neuron, model.spiking, model.spiking.tau_syn
    notes = [f"neuron-level mapping: each hidden unit is an LIF neuron (tau_rc = {n.tau_rc:g} s, tau_ref = "
             f"{n.tau_ref:g} s), inputs fire at x * {sp.input_rate:g} Hz, synapses are alpha filters "
             f"(tau = {tau * 1e3:g} ms), output voltages are read out linearly from filtered spikes on the host"]
    subs = []
    if n.rho == "soft_lif":
        subs.append(Substitution("rho.soft_lif", f"soft-LIF rate curve (sigma = {n.sigma:g})",
                                 "LIF neurons with a hard threshold", "spiking neurons have the LIF curve"))
    elif n.rho != "lif":
        subs.append(Substitution("rho.no_lif_curve", f"rho = {n.rho}", "LIF neurons",
                                 f"{n.rho} has no spiking counterpart; the network was not trained for LIF"))
    subs.append(Substitution("input.tau_in", f"tau_in = {n.tau_in * 1e3:g} ms low-pass of the input rates",
                             f"the input synapse's filter (tau = {tau * 1e3:g} ms)",
                             "the spike trains must be filtered anyway"))
    if model.dynamics.dt != DT:
        subs.append(Substitution("dt", f"dt = {model.dynamics.dt * 1e3:g} ms (rate model)", "dt = 1 ms",
                                 "Nengo/NengoLoihi step; inputs are held between the model's steps"))
    subs.append(Substitution("nla.inference_only", "NLA error dynamics and plasticity", "not run",
                             "the spiking network runs rate-trained weights (inference)"))
    if backend == "loihi":
        subs += loihi_substitutions(model)
    return notes, subs


def loihi_substitutions(model) -> list:
    sp = model.spiking
    tau = sp.tau_syn
    subs = [
        Substitution("synapse.alpha_on_chip", f"alpha synapse (tau = {tau * 1e3:g} ms) into on-chip neurons",
                     f"Lowpass({2 * tau * 1e3:g} ms)",
                     "Loihi filters with one first-order low-pass per compartment (Alpha raises NotImplementedError); "
                     "Lowpass(2 tau) keeps the alpha kernel's mean delay 2 tau and noise power 1/(4 tau)"),
        Substitution("input.poisson_off_chip", "Poisson input neurons", "Bernoulli input neurons off chip "
                     "(at most one spike per 1 ms step, p = min(rate dt, 1))",
                     "PoissonSpiking runs only off chip (on_chip=False), and an off-chip population delivers at "
                     "most one spike per step to the chip; Bernoulli keeps the mean rate up to 1 kHz"),
        Substitution("neuron.initial_voltage", "initial voltages uniform in [0, 1)", "0",
                     "Loihi starts every compartment at v = 0"),
        Substitution("weights.discretized", "float weights", "8-bit weights with a shared exponent per core",
                     "Loihi's synapse format; the realized weights are measured in 'quantization'"),
        Substitution("neuron.loihi_lif", "LIF rate curve", "Loihi LIF (refractory period and spike period "
                     "rounded to whole 1 ms steps; at most 1/((round(tau_ref/dt)+1) dt) Hz)",
                     "the chip's integer dynamics"),
    ]
    if sp.input_rate * DT > 1:
        subs.append(Substitution("input.rate_capped", f"input rate {sp.input_rate:g} Hz", f"{1 / DT:g} Hz",
                                 "at most one spike per step reaches the chip"))
    return subs


def synapse(backend: str, tau: float, on_chip: bool):
    nengo = import_nengo()
    return nengo.Lowpass(2 * tau) if backend == "loihi" and on_chip else nengo.Alpha(tau)


def network(model, weights, st, protocol, backend: str, lanes: int | None = None) -> Built:
    """The Nengo network that runs ``protocol`` (inputs for every model step and lane)."""
    nengo = import_nengo()
    if not st.layered:
        raise NengoError("the neuron-level mapping needs a layered network (network.layers)")
    if weights.W_IP is not None:
        raise NengoError("microcircuit models are not mapped to spikes; their forward weights could be")
    sp, neuron = model.spiking, model.neuron
    L = protocol.x.shape[1] if lanes is None else lanes
    K, model_dt = protocol.steps, model.dynamics.dt
    steps = int(round(K * model_dt / DT))
    x = protocol.x[:, :L].reshape(K, L * st.n_in)

    def stimulus(t):
        return x[min(int((t - DT / 2) / model_dt), K - 1)]

    notes, subs = choices(model, backend)
    loihi = backend == "loihi"
    in_type = bernoulli_type(nengo.RectifiedLinear()) if loihi else nengo.PoissonSpiking(nengo.RectifiedLinear())
    lif = nengo.LIF(tau_rc=neuron.tau_rc, tau_ref=neuron.tau_ref)
    built = Built(net=None, backend=backend, substitutions=subs, notes=notes, steps=steps)
    with nengo.Network(label=model.name, seed=spiking_seed(model)) as net:
        if loihi:
            import_loihi().add_params(net)
        stim = nengo.Node(stimulus, label="x(t)")
        for ln in range(L):
            build_lane(net, model, weights, st, stim, ln, in_type, lif, built)
    built.net = net
    return built


def build_lane(net, model, weights, st, stim, ln: int, in_type, lif, built: Built) -> None:
    """One copy of the network, fed from inputs ln * n_in ... (ln + 1) * n_in of ``stim``."""
    nengo = import_nengo()
    sp, neuron, loihi = model.spiking, model.neuron, built.backend == "loihi"
    zero_v = {"voltage": nengo.dists.Choice([0.0])} if loihi else None
    inp = nengo.Ensemble(st.n_in, 1, neuron_type=in_type, gain=np.full(st.n_in, sp.input_rate),
                         bias=np.zeros(st.n_in), label=f"input[{ln}]")
    if loihi:
        net.config[inp].on_chip = False
    nengo.Connection(stim[ln * st.n_in:(ln + 1) * st.n_in], inp.neurons, synapse=None)
    pre, scale = inp, 1.0 / sp.input_rate
    count(built, "input", inp, ln)
    hidden = st.layers[:-1]
    for k, layer in enumerate(hidden):
        size = layer.stop - layer.start
        lif_k = nengo.LIF(tau_rc=neuron.tau_rc, tau_ref=neuron.tau_ref, initial_state=zero_v) if loihi else lif
        ens = nengo.Ensemble(size, 1, neuron_type=lif_k, gain=np.ones(size), bias=weights.b[layer],
                             label=f"h{k + 1}[{ln}]")
        W = weights.W_in[layer] if k == 0 else weights.W[layer, hidden[k - 1]]
        conn = nengo.Connection(pre.neurons, ens.neurons, transform=W * scale, synapse=synapse(built.backend, sp.tau_syn, True))
        built.loihi_conns.append(conn)
        count(built, f"h{k + 1}", ens, ln)
        if ln == 0 and k == 0:
            built.raster = nengo.Probe(ens.neurons[:RASTER_NEURONS], synapse=None)
        pre, scale = ens, neuron.amplitude
    out_layer, last = st.layers[-1], hidden[-1]
    n_out = out_layer.stop - out_layer.start
    out = nengo.Node(lambda t, v: v, size_in=n_out, label=f"u_out[{ln}]")
    nengo.Connection(pre.neurons, out, transform=weights.W[out_layer, last] * scale, synapse=nengo.Alpha(sp.tau_syn))
    nengo.Connection(nengo.Node(weights.b[out_layer], label=f"b_out[{ln}]"), out, synapse=None)
    built.probes[f"u_out[{ln}]"] = nengo.Probe(out, synapse=None)


def count(built: Built, group: str, ens, ln: int) -> None:
    nengo = import_nengo()
    counter = SpikeCounter(ens.n_neurons)
    node = nengo.Node(counter, size_in=ens.n_neurons, size_out=0, label=f"count {group}[{ln}]")
    nengo.Connection(ens.neurons, node, synapse=None)
    built.counters.setdefault(group, []).append(counter)
    built.neurons[group] = built.neurons.get(group, 0) + ens.n_neurons


class NengoNLAEngine:
    """NLA inference on Nengo/NengoLoihi (the engine interface of the tasks; no learning)."""

    def __init__(self, model, backend: str, weights=None, base_dir=None, target=None):
        self.model, self.backend, self.target = model, backend, target
        self.st = nla.structure(model)
        self.weights = weights.copy() if weights is not None else nla.model_weights(model, self.st, base_dir)
        self.lanes = model.learning.lanes
        notes, subs = choices(model, backend)
        self.stats = {"steps": 0, "spikes": {}, "neurons": {}, "simulated_s": 0.0,
                      "substitutions": [s.as_dict() for s in subs], "notes": notes}
        self.last = None

    def save_state(self):
        return None

    def restore_state(self, saved) -> None:
        pass

    def scale_eta(self, factor: float) -> None:
        raise NengoError(f"{self.backend} runs rate-trained weights; train with the rate or brian2 backend")

    set_plastic = scale_eta

    def run_protocol(self, protocol, record=(), every: int = 1, marks=(), progress=None):
        from .common import quiet, simulator

        if protocol.learn:
            self.scale_eta(1.0)
        built = network(self.model, self.weights, self.st, protocol, self.backend)
        self.last = built
        with quiet(), simulator(built.net, self.backend, spiking_seed(self.model), self.target) as sim:
            sim.run_steps(built.steps)
            u = np.stack([sim.data[built.probes[f"u_out[{ln}]"]] for ln in range(self.lanes)], axis=1)
            self.stats.setdefault("raster", raster_from_steps(sim.data[built.raster], DT, "h1"))
            if self.backend == "loihi":
                from .loihi import resources

                self.stats["resources"] = resources(sim)
        if self.backend == "loihi" and "quantization" not in self.stats:
            from .loihi import quantization

            single = network(self.model, self.weights, self.st, protocol, self.backend, lanes=1)
            self.stats["quantization"] = quantization(single.net, spiking_seed(self.model))
        counts = np.concatenate([c.counts for c in built.counters["h1"]])
        self.stats["rates_hz"] = rate_histogram(counts, built.steps * DT)
        for group, counters in built.counters.items():
            self.stats["spikes"][group] = self.stats["spikes"].get(group, 0) + int(round(sum(c.counts.sum() for c in counters)))
        self.stats["neurons"] = dict(built.neurons)
        self.stats["steps"] += built.steps
        self.stats["simulated_s"] += built.steps * DT
        if progress is not None:
            progress(protocol.steps)
        ratio = int(round(self.model.dynamics.dt / DT))
        u = u[ratio - 1::ratio]  # state after each model step: row m - 1 is after m steps
        u = np.concatenate([u[:1], u], axis=0)  # row m: after m steps (row 0 stands in for the start)
        return marked_outputs(u, protocol, record, every, marks)
