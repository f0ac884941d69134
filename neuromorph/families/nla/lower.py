r"""NLA networks lowered to the spiking network graph, neuron by neuron (inference with trained
weights).

Input unit j with rate x_j in [0, 1] (the Input node ``x``) is encoded as a Poisson train at
x_j * ``spiking.input_rate``. Every network unit that feeds another becomes a spiking neuron whose
rate stands for rho(u) (:func:`spiking_unit`): an LIF neuron for the LIF curves (rho = amplitude
r(u)), an integrate-and-fire neuron for the threshold-linear ones (rho = r(u) / unit_rate), with
current

    J_i = b_i + sum_j W_ij s_j a_j(t),

a_j the alpha-filtered spike train of presynaptic unit j (Hz) and s_j its rate scale (the unit's
amplitude or 1 / unit_rate, 1 / input_rate for inputs). The output voltages u_out are read out on
the host (LI ``out``, tau = 0) from the same filtered spikes. With nudging (a protocol's beta on
the outputs), u = (W r_bar + b + beta u*) / (1 + beta) on the nudged units (the instantaneous
solution of Eq 7a), so the targets (Input ``target``) enter with weight beta / (1 + beta).

Layered networks map layer by layer (a microcircuit by its forward weights); recurrent networks
(``W_net`` with outputs among the units) map through one population with a recurrent edge.
Probe ``u_out``.

With learning (:func:`output_learning`), the output layer's weights follow Eq 8 in spikes: the
edge into ``out`` learns by PES from the node ``error``, which computes the output's dendritic
error e = beta (u* - u) on the host (:math:`\bar e = u - (W \bar r + b)` for the nudged read-out
u = (W r_bar + b + beta u*) / (1 + beta)), and the presynaptic trace is the spike train low-passed
with tau_syn. On targets with the :class:`~neuromorph.graph.Dendritic` rule (brian2-spiking) the
last hidden layer learns too (:func:`hidden_learning`): its error rho'(u) (F e) returns through
the output weights (rt-DeEP) or a fixed B (feedback alignment).

With ``spiking.nir_exact`` the same network is built from primitives NIR states exactly: the
units are current-based LIF neurons (:class:`~neuromorph.graph.CubaLIF`) whose first-order
synaptic current (tau_syn) takes the edges' spikes and the bias, the read-out is a leaky
integrator of tau_syn (the same low-pass of the same spikes), and neurons start at rest.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...graph import (IF, LI, LIF, PES, Alpha, Connection, CubaLIF, Dendritic, Graph, GraphError, Input, Integrator,
                      Lowpass, Node, PoissonEncoder, Probe, RegularEncoder, Substitution)
from ...seeds import rng_for, spiking_seed
from . import latency
from .network import structure

#: Transfer functions with a spiking counterpart, and what to train instead for the others.
COUNTERPARTS = ("lif", "soft_lif", "hard_sigmoid", "relu")
INSTEAD = "train with rho: soft_lif (LIF neurons) or hard_sigmoid (integrate-and-fire neurons)"


def layer_names(st) -> list:
    return [f"h{k + 1}" for k in range(len(st.layers) - 1)] + ["out"]


def spiking_unit(model, size: int, bias, v0):
    """(node, rate scale, substitutions): the spiking neuron that stands for rho.

    - ``lif``, ``soft_lif``: LIF (tau_rc, tau_ref), rho = amplitude r(J), J = u;
    - ``hard_sigmoid``: IF with reset by subtraction, tau = threshold time 1 / unit_rate and a
      refractory period of 1 / unit_rate: rate = unit_rate clip(u, 0, 1), exactly on average;
    - ``relu``: the same IF without the cap: rate = unit_rate max(u, 0);
    - ``logistic``: no spiking counterpart; an LIF neuron stands in (recorded).
    """
    n, sp = model.neuron, model.spiking
    node: Node
    if sp.nir_exact:
        node = CubaLIF(size, tau_syn=sp.tau_syn, tau_rc=n.tau_rc, syn_bias=bias)
        return node, n.amplitude, [Substitution("rho.soft_lif", f"soft-LIF rate curve (sigma = {n.sigma:g})",
                                                "current-based LIF neurons with a hard threshold",
                                                "spiking neurons have the LIF curve")] if n.rho == "soft_lif" else []
    if n.rho in ("hard_sigmoid", "relu"):
        period = 1.0 / (sp.unit_rate * sp.rate_scale)
        capped = n.rho == "hard_sigmoid"
        node = IF(size, tau=period, tau_ref=period if capped else 0.0, bias=bias, v0=v0, v_min=0.0,
                  v_max=2.0 if capped else None)
        rate = sp.unit_rate * sp.rate_scale
        curve = f"{rate:g} clip(u, 0, 1) Hz" if capped else f"{rate:g} max(u, 0) Hz"
        sub = Substitution(f"rho.{n.rho}", f"rho = {n.rho}", f"integrate-and-fire neurons firing at {curve}",
                           "a non-leaky integrate-and-fire neuron with reset by subtraction fires at a rate linear "
                           "in its input" + (f"; a {period * 1e3:g} ms refractory period caps it where the hard "
                                             "sigmoid saturates" if capped else ""),
                           {"unit_rate_hz": rate})
        return node, period, [sub]
    tau_rc, tau_ref = unit_taus(model)
    lif = LIF(size, tau_rc, tau_ref, bias=bias, v0=v0, v_min=0.0)
    if n.rho == "soft_lif":
        subs = [Substitution("rho.soft_lif", f"soft-LIF rate curve (sigma = {n.sigma:g})",
                             "LIF neurons with a hard threshold", "spiking neurons have the LIF curve")]
    elif n.rho == "lif":
        subs = []
    else:
        subs = [Substitution("rho.no_spiking_counterpart", f"rho = {n.rho}", "LIF neurons stand in",
                             f"{n.rho} has no spiking counterpart and the network was not trained for one; {INSTEAD}",
                             {"fix": INSTEAD})]
    return lif, n.amplitude / sp.rate_scale, subs


def unit_taus(model) -> tuple[float, float]:
    """(tau_rc, tau_ref) (s) of the spiking LIF units: the model's, divided by
    ``spiking.rate_scale``. An LIF neuron's rate scales as r(J; tau_rc / k, tau_ref / k) =
    k r(J; tau_rc, tau_ref), so with outgoing weights divided by k it computes the same rho."""
    n, k = model.neuron, model.spiking.rate_scale
    return n.tau_rc / k, n.tau_ref / k


def rate_scale_on_grid(model, traits) -> tuple:
    r"""(model, substitutions): the rate scale k realized on a target that rounds the refractory
    period to whole steps of dt and spikes on the step grid (``Traits.realized_tau_ref``: Loihi).

    There a spike waits for the step after threshold, half a step on average, so at constant
    current the mean spike period is :math:`\tau'_{ref} + t_{rise} + \Delta t / 2` with
    :math:`\tau'_{ref}` the rounded tau_ref / k, against the model's tau_ref / k + t_rise. When
    :math:`\Delta t / 2 < \tau_{ref} / k < \Delta t` the chip rounds it up to a whole step: the
    mean period is :math:`\Delta t (3/2) - \tau_{ref} / k` too long (0.83 ms at tau_ref = 2 ms,
    k = 3, dt = 1 ms) and no unit fires faster than :math:`1 / (2 \Delta t)`. At
    :math:`k' = 2 \tau_{ref} / \Delta t` the refractory period is half a step, which rounds to
    none, and the mean period is the model's. So k is raised to k' there, and left as it is
    everywhere else (k = 1, or tau_ref / k on or off the grid by less)."""
    sp, n = model.spiking, model.neuron
    if (traits is None or traits.realized_tau_ref is None or sp.nir_exact or sp.rate_scale == 1.0
            or n.rho not in ("lif", "soft_lif")):
        return model, []
    dt = traits.step(sp.dt)
    k, ref = sp.rate_scale, n.tau_ref / sp.rate_scale
    k_grid = 2.0 * n.tau_ref / dt
    if not (ref < dt and traits.realized_tau_ref(ref) > ref and traits.realized_tau_ref(n.tau_ref / k_grid) == 0.0):
        return model, []
    sub = Substitution("neuron.rate_scale_on_grid",
                       f"rate_scale {k:g}: tau_ref / k = {ref * 1e3:.3g} ms, which {traits.name} rounds up to "
                       f"{dt * 1e3:g} ms",
                       f"rate_scale {k_grid:g}: tau_ref / k = {dt * 1e3 / 2:g} ms, half a step, which rounds to none",
                       f"{traits.name}'s spikes wait for the next step, half a step on average: with the refractory "
                       f"period rounded up the mean spike period is {(1.5 * dt - ref) * 1e3:.3g} ms longer than the "
                       f"model's and no unit fires above {0.5 / dt:g} Hz; at half a step it is the model's",
                       {"rate_scale": k_grid, "asked": k})
    return dataclasses.replace(model, spiking=dataclasses.replace(sp, rate_scale=k_grid)), [sub]


def common_substitutions(model, micro: bool, inputs: bool, learns: bool = False) -> list:
    n, sp = model.neuron, model.spiking
    kind = "first-order" if sp.nir_exact else "alpha"
    subs = [Substitution("input.tau_in", f"tau_in = {n.tau_in * 1e3:g} ms low-pass of the input rates",
                         f"the input synapse's filter ({kind}, tau = {sp.tau_syn * 1e3:g} ms)",
                         "the spike trains must be filtered anyway")] if inputs else []
    if not learns:
        subs.append(Substitution("nla.inference_only", "NLA error dynamics and plasticity", "not run",
                                 "the spiking network runs rate-trained weights (inference)"))
    if micro:
        subs.append(Substitution("microcircuit.forward_only", "interneurons and apical dendrites (Eqs 9-13)",
                                 "not compiled: the forward weights run alone",
                                 "at inference the apical error B u - W_PI u_I is what remains of the top-down "
                                 "input; it vanishes as the circuit aligns, and the forward pass carries the answer"))
    return subs


def nudge_factors(st, nudging) -> np.ndarray:
    """(n,) 1 / (1 + beta) per unit (1 off the outputs, or without nudging)."""
    beta = np.zeros(st.n)
    if nudging is not None:
        beta[st.out] = nudging
    return 1.0 / (1.0 + beta)


def lower(model, weights, traits, copies: int = 1, nudging=None, learning: float | None = None) -> Graph:
    """The neuron-level spiking network of an NLA model (``copies`` lanes); ``nudging``: the
    protocol's beta per output (targets then arrive on the Input ``target``); ``learning``: the
    factor on the output projection's learning rate (its decay so far) when the output layer
    learns, None for inference."""
    model, auto = latency.realized(model, traits)
    model, on_grid = rate_scale_on_grid(model, traits)
    auto = auto + on_grid
    if model.spiking.calibrate is not None:
        from .calibrate import calibrate

        weights, calibrated = calibrate(model, weights, traits)
        auto = auto + [calibrated]
    st = structure(model)
    micro = weights.W_IP is not None
    sp = model.spiking
    nudged = nudging is not None and np.any(np.asarray(nudging) != 0)
    keep = nudge_factors(st, nudging if nudged else None)
    nodes: dict = {}
    edges: list = []
    meta: dict = {}
    if st.n_in:
        nodes.update(x=Input(st.n_in), input=encoder(model, st.n_in, copies))
        edges.append(Connection("x", "input", 1.0))
    build = layered if st.layered else recurrent
    subs = build(model, weights, st, copies, keep, nodes, edges)
    if nudged:
        nodes["target"] = Input(st.n_out)
        beta = 1.0 - keep[st.out]  # beta / (1 + beta)
        edges.append(Connection("target", "out", np.diag(beta)))
        if not st.layered:
            full = np.zeros((st.n, st.n_out))
            full[st.out] = np.diag(beta)
            edges.append(Connection("target", "net", full))
    learned = []
    if learning is not None and nudged:  # without nudging the output error is zero
        hidden = "Dendritic" in traits.learning_rules
        # lanes average their updates: each copy learns at 1 / copies of the rate (targets that
        # run several copies of a learning graph sum their changes)
        factor = learning * sp.learning_eta / copies
        learned = output_learning(model, st, keep, factor, nodes, edges, meta, hidden, decay=min(learning, 1.0))
        if hidden:
            learned += hidden_learning(model, weights, st, factor, edges, meta)
        if sp.learning_eta != 1.0:
            learned.append(Substitution("learning.eta_scaled", "the model's learning rates",
                                        f"{sp.learning_eta:g} x the model's learning rates (spiking.learning_eta)",
                                        "the spike trains' noise raises the update's loop gain over the rate model's; "
                                        "the full rate diverges in spikes", {"factor": sp.learning_eta}))
    unit = type(spiking_unit(model, 1, 0.0, None)[0]).__name__
    filters = ("first-order, inside the neurons" if sp.nir_exact else
               {"alpha": "alpha filters", "lowpass": "first-order filters", "none": "none"}[sp.synapse])
    read = ("as spike counts over the last part of each presentation" if sp.readout == "count" else
            "from filtered spikes")
    notes = [f"neuron-level mapping: each unit is a spiking {unit} neuron (rho = {model.neuron.rho}), "
             f"inputs fire {sp.encoding} trains at x * {sp.input_rate:g} Hz, synapses are {filters} (tau = "
             f"{sp.tau_syn * 1e3:g} ms), output voltages are read out linearly {read} on the host"]
    if on_grid:  # weights_from_graph divides by the realized rate scale
        meta["rate_scale"] = sp.rate_scale
    if sp.readout == "count":
        meta["count_readout"] = {"probe": "u_out", "window": sp.readout_window * model.task.presentation}
    if sp.between == "reset":
        meta["reset_between"] = True
    if sp.between == "gap":
        meta["gap_between"] = sp.gap
    if sp.prospective:
        meta["prospective"] = {"kick": "x"}  # Input "kick" carries d/dt of Input "x"
    return Graph(name=model.name, nodes=nodes, edges=tuple(edges), probes={"u_out": Probe("out", "value")},
                 dt=sp.dt, copies=copies,
                 substitutions=tuple(subs + common_substitutions(model, micro, bool(st.n_in), learning is not None)
                                     + auto + latency_substitutions(model) + learned),
                 notes=tuple(notes), meta=meta)


def etas(model, st) -> tuple:
    """The learning rate (1/s) of each projection (input -> first layer ... -> output)."""
    eta = model.learning.eta
    return tuple(eta) if isinstance(eta, tuple) else (eta,) * len(st.layers)


def output_learning(model, st, keep, eta_factor: float, nodes: dict, edges: list, meta: dict,
                    hidden: bool = False, decay: float = 1.0) -> list:
    r"""Make the edge into ``out`` learn (Eq 8 for the output layer) and add the node ``error``;
    returns the substitutions. ``decay``: the learning rate's decay over training so far.

    The edge holds W s keep (s the presynaptic rate scale, keep = 1 / (1 + beta)) and the trace a
    is the spike train low-passed with tau_syn, so r_bar = s a and dW/dt = eta e r_bar^T becomes
    :math:`d(W s\,keep)/dt = \eta\,s^2 keep\; e\,a^T`: the PES rate eta s^2 keep."""
    if not st.layered:
        raise GraphError("learning in spikes is built for layered networks (the output layer learns)")
    if not isinstance(nodes["out"], LI):
        raise GraphError("learning in spikes reads the outputs from filtered spikes; set spiking.readout: end")
    beta = 1.0 / keep[st.out] - 1.0
    if np.ptp(beta) > 0:
        raise GraphError("learning in spikes needs one nudging strength beta for every output")
    names = layer_names(st)
    pre = "input" if len(names) == 1 else names[-2]
    (k,) = [i for i, e in enumerate(edges) if e.source == pre and e.target == "out"]
    eta = etas(model, st)[-1] * eta_factor
    scale = scales(model, st)[-1]
    w_factor = scale * float(keep[st.out][0])
    task = model.task
    # digits: |u* - u| stays within twice the targets' span; other tasks' targets have no stated range
    error_max = (float(beta[0]) * 2.0 * max(abs(task.target_on), abs(task.target_off), 1.0)
                 if task.kind == "digits" else None)
    settle = settling_time(model, st) if task.kind == "digits" else None
    if settle is not None:  # the engine sets Input "gate" to 0 for `settle` s after each new image
        nodes["gate"] = Input(1)
        meta["learning_gate"] = {"input": "gate", "settle": settle, "source": "x"}
    rule = PES("error", rate=eta * scale * w_factor, pre_tau=model.spiking.tau_syn, error_max=error_max,
               gate=None if settle is None else "gate", decay=decay)
    edges[k] = Connection(edges[k].source, "out", edges[k].weights, edges[k].synapse, learning=rule)
    nodes["error"] = LI(st.n_out, tau=0.0)
    meta.setdefault("learned", {})[edges[k].name] = {"factor": w_factor, "layer": len(names) - 1}  # W w_factor
    b = float(beta[0])
    edges += [Connection("target", "error", b), Connection("out", "error", -b)]
    n_hidden = len(names) - 1
    subs = [] if hidden else [
        Substitution("learning.output_only", "plasticity in every layer (Eq 8)",
                     "the output layer learns (PES from the host's error); "
                     + (f"the {n_hidden} hidden layer(s) keep their weights" if n_hidden else "no hidden layer"),
                     "the output error beta (u* - u) is known on the host, where the target is; the hidden "
                     "layers' dendritic errors need a feedback pathway in spikes, which this target lacks",
                     {"eta_per_s": eta, "trace_tau_s": model.spiking.tau_syn})]
    if settle is not None:
        subs.append(Substitution("learning.settle", "plasticity at every instant (the rate model's outputs follow "
                                 "each image at once)", f"plasticity off for the first {settle * 1e3:g} ms of each "
                                 "image", "in spikes the read-out lags a new image by its synapses and membranes; "
                                 "learning then would pair the new target with the previous image's activity",
                                 {"settle_s": settle}))
    if model.learning.bias:
        which = "biases" if hidden else "output biases"
        subs.append(Substitution("learning.bias_fixed", f"{which} learning with eta (db/dt = eta e)",
                                 f"{which} fixed", "the rules change the weights from presynaptic spikes; a bias is "
                                 "a constant of the neurons and the read-out"))
    return subs


def hidden_learning(model, weights, st, eta_factor: float, edges: list, meta: dict) -> list:
    r"""Make the edge into the last hidden layer learn (Eq 8 with the dendritic error of Eq 24):

    .. math:: \frac{dW_h}{dt} = \eta\, \bar e_h \bar r^T,\qquad
              \bar e_h = \rho'(u_h) \odot F\, \bar e_{out},

    F = W_out^T (rt-DeEP: through the output edge's current weights, which learn too) or the fixed
    B (feedback alignment), :math:`\bar e_{out}` the node ``error``. The edge holds W s (s the
    presynaptic rate scale) and rho = s_h r(J) (s_h the hidden units' scale, r the LIF neuron's
    rate), so :math:`d(W s)/dt = \eta s^2 s_h\,(r'(J) \odot F e)\,a^T`: a Dendritic rule of rate
    eta s^2 s_h, its slope the soft-LIF curve's (the model's sigma). Returns the substitutions."""
    from .dynamics import feedback_matrix

    names = layer_names(st)
    k = len(names) - 2  # the projection into the last hidden layer
    pre = "input" if k == 0 else names[k - 1]
    (index,) = [i for i, e in enumerate(edges) if e.source == pre and e.target == names[k]]
    (out,) = [e for e in edges if e.target == "out" and e.learning is not None]
    s, s_h = scales(model, st)[k], scales(model, st)[k + 1]
    eta = etas(model, st)[k] * eta_factor
    gain = 1.0 / meta["learned"][out.name]["factor"]
    transpose = weights.B is None
    feedback = out.name if transpose else feedback_matrix(weights)[st.layers[k], st.layers[-1]]
    sigma = model.neuron.sigma if model.neuron.rho == "soft_lif" else 0.0
    edge = edges[index]
    rule = Dendritic("error", rate=eta * s * s * s_h, pre_tau=model.spiking.tau_syn, feedback=feedback,
                     feedback_gain=gain if transpose else 1.0, sigma=sigma, gate=out.learning.gate)
    edges[index] = Connection(edge.source, edge.target, edge.weights, edge.synapse, learning=rule)
    meta["learned"][edge.name] = {"factor": s, "layer": k}
    fixed = f"; the {k} layer(s) below keep their weights" if k else ""
    mode = "through the output weights (W^T, which learn)" if transpose else "through the fixed random B"
    return [Substitution("learning.dendritic_error", "hidden errors in the somatic voltage (u_h = W r + e_h, "
                         "Eq 7a) and in plasticity", f"each hidden neuron computes e_h = rho'(J) (F e_out) {mode} "
                         "in a dendritic variable that drives plasticity only; the soma's current stays W r + b"
                         + fixed, "the rule needs e_h itself; at small beta the error moves the hidden rates by "
                         "a small fraction, and the rate reference's u_h differs from J by e_h",
                         {"eta_per_s": eta, "trace_tau_s": model.spiking.tau_syn, "sigma": sigma})]


def v0_for(model, name: str, copies: int, size: int) -> np.ndarray | None:
    """Initial voltages, uniform in [0, 1) (none for NIR's neurons, which start at rest, and with
    ``initial: rest``)."""
    if model.spiking.nir_exact or model.spiking.initial == "rest":
        return None
    return rng_for(spiking_seed(model), "spiking", "v0", name).uniform(0, 1, (copies, size))


def encoder(model, size: int, copies: int) -> Node:
    """The input encoder: Poisson trains, or regular ones (phases uniform in [0, 1) per lane, or 0
    with ``initial: rest``)."""
    sp = model.spiking
    if sp.encoding == "regular":
        phase = 0.0 if sp.initial == "rest" else \
            rng_for(spiking_seed(model), "spiking", "phase").uniform(0, 1, (copies, size))
        return RegularEncoder(size, sp.input_rate, phase=phase)
    return PoissonEncoder(size, sp.input_rate)


def synapse(model):
    """The synapse of every edge (None: the neurons filter their input themselves, or no filter)."""
    sp = model.spiking
    if sp.nir_exact or sp.synapse == "none":
        return None
    return Lowpass(sp.tau_syn) if sp.synapse == "lowpass" else Alpha(sp.tau_syn)


def readout(model, size: int, bias) -> Node:
    """The output read-out: at once (tau = 0) from filtered spikes; a leaky integrator of tau_syn
    of the spikes themselves (the same filter, for NIR); or, for spike counts, an integrator whose
    rise over a window, divided by it, is bias + W (counts / window) scale."""
    sp = model.spiking
    if sp.readout == "count":
        return Integrator(size, bias=bias)
    return LI(size, tau=sp.tau_syn if sp.nir_exact else 0.0, bias=bias)


def latency_substitutions(model) -> list:
    """The latency choices that differ from the design card's defaults, each with its reason."""
    sp, out = model.spiking, []
    if sp.encoding == "regular":
        out.append(Substitution("input.regular", "Poisson input trains (the design card's encoding)",
                                "regular (deterministic integrate-and-fire) input trains",
                                "over a window T the count of a regular train is within 1 of r T, where a Poisson "
                                "count varies by sqrt(r T): at 20 ms and 1 kHz, 1 spike instead of 4.5"))
    if sp.synapse != "alpha" and not sp.nir_exact:
        tau = sp.tau_syn * 1e3
        kind = "no synaptic filter" if sp.synapse == "none" else f"first-order synapses (tau = {tau:g} ms)"
        why = ("each stage of alpha filtering delays the signal by 2 tau; a short presentation needs the input to "
               "arrive within it" + ("; without a filter each spike moves the membrane at once"
                                     if sp.synapse == "none" else ""))
        out.append(Substitution("synapse.latency", f"alpha synapses (mean delay 2 tau_syn = {2 * tau:g} ms per stage)",
                                kind, why))
    if sp.readout == "count":
        window = sp.readout_window * model.task.presentation
        out.append(Substitution("readout.count", "output voltages at the end of each presentation",
                                f"the read-out's mean over the last {window * 1e3:g} ms of each presentation: bias + "
                                "W (spike counts / window) scale", "a count over the window averages the spikes' "
                                "noise instead of sampling a filtered value at one instant",
                                {"window_s": window}))
    if sp.between == "reset":
        out.append(Substitution("between.reset", "one continuous stream of images (the rate model's protocol)",
                                "every image from the network's initial state",
                                "the previous image no longer lingers in membranes and filters; run as one lane "
                                "per image, so every target can do it"))
    if sp.between == "gap":
        out.append(Substitution("between.gap", "one continuous stream of images (the rate model's protocol)",
                                f"a blank of {sp.gap * 1e3:g} ms (inputs at 0) before each image",
                                "the previous image's activity dies down before the next one arrives; the time per "
                                "inference grows by the gap", {"gap_s": sp.gap}))
    if sp.prospective:
        tau_rc = unit_taus(model)[0]
        tau = f"tau_rc = {tau_rc * 1e3:g} ms" + (f" and tau_syn = {sp.tau_syn * 1e3:g} ms"
                                                             if sp.synapse == "lowpass" else "")
        out.append(Substitution("input.prospective", f"first-layer membranes lagging each new image by {tau}",
                                "a host current tau dJ/dt at every change of the input (J = W x): the membranes "
                                "(and synapses) jump by Delta J",
                                "NLA's prospective principle in spikes: the look-ahead tau du/dt, integrated over the "
                                "jump, is computed on the host where the image is known",
                                {"tau_rc_s": tau_rc}))
    if sp.rate_scale != 1.0:
        k = sp.rate_scale
        out.append(Substitution("neuron.rate_scale", "spiking units at the model's rate curve",
                                f"units firing {k:g} times as fast (LIF: tau_rc and tau_ref / {k:g}; IF: unit_rate x "
                                f"{k:g}), their outgoing weights / {k:g}: the same rate function",
                                f"a window holds {k:g} times the spikes, so the spike count's quantization error per "
                                "unit, amplitude / window, is that much smaller", {"rate_scale": k}))
    if sp.initial == "rest":
        out.append(Substitution("initial.rest", "membranes spread uniformly in [0, 1) of threshold", "v = 0",
                                "every neuron starts at rest (the state a reset restores on chip)"))
    return out


def layered(model, weights, st, copies, keep, nodes, edges) -> list:
    """Layer by layer: hidden layers spike, the output layer is read out."""
    names = layer_names(st)
    syn = synapse(model)
    pre, scale, subs = "input", 1.0 / model.spiking.input_rate, []
    for k, (name, layer) in enumerate(zip(names, st.layers)):
        size = layer.stop - layer.start
        W = weights.W_in[layer] if k == 0 else weights.W[layer, st.layers[k - 1]]
        if name == "out":
            rows = keep[layer][:, None]
            nodes[name] = readout(model, size, weights.b[layer] * keep[layer])
            edges.append(Connection(pre, name, W * scale * rows, syn))
        else:
            node, unit_scale, subs = spiking_unit(model, size, weights.b[layer], v0_for(model, name, copies, size))
            nodes[name] = node
            edges.append(Connection(pre, name, W * scale, syn))
            if k == 0 and model.spiking.prospective:
                nodes["kick"] = Input(st.n_in)
                edges.extend(kick_edges(model, W, name))
            scale = unit_scale
        pre = name
    return subs


def kick_edges(model, W_in, target: str) -> list:
    r"""The prospective kick into the first hidden layer: the host's input ``kick`` is dx/dt (1/s)
    of the input rates, so the current :math:`W_{in}\,\tau\,\dot x = \tau \dot J` enters the
    membranes directly with tau = tau_rc (a step of J by Delta J moves v by Delta J at once), and,
    with first-order synapses, also through the synapse with tau = tau_syn (the filtered current
    then jumps to the new J at once)."""
    sp = model.spiking
    edges = [Connection("kick", target, W_in * unit_taus(model)[0], None)]
    if sp.synapse == "lowpass":
        edges.append(Connection("kick", target, W_in * sp.tau_syn, Lowpass(sp.tau_syn)))
    return edges


def recurrent(model, weights, st, copies, keep, nodes, edges) -> list:
    """One population of all units with a recurrent edge (W_net); outputs read out too."""
    syn = synapse(model)
    node, scale, subs = spiking_unit(model, st.n, weights.b * keep, v0_for(model, "net", copies, st.n))
    nodes["net"] = node
    out = st.out
    nodes["out"] = readout(model, st.n_out, weights.b[out] * keep[out])
    edges.append(Connection("net", "net", weights.W * scale * keep[:, None], syn))
    edges.append(Connection("net", "out", weights.W[out] * scale * keep[out, None], syn))
    if st.n_in:
        to_input = weights.W_in / model.spiking.input_rate
        edges += [Connection("input", "net", to_input * keep[:, None], syn),
                  Connection("input", "out", to_input[out] * keep[out, None], syn)]
    return subs


def scales(model, st) -> list:
    """Rate scale of each projection's presynaptic units: 1 / input_rate, then the units'."""
    unit = _unit_scale(model)
    return [1.0 / model.spiking.input_rate] + [unit] * (len(st.layers) - 1)


def _unit_scale(model) -> float:
    sp = model.spiking
    if model.neuron.rho in ("hard_sigmoid", "relu"):
        return 1.0 / (sp.unit_rate * sp.rate_scale)
    return model.neuron.amplitude / sp.rate_scale


def weights_from_graph(model, graph: Graph, weights, edges=None):
    """``weights`` with the forward weights the graph's edges hold (divided by the rate scales the
    lowering multiplied them with); ``edges``: indices of the edges to read (default: all).
    Layered networks without nudging (inference graphs)."""
    model = latency.realized(model)[0]
    if "rate_scale" in graph.meta:  # the target realized another one (rate_scale_on_grid)
        sp = dataclasses.replace(model.spiking, rate_scale=graph.meta["rate_scale"])
        model = dataclasses.replace(model, spiking=sp)
    st = structure(model)
    out = weights.copy()
    names = layer_names(st)
    for k, (name, layer, scale) in enumerate(zip(names, st.layers, scales(model, st))):
        source = "input" if k == 0 else names[k - 1]
        (index,) = [i for i, e in enumerate(graph.edges) if e.target == name and e.source == source]
        if edges is not None and index not in edges:
            continue
        # inputs and IF units split on a chip (legalize: encoders_off_chip, if_split_on_chip) repeat
        # W per copy, IF copies with gains: the first copy's rows and columns, without the gains
        pre = st.n_in if k == 0 else st.layers[k - 1].stop - st.layers[k - 1].start
        W = (np.asarray(graph.edges[index].weights) / scale)[:layer.stop - layer.start, :pre]
        split = graph.meta.get("split_units", {})
        W = W / split.get(name, {}).get("in_gain", 1.0) / split.get(source, {}).get("out_gain", 1.0)
        if k == 0:
            out.W_in[layer] = W
        else:
            out.W[layer, st.layers[k - 1]] = W
    return out


def settling_time(model, st) -> float:
    """Seconds a layered network's read-out takes to follow a new input: each synaptic stage's
    mean delay (alpha: 2 tau_syn, first-order: tau_syn) and each hidden layer's membrane time
    constant, at most half a presentation (learning keeps the other half)."""
    sp = model.spiking
    stage = {"alpha": 2 * sp.tau_syn, "lowpass": sp.tau_syn, "none": 0.0}[sp.synapse]
    hidden = len(st.layers) - 1
    delay = (hidden + 1) * stage + hidden * unit_taus(model)[0]
    return float(min(delay, model.task.presentation / 2))


def check_spiking_learning(model, backend: str, shared: bool = False, rules: frozenset = frozenset({"PES"})) -> None:
    """Raise :class:`~neuromorph.families.base.UnsupportedModel` for models whose learning the spiking
    backends do not run: they learn a layered network with a hidden layer from one stream of
    images, on one lane unless the target's copies share their weights (``shared``)."""
    from ..base import UnsupportedModel

    st = structure(model)
    problems = []
    if not st.layered or len(st.layers) < 2:
        problems.append("a layered network with a hidden layer (the output layer learns from its spikes)")
    if model.microcircuit is not None:
        problems.append("no microcircuit (its lateral weights do not learn in spikes)")
    if model.learning.lanes != 1 and not shared:
        problems.append(f"learning.lanes: 1 (weights are shared; this model has {model.learning.lanes})")
    if model.task.kind == "signals":
        problems.append("a digits or teacher task")
    units = ("lif", "soft_lif", "hard_sigmoid", "relu") if "Dendritic" in rules else ("lif", "soft_lif")
    if model.neuron.rho not in units or model.spiking.nir_exact:
        what = ("LIF or IF units (rho: soft_lif, lif, hard_sigmoid or relu" if "Dendritic" in rules else
                "LIF units (rho: soft_lif or lif")
        problems.append(f"{what}, without spiking.nir_exact): the output learns from the hidden population's spikes")
    sp = latency.realized(model)[0].spiking
    if sp.readout == "count" or sp.between == "reset":
        problems.append("spiking.readout: end and no reset between images (the output learns from filtered "
                        "spikes in one stream)")
    if problems:
        raise UnsupportedModel(f"{model.name} cannot learn on {backend}: it needs " + "; ".join(problems))


def output_zeroed(model, weights):
    """``weights`` with the output projection at zero (where output learning in spikes starts)."""
    st = structure(model)
    out = weights.copy()
    if len(st.layers) >= 2:
        out.W[st.layers[-1], st.layers[-2]] = 0.0
    return out


def learned_weights(model, graph: Graph, weights, learned: dict):
    """``weights`` with the projections a run ended with: each learning edge's weights over the
    factor the lowering multiplied them by (``meta['learned']``: factor and layer index)."""
    st = structure(model)
    out = weights.copy()
    for name, W in learned.items():
        info = graph.meta["learned"][name]
        k, layer = info["layer"], st.layers[info["layer"]]
        if k == 0:
            out.W_in[layer] = np.asarray(W)[0] / info["factor"]
        else:
            out.W[layer, st.layers[k - 1]] = np.asarray(W)[0] / info["factor"]
    return out
