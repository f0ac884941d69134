r"""Network graphs as Brian2 programs: one builder per primitive (:data:`NODE_BUILDERS`), one
per edge kind, all writing into a :class:`~neuromorph.equations.Program`.

Every node is one ``NeuronGroup`` holding all copies (copy c of node n is neurons c n ... (c + 1) n
- 1); every edge is one ``Synapses`` object with the copies' blocks as explicit index arrays.
Synapse filters live in the target group, one set of variables per incoming edge e:

- spikes through no filter into neurons: the pulse 1/dt held over the spike's step,
  ``v += w (1 - e^(-dt/tau)) / dt`` (not while refractory), delivered before the target's
  threshold in the same step (groups update in the graph's topological order: see
  :meth:`~neuromorph.graph.Graph.topological_order`);
- CubaLIF: a per-step update after its inputs arrive, ``I = a_s I + (1 - a_s) x``, then
  ``v = a_m v + (1 - a_m)(bias + I)``;
- Lowpass(tau): ``dI_e/dt = -I_e/tau``, a spike adds ``w / tau``; a value source drives
  ``dI_e/dt = (X_e - I_e)/tau`` with ``X_e`` the weighted sum of its values;
- Alpha(tau): two such stages, ``a_e`` then ``I_e``; DoubleExp(tau, tau2) the same with the second
  stage's time constant ``tau2_e``.

A decoded edge gets its own group of d filter units per copy (spikes add decoder rows), summed into
the target as gain_i e_i . T y. A learning edge (:class:`~neuromorph.graph.PES`) has every
pre-post pair as a synapse whose weight follows dW/dt = rate g e a: a is a trace in the source
group (``dtr/dt = -tr/tau``, a spike adds tau (e^(dt/tau) - 1)/dt, so its samples after the spike
integrate to 1 as Nengo's low-pass does; a = tr / tau), e and g the error and gate nodes' values
summed into the target group. A :class:`~neuromorph.graph.Dendritic` edge into LIF or IF neurons
has the same synapses with dw/dt = rate g r'(J) fb a: fb the fed-back error, summed through a
fixed matrix or back through the plastic synapses of the edge it names (``fb_pre = w e_post``),
r'(J) the neurons' rate-curve slope, updated every step. With several copies the plastic weights
are shared: after every step each pair's weight takes the sum of every copy's change
(:func:`~neuromorph.backends.brian2.program.shared_weights`). Filter states start from an
edge's history (the filter's input before t = 0, integrated with the trapezoid rule). Times in
seconds; all variables dimensionless.
"""

from __future__ import annotations

import re
from typing import Callable, cast

import numpy as np

from ...equations import Group, Monitor, Program, Readout, Syn, TimedInput
from ...graph import (IF, LI, LIF, PES, AnalogEncoder, BernoulliEncoder, Connection, CubaLIF, Decoded, Dendritic,
                      GraphError, Host, Input, Integrator, PoissonEncoder, RegularEncoder, Signal)
from ...graph.edges import DoubleExp, Lowpass, stages
from ...spikes import RASTER_NEURONS, RASTER_SECONDS

#: Host functions as Brian2 expressions of the summed input X.
HOST_CODE = {"identity": "X", "relu": "clip(X, 0, inf)", "clip": "clip(X, {low}, {high})"}


def group_name(name: str, taken: set) -> str:
    """A Brian2 identifier for a graph node (``bm[0]`` -> ``n_bm_0``), unique within ``taken``."""
    base = "n_" + re.sub(r"\W+", "_", name).strip("_")
    out, k = base, 1
    while out in taken:
        out, k = f"{base}_{k}", k + 1
    taken.add(out)
    return out


def tile(values, copies: int, size: int) -> np.ndarray:
    """A per-neuron array for all copies: a number, (size,) or (copies, size) -> (copies x size,)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        return np.full(copies * size, float(arr))
    if arr.ndim == 1:
        return np.tile(arr, copies)
    return arr.reshape(-1)


def block_pairs(W: np.ndarray, copies: int, n_pre: int, n_post: int):
    """(i_pre, j_post, weight) over every copy's block for the non-zero entries of W (post, pre)."""
    post, pre = np.nonzero(W)
    i = np.concatenate([pre + c * n_pre for c in range(copies)])
    j = np.concatenate([post + c * n_post for c in range(copies)])
    return i, j, np.tile(W[post, pre], copies)


def primed(history, history_dt: float, taus) -> dict:
    """Filter states at t = 0 from the filter's input before t = 0 ((steps, n), oldest first), for
    first-order stages of time constants ``taus`` (s): a = int e^(-s/t1)/t1 u(-s) ds (the first
    stage; I when it is the only one) and I = int h(s) u(-s) ds with the two-stage kernel
    h(s) = (e^(-s/t1) - e^(-s/t2)) / (t1 - t2), (s/t^2) e^(-s/t) when t1 = t2."""
    ago = (len(history) - 1 - np.arange(len(history))) * history_dt
    weights = np.full(len(history), history_dt)
    weights[[0, -1]] /= 2  # trapezoid rule
    t1 = taus[0]
    first = (np.exp(-ago / t1) / t1 * weights) @ history
    if len(taus) == 1:
        return {"I": first}
    t2 = taus[1]
    if np.isclose(t1, t2, rtol=1e-9, atol=0.0):
        kernel = ago / t1**2 * np.exp(-ago / t1)
    else:
        kernel = (np.exp(-ago / t1) - np.exp(-ago / t2)) / (t1 - t2)
    return {"a": first, "I": (kernel * weights) @ history}


class Builder:
    """Collects the program's groups, synapses, inputs and monitors while nodes and edges are built."""

    def __init__(self, graph, inputs: dict, input_dt: float, sample_dt: float, duration: float):
        self.graph, self.inputs, self.input_dt = graph, inputs, input_dt
        self.sample_dt, self.duration = sample_dt, duration
        self.copies, self.dt = graph.copies, graph.dt
        taken: set = set()
        self.names = {name: group_name(name, taken) for name in graph.nodes}
        self.groups: dict = {}
        self.lines: dict = {name: [] for name in graph.nodes}  # extra equation lines per node
        self.terms: dict = {name: [] for name in graph.nodes}  # summands of the node's input J or X
        self.init: dict = {name: {} for name in graph.nodes}
        self.timed: list = []
        self.synapses: list = []
        self.counted: set = set()  # spike sources whose events carry a count c
        self.inline: set = set()  # edges read directly from a table by their encoder
        self.resets: dict = {name: [] for name in graph.nodes}  # extra reset statements per node
        self.regular: dict = {name: [] for name in graph.nodes}  # extra run_regularly operations per node
        self.learned: dict = {}  # learning edge name -> (Synapses name, synapse tau, n_pre, n_post)
        # step order: each node after its inputs (zero-delay spike edges at 3 p - 2, per-step updates
        # at 3 p - 1, thresholds at 3 p, spike monitors at 3 p + 1)
        self.position = {name: p for p, name in enumerate(graph.topological_order())}

    def n(self, name: str) -> int:
        return self.copies * self.graph.nodes[name].size

    # -- input tables ---------------------------------------------------------------------------------
    def table(self, name: str, values: np.ndarray, dt: float) -> str:
        key = "ta_" + self.names[name][2:]
        values = np.asarray(values, dtype=float)
        size = self.graph.nodes[name].size
        if values.ndim == 2:  # (steps, size): the same for every copy
            values = np.tile(values, (1, self.copies))
        self.timed.append(TimedInput(key, values.reshape(values.shape[0], self.copies * size), dt))
        return key

    def input_values(self, name: str) -> np.ndarray:
        if name not in self.inputs:
            given = ", ".join(self.inputs) or "none"
            raise GraphError(f"input node {name!r}: no values given for it (inputs: {given})")
        values = np.asarray(self.inputs[name], dtype=float)
        size = self.graph.nodes[name].size
        if values.shape[-1] != size or values.ndim not in (2,
                                                           3) or (values.ndim == 3 and values.shape[1] != self.copies):
            raise GraphError(f"input node {name!r}: values have shape {values.shape}; expected (steps, {self.copies}, "
                             f"{size}) or (steps, {size})")
        return values


def summed_input(b: Builder, name: str) -> str:
    """The expression of a node's summed input (0 without incoming edges)."""
    return " + ".join(b.terms[name]) or "0"


# -- node builders --------------------------------------------------------------------------------


def build_input(b: Builder, name: str, node: Input) -> Group:
    values = b.input_values(name)
    if node.kind == "value":
        key = b.table(name, values, b.input_dt)
        return Group(b.names[name], b.n(name), model=f"val = {key}(t, i) : 1", namespace={key: key})
    # spike counts: placed on the first simulation step of each input step
    ratio = max(1, int(round(b.input_dt / b.dt)))
    grid = np.zeros((values.shape[0] * ratio,) + values.shape[1:])
    grid[::ratio] = values
    key = b.table(name, grid, b.dt)
    b.counted.add(name)
    return Group(b.names[name], b.n(name), model=f"c = {key}(t, i) : 1", namespace={key: key}, threshold="c > 0",
                 reset="")


def build_signal(b: Builder, name: str, node: Signal) -> Group:
    key = b.table(name, node.values, node.dt)
    return Group(b.names[name], b.n(name), model=f"val = {key}(t, i) : 1", namespace={key: key})


def encoder_drive(b: Builder, name: str) -> tuple[str, dict]:
    """The encoder's input x: a table read directly when it is one identity edge from an input."""
    edges = b.graph.incoming(name)
    if len(edges) == 1 and edges[0].weights.ndim == 0 and edges[0].synapse is None \
            and isinstance(b.graph.nodes[edges[0].source], (Input, Signal)) \
            and getattr(b.graph.nodes[edges[0].source], "kind", "value") == "value":
        src = edges[0].source
        values = b.input_values(src) if isinstance(b.graph.nodes[src], Input) else b.graph.nodes[src].values
        dt = b.input_dt if isinstance(b.graph.nodes[src], Input) else b.graph.nodes[src].dt
        key = b.table(name, float(edges[0].weights) * values, dt)
        b.inline.add(edges[0])
        return f"{key}(t, i)", {key: key}
    return "X", {}


def build_rate_encoder(b: Builder, name: str, node) -> Group:
    drive, ns = encoder_drive(b, name)
    model = [f"rate = max_rate*clip({drive}, 0, inf) : Hz", "max_rate : Hz (constant, shared)"]
    if drive == "X":
        model.append("X : 1")
    return Group(b.names[name], b.n(name), model="\n".join(model), namespace=ns, threshold="rand() < rate*dt",
                 init={"max_rate": (node.max_rate, "Hz")})


def build_regular(b: Builder, name: str, node: RegularEncoder) -> Group:
    drive, ns = encoder_drive(b, name)
    model = ["dphi/dt = max_rate*clip(" + drive + ", 0, inf) : 1", "max_rate : Hz (constant, shared)"]
    if drive == "X":
        model.append("X : 1")
    return Group(b.names[name], b.n(name), model="\n".join(model), namespace=ns, method="euler",
                 threshold="phi >= 1", reset="phi -= 1",
                 init={"max_rate": (node.max_rate, "Hz"), "phi": tile(node.phase, b.copies, node.size)})


def build_analog(b: Builder, name: str, node: AnalogEncoder) -> Group:
    return Group(b.names[name], b.n(name), model=f"val = {node.gain!r}*X : 1\nX : 1")


def neuron_reset(node) -> str:
    return "v = v_reset" if node.reset_mode == "zero" else "v -= v_th"


def build_lif(b: Builder, name: str, node: LIF) -> Group:
    model = ["dv/dt = (J - v)/tau_rc : 1 (unless refractory)", "J = bias + I_syn : 1", "bias : 1 (constant)",
             "tau_rc : second (constant, shared)", "v_th : 1 (constant, shared)", "v_reset : 1 (constant, shared)"]
    init = {"bias": tile(node.bias, b.copies, node.size), "tau_rc": (node.tau_rc, "second"),
            "v_th": node.threshold, "v_reset": node.reset}
    if node.v0 is not None:
        init["v"] = tile(node.v0, b.copies, node.size)
    regular = []
    if node.v_min is not None:
        regular.append((f"{b.names[name]}_floor", f"v = clip(v, {node.v_min!r}, inf)", 1))
    return Group(b.names[name], b.n(name), model="\n".join(model), method="exponential_euler", init=init,
                 threshold="v > v_th", reset=neuron_reset(node), refractory=node.tau_ref, regular=regular)


def build_if(b: Builder, name: str, node: IF) -> Group:
    # integrates through refractoriness (Brian2 adds not_refractory to the threshold)
    model = ["dv/dt = J/tau : 1", "J = bias + I_syn : 1", "bias : 1 (constant)",
             "tau : second (constant, shared)", "v_th : 1 (constant, shared)", "v_reset : 1 (constant, shared)"]
    init = {"bias": tile(node.bias, b.copies, node.size), "tau": (node.tau, "second"), "v_th": node.threshold,
            "v_reset": node.reset}
    if node.v0 is not None:
        init["v"] = tile(node.v0, b.copies, node.size)
    regular = []
    if node.v_min is not None or node.v_max is not None:
        low = "-inf" if node.v_min is None else repr(node.v_min)
        high = "inf" if node.v_max is None else repr(node.v_max)
        regular.append((f"{b.names[name]}_clip", f"v = clip(v, {low}, {high})", 1))
    return Group(b.names[name], b.n(name), model="\n".join(model), method="euler", init=init,
                 threshold="v > v_th", reset=neuron_reset(node), refractory=node.tau_ref or None, regular=regular)


def build_cubalif(b: Builder, name: str, node: CubaLIF) -> Group:
    model = ["v : 1", "I : 1", "pulses : 1", "x_in = I_syn : 1", "bias : 1 (constant)", "syn_bias : 1 (constant)",
             "a_syn : 1 (constant, shared)", "a_rc : 1 (constant, shared)", "v_th : 1 (constant, shared)",
             "v_reset : 1 (constant, shared)"]
    init = {"bias": tile(node.bias, b.copies, node.size), "syn_bias": tile(node.syn_bias, b.copies, node.size),
            "a_syn": float(np.exp(-b.dt / node.tau_syn)), "a_rc": float(np.exp(-b.dt / node.tau_rc)),
            "v_th": node.threshold, "v_reset": node.reset}
    for var, value in (("v", node.v0), ("I", node.i0)):
        if value is not None:
            init[var] = tile(value, b.copies, node.size)
    update = ("I = a_syn*I + (1 - a_syn)*(x_in + pulses + syn_bias)\npulses = 0\n"
              "v = a_rc*v + (1 - a_rc)*(bias + I)")
    order = 3 * b.position[name] - 1
    return Group(b.names[name], b.n(name), model="\n".join(model), init=init, threshold="v > v_th",
                 reset=neuron_reset(node), regular=[(f"{b.names[name]}_step", update, order, "thresholds")])


def build_li(b: Builder, name: str, node: LI) -> Group:
    init: dict = {"bias": tile(node.bias, b.copies, node.size)}
    if node.tau > 0:
        model = ["dv/dt = (bias + I_syn - v)/tau : 1", "tau : second (constant, shared)"]
        init["tau"] = (node.tau, "second")
        if node.v0 is not None:
            init["v"] = tile(node.v0, b.copies, node.size)
        method = "exponential_euler"
    else:  # spikes through no filter arrive as this step's pulses (1/dt each), cleared after recording
        model, method = ["v = bias + I_syn + pulses : 1", "pulses : 1"], "euler"
        return Group(b.names[name], b.n(name), model="\n".join(model + ["bias : 1 (constant)"]), method=method,
                     init=init, regular=[(f"{b.names[name]}_clear", "pulses = 0", 1, "start")])
    return Group(b.names[name], b.n(name), model="\n".join(model + ["bias : 1 (constant)"]), method=method, init=init)


def build_integrator(b: Builder, name: str, node: Integrator) -> Group:
    """dv/dt = bias + gain I_syn (per second); a spike through no synapse adds gain w to v."""
    init: dict = {"bias": tile(node.bias, b.copies, node.size), "gain": node.gain}
    if node.v0 is not None:
        init["v"] = tile(node.v0, b.copies, node.size)
    model = ["dv/dt = (bias + gain*I_syn)/second : 1", "bias : 1 (constant)", "gain : 1 (constant, shared)"]
    return Group(b.names[name], b.n(name), model="\n".join(model), method="euler", init=init)


def build_host(b: Builder, name: str, node: Host) -> Group:
    code = HOST_CODE[node.function].format(low=node.params.get("low", "-inf"), high=node.params.get("high", "inf"))
    return Group(b.names[name], b.n(name), model=f"val = {code} : 1\nX = I_syn : 1")


NODE_BUILDERS: dict[type, Callable[..., Group]] = {
    Input: build_input, Signal: build_signal, PoissonEncoder: build_rate_encoder, BernoulliEncoder: build_rate_encoder,
    RegularEncoder: build_regular, AnalogEncoder: build_analog, LIF: build_lif, IF: build_if, CubaLIF: build_cubalif,
    LI: build_li, Integrator: build_integrator,
    Host: build_host,
}

#: The variable a value probe reads, and a value edge's source variable, per node type.
VALUE = {Input: "val", Signal: "val", AnalogEncoder: "val", Host: "val", LI: "v", Integrator: "v", LIF: "J", IF: "J",
         CubaLIF: "I", PoissonEncoder: "rate", BernoulliEncoder: "rate", RegularEncoder: "phi"}
#: Nodes whose input sum is called X (encoders, hosts) rather than I_syn (neurons, read-outs).
X_INPUT = (PoissonEncoder, BernoulliEncoder, RegularEncoder, AnalogEncoder)


# -- edge builders --------------------------------------------------------------------------------


def filter_lines(var: str, syn, driven: str | None) -> tuple[list, str, str | None]:
    """Equations of one edge's synapse filter in the target group: (lines, output variable, the
    variable a spike increments). ``driven``: the summed value input, or None for spikes."""
    if syn is None:
        return ([f"{var} = {driven} : 1"] if driven else []), (var if driven else ""), None
    tau = f"tau_{var}"
    if isinstance(syn, Lowpass):
        rhs = f"({driven} - {var})" if driven else f"-{var}"
        return [f"d{var}/dt = {rhs}/{tau} : 1", f"{tau} : second (constant, shared)"], var, var
    a = f"a_{var}"
    rhs = f"({driven} - {a})" if driven else f"-{a}"
    second = f"tau2_{var}" if isinstance(syn, DoubleExp) else tau
    lines = [f"d{a}/dt = {rhs}/{tau} : 1", f"d{var}/dt = ({a} - {var})/{second} : 1",
             f"{tau} : second (constant, shared)"]
    if second != tau:
        lines.append(f"{second} : second (constant, shared)")
    return lines, var, a


def filter_taus(var: str, syn) -> dict:
    """Initial values of a synapse filter's time constants (see :func:`filter_lines`)."""
    out = {f"tau_{var}": (syn.tau, "second")}
    if isinstance(syn, DoubleExp):
        out[f"tau2_{var}"] = (syn.tau2, "second")
    return out


def prime(b: Builder, target: str, var: str, edge, width_copies: int) -> None:
    if edge.synapse is not None:
        b.init[target].update(filter_taus(var, edge.synapse))
    if edge.history is None or edge.synapse is None:
        return
    states = primed(np.asarray(edge.history), edge.history_dt, stages(edge.synapse))
    b.init[target][var] = np.tile(states["I"], width_copies)
    if "a" in states:
        b.init[target][f"a_{var}"] = np.tile(states["a"], width_copies)


def spike_jump(node, dt: float) -> float:
    """What one unit of weight does to a voltage through no filter: a spike is the pulse 1/dt
    held over its step, so an exponential integrator adds (1 - e^(-dt/tau)) / dt (about 1/tau)
    and an integrate-and-fire neuron 1/tau."""
    if isinstance(node, IF):
        return 1.0 / node.tau
    if isinstance(node, Integrator):  # the pulse's integral
        return node.gain
    tau = node.tau_rc if isinstance(node, LIF) else node.tau if isinstance(node, LI) else 0.0
    if tau > 0:
        return float(-np.expm1(-dt / tau) / dt)
    raise GraphError(f"node {type(node).__name__}: spikes through no synapse need a neuron or an LI with tau > 0")


def neuron_matrix(b: Builder, edge) -> np.ndarray:
    """An edge's weights onto the target's neurons (into 'ensemble': gain_i e_i . W)."""
    pre, post = b.graph.nodes[edge.source], b.graph.nodes[edge.target]
    if edge.into == "ensemble":
        W = edge.matrix(post.dimensions, pre.size)
        return (post.gain[:, None] * post.encoders) @ W
    return edge.matrix(post.size, pre.size)


def all_pairs(b: Builder, n_pre: int, n_post: int) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) indices of every pair within each copy, post-major as W.ravel()."""
    post_i, pre_j = np.meshgrid(np.arange(n_post), np.arange(n_pre), indexing="ij")
    i = np.concatenate([pre_j.ravel() + c * n_pre for c in range(b.copies)])
    j = np.concatenate([post_i.ravel() + c * n_post for c in range(b.copies)])
    return i, j


def add_trace(b: Builder, k: int, source: str, tau: float) -> None:
    """The presynaptic trace tr{k} of a learning edge in the source group (a = tr / tau)."""
    b.lines[source] += [f"dtr{k}/dt = -tr{k}/tau_tr{k} : 1", f"tau_tr{k} : second (constant, shared)"]
    b.init[source][f"tau_tr{k}"] = (tau, "second")
    # a spike adds c so that the trace sampled each step after it sums to tau / dt: the update
    # reads tr at the start of every later step (tr = c e^(-m dt/tau), m >= 1)
    bump = tau * np.expm1(b.dt / tau) / b.dt
    b.resets[source].append(f"tr{k} += {bump!r}")


def sum_from(b: Builder, k: int, var: str, source: str, target: str, matrix: np.ndarray | None = None) -> None:
    """Sum a value node's values into ``var`` of ``target`` (one to one, one value to every neuron
    of a copy when the source has size 1, or through ``matrix`` (target x source))."""
    node, n_post = b.graph.nodes[source], b.graph.nodes[target].size
    value = VALUE[type(node)]
    if matrix is not None:
        i, j, w = block_pairs(matrix, b.copies, node.size, n_post)
        b.synapses.append(Syn(f"s{k}_{var}", b.names[source], b.names[target],
                              f"w : 1 (constant)\n{var}_post = w*{value}_pre : 1 (summed)", i, j, init={"w": w}))
        return
    j = np.arange(b.copies * n_post)
    i = j // n_post if node.size == 1 else j
    b.synapses.append(Syn(f"s{k}_{var}", b.names[source], b.names[target], f"{var}_post = {value}_pre : 1 (summed)",
                          i, j))


def learning_synapses(b: Builder, k: int, edge: Connection, update: str) -> None:
    """The plastic all-pairs synapses of a learning edge: w = W / tau_syn (a spike adds w to the
    target's filter), dw/dt = rate ``update`` tr / (tau_pre tau_syn)."""
    rule = edge.learning
    assert rule is not None
    if edge.synapse is None:
        raise GraphError(f"edge {edge.name!r}: the Brian2 builder learns through a synapse filter")
    pre, post = b.graph.nodes[edge.source], b.graph.nodes[edge.target]
    W = edge.matrix(post.size, pre.size)
    i, j = all_pairs(b, pre.size, post.size)
    lines, out, hit = filter_lines(f"I{k}", edge.synapse, None)
    b.lines[edge.target] += lines
    b.terms[edge.target].append(out)
    add_trace(b, k, edge.source, rule.pre_tau)
    gate = ""
    if rule.gate:
        b.lines[edge.target].append(f"g{k} : 1")
        sum_from(b, k, f"g{k}", rule.gate, edge.target)
        gate = f"g{k}_post * "
    tau = edge.synapse.tau
    count = "*c_pre" if edge.source in b.counted else ""
    model = [f"dw/dt = rate_l{k} * {gate}{update} * tr{k}_pre / (tau_l{k} * tau_s{k}) : 1 (clock-driven)"]
    model += feedback_lines(b, k, edge)
    b.synapses.append(Syn(f"s{k}", b.names[edge.source], b.names[edge.target], "\n".join(model), i, j,
                          on_pre=f"{hit}_post += w{count}", method="euler",
                          namespace={f"rate_l{k}": (rule.rate, "1"), f"tau_l{k}": (rule.pre_tau, "second"),
                                     f"tau_s{k}": (tau, "1")},  # w = W / tau_s, a number
                          init={"w": np.tile(W.ravel(), b.copies) / tau}))
    prime(b, edge.target, f"I{k}", edge, b.copies)
    b.learned[edge.name] = (f"s{k}", tau, pre.size, post.size)


def build_learning(b: Builder, k: int, edge: Connection) -> None:
    """A PES edge: dw/dt = rate g e tr / (tau_pre tau_syn), e the error node's values summed into
    the target group."""
    rule = edge.learning
    assert rule is not None
    b.lines[edge.target].append(f"e{k} : 1")
    sum_from(b, k, f"e{k}", rule.error, edge.target)
    learning_synapses(b, k, edge, f"e{k}_post")


def feedback_lines(b: Builder, k: int, edge: Connection) -> list:
    """Summed variables that send a learning edge's errors back to its source through its own
    weights, for every Dendritic edge whose feedback is this edge (rt-DeEP: F = W^T gain)."""
    lines = []
    for m, other in enumerate(b.graph.edges):
        rule = getattr(other, "learning", None)
        if isinstance(rule, Dendritic) and isinstance(rule.feedback, str) and rule.feedback == edge.name:
            tau = edge.synapse.tau if edge.synapse is not None else 1.0
            lines.append(f"fb{m}_pre = w * {tau * rule.feedback_gain!r} * e{k}_post : 1 (summed)")
    return lines


def slope_code(node: LIF | IF, sigma: float) -> str:
    """Statements setting ``slope`` to r'(J) (Hz per unit current) of the neurons' rate curve. LIF:
    r = 1 / (tau_ref + tau_rc log(1 + theta / p)), p = J - theta (soft: sigma log(1 + e^((J - theta)/sigma))),
    r' = r^2 tau_rc theta / (p (p + theta)) dp/dJ. IF: r = min(max(J, 0) / (tau theta), 1 / tau_ref),
    r' = 1 / (tau theta) between 0 and the cap."""
    theta = float(node.threshold)
    if isinstance(node, IF):
        cap = f" * int(J < {node.tau * theta / node.tau_ref!r})" if node.tau_ref > 0 else ""
        return f"slope = {1.0 / (node.tau * theta)!r} * int(J > 0){cap}"
    tau_rc, tau_ref = float(node.tau_rc), float(node.tau_ref)
    if sigma > 0:
        x = f"((J - {theta!r})/{sigma!r})"
        p = f"clip({sigma!r}*(clip({x}, 0, inf) + log1p(exp(-abs({x})))), 1e-12, inf)"
        dp = f"1/(1 + exp(-{x}))"
    else:
        p, dp = f"clip(J - {theta!r}, 1e-12, inf)", f"int(J > {theta!r})"
    r = f"1/({tau_ref!r} + {tau_rc!r}*log1p({theta!r}/slope_p))"
    return (f"slope_p = {p}\nslope_r = {r}\n"
            f"slope = slope_r**2 * {tau_rc * theta!r} / (slope_p*(slope_p + {theta!r})) * {dp}")


def build_dendritic(b: Builder, k: int, edge: Connection) -> None:
    """A Dendritic edge into LIF or IF neurons: fb{k} the fed-back error F e (through a fixed matrix, or
    summed back through a learning edge's synapses), ``slope`` r'(J) updated every step before
    the synapses, dw/dt = rate g slope fb tr / (tau_pre tau_syn)."""
    rule = edge.learning
    assert isinstance(rule, Dendritic)
    post = b.graph.nodes[edge.target]
    b.lines[edge.target] += [f"fb{k} : 1", "slope : 1"] + (["slope_p : 1", "slope_r : 1"] if isinstance(post, LIF)
                                                         else [])
    if not any(n == f"{b.names[edge.target]}_slope" for n, *_ in b.regular[edge.target]):
        b.regular[edge.target].append((f"{b.names[edge.target]}_slope", slope_code(post, rule.sigma), 2))
    if isinstance(rule.feedback, str):
        source = next(e for e in b.graph.edges if e.name == rule.feedback)
        if not isinstance(source.learning, PES) or source.learning.error != rule.error:
            F = source.matrix(b.graph.nodes[source.target].size, b.graph.nodes[source.source].size).T
            sum_from(b, k, f"fb{k}", rule.error, edge.target, F * rule.feedback_gain)
        # else: the learning edge's synapses sum W^T e into fb{k} (feedback_lines)
    else:
        sum_from(b, k, f"fb{k}", rule.error, edge.target, np.asarray(rule.feedback))
    learning_synapses(b, k, edge, f"slope_post * fb{k}_post")


def learned_weights(graph, objs: dict, learned: dict) -> dict:
    """The weights (copies, n_post, n_pre) each learning edge ended a run with (w tau_syn)."""
    out = {}
    for name, (syn, tau, n_pre, n_post) in learned.items():
        w = np.asarray(objs[syn].w[:]) * tau
        i, j = np.asarray(objs[syn].i[:]), np.asarray(objs[syn].j[:])
        W = np.zeros((graph.copies, n_post, n_pre))
        W[j // n_post, j % n_post, i % n_pre] = w
        out[name] = W
    return out


def build_connection(b: Builder, k: int, edge: Connection) -> None:
    if edge in b.inline:
        return
    if isinstance(edge.learning, Dendritic):
        build_dendritic(b, k, edge)
        return
    if edge.learning is not None:
        build_learning(b, k, edge)
        return
    pre, post = b.graph.nodes[edge.source], b.graph.nodes[edge.target]
    W = neuron_matrix(b, edge)
    i, j, w = block_pairs(W, b.copies, pre.size, post.size)
    if not len(w):  # all weights zero: the edge adds nothing (Brian2 cannot connect no pairs)
        return
    var = f"I{k}"
    src, dst = b.names[edge.source], b.names[edge.target]
    if pre.spiking:
        count = "*c_pre" if edge.source in b.counted else ""
        if edge.synapse is None and (isinstance(post, CubaLIF) or (isinstance(post, LI) and post.tau == 0)):
            # a pulse 1/dt into this step's input
            b.synapses.append(Syn(f"s{k}", src, dst, "w : 1 (constant)", i, j, on_pre=f"pulses_post += w{count}",
                                  init={"w": w / b.dt}, when="thresholds", order=3 * b.position[edge.target] - 2))
            return
        if edge.synapse is None:  # delivered in this step, before the target's threshold
            jump = spike_jump(post, b.dt)
            guard = "*int(not_refractory_post)" if isinstance(post, LIF) else ""  # IF integrates through it
            b.synapses.append(Syn(f"s{k}", src, dst, "w : 1 (constant)", i, j, on_pre=f"v_post += w{count}{guard}",
                                  init={"w": w * jump}, when="thresholds", order=3 * b.position[edge.target] - 2))
            return
        lines, out, hit = filter_lines(var, edge.synapse, None)
        b.lines[edge.target] += lines
        b.terms[edge.target].append(out)
        b.synapses.append(Syn(f"s{k}", src, dst, "w : 1 (constant)", i, j, on_pre=f"{hit}_post += w{count}",
                              init={"w": w / edge.synapse.tau}))
    else:
        summed = f"X{k}"
        b.lines[edge.target].append(f"{summed} : 1")
        lines, out, _ = filter_lines(var, edge.synapse, summed)
        b.lines[edge.target] += lines
        b.terms[edge.target].append(out)
        b.synapses.append(Syn(f"s{k}", src, dst,
                              f"w : 1 (constant)\n{summed}_post = w*{VALUE[type(pre)]}_pre : 1 (summed)",
                              i, j, init={"w": w}))
    prime(b, edge.target, var, edge, b.copies)


def build_decoded(b: Builder, k: int, edge: Decoded) -> None:
    if edge.synapse is None:
        raise GraphError(f"edge {edge.name!r}: the Brian2 builder needs a synapse on decoded edges")
    pre, post = b.graph.nodes[edge.source], b.graph.nodes[edge.target]
    d, copies = edge.dimensions, b.copies
    dec = f"d{k}"
    lines, out, hit = filter_lines("y", edge.synapse, None)
    b.groups[dec] = Group(dec, copies * d, model="\n".join(lines), method="exponential_euler",
                          init=filter_taus("y", edge.synapse))
    if edge.history is not None:
        states = primed(np.asarray(edge.history), cast(float, edge.history_dt), stages(edge.synapse))
        b.groups[dec].init["y"] = np.tile(states["I"], copies)
        if "a" in states:
            b.groups[dec].init["a_y"] = np.tile(states["a"], copies)
    i, j, w = block_pairs(edge.decoders.T, copies, pre.size, d)
    b.synapses.append(Syn(f"s{k}_dec", b.names[edge.source], dec, "w : 1 (constant)", i, j,
                          on_pre=f"{hit}_post += w", init={"w": w / edge.synapse.tau}))
    T = edge.full_transform()
    M = (cast(np.ndarray, post.gain)[:, None] * post.encoders) @ T if isinstance(post, LIF) else T
    i, j, w = block_pairs(M, copies, d, post.size)
    summed = f"X{k}"
    b.lines[edge.target].append(f"{summed} : 1")
    b.terms[edge.target].append(summed)
    b.synapses.append(Syn(f"s{k}_enc", dec, b.names[edge.target],
                          f"w : 1 (constant)\n{summed}_post = w*y_pre : 1 (summed)", i, j, init={"w": w}))


def program(graph, inputs=None, input_dt=None, duration: float = 0.0, sample_dt=None, seed: int = 0,
            backend: str = "brian2-spiking") -> tuple[Program, dict]:
    """The Brian2 program of ``graph`` and, per probe, (monitor or spike group, variable)."""
    sample_dt = sample_dt or graph.dt
    b = Builder(graph, dict(inputs or {}), input_dt or graph.dt, sample_dt, duration)
    built = {name: NODE_BUILDERS[type(node)](b, name, node) for name, node in graph.nodes.items()}
    for k, edge in enumerate(graph.edges):
        (build_decoded if isinstance(edge, Decoded) else build_connection)(b, k, edge)
    groups = []
    for name, group in built.items():
        node = graph.nodes[name]
        extra = b.lines[name]
        total = summed_input(b, name)
        if isinstance(node, X_INPUT) and "X : 1" in group.model:
            group.model = group.model.replace("X : 1", f"X = {total} : 1")
        elif isinstance(node, Host):
            group.model = group.model.replace("X = I_syn : 1", f"X = {total} : 1")
        else:
            group.model = group.model.replace("I_syn", f"({total})")
        group.model = "\n".join([group.model] + extra)
        if b.resets[name]:
            group.reset = "\n".join([group.reset or ""] + b.resets[name]).strip()
        group.regular = list(group.regular) + b.regular[name]
        group.init.update(b.init[name])
        group.order = 3 * b.position[name]
        groups.append(group)
    groups += list(b.groups.values())
    monitors, readouts, probes = [], [], {}
    spiking = [name for name, node in graph.nodes.items() if node.spiking]
    for name in spiking:
        monitors.append(Monitor(f"spk_{b.names[name]}", b.names[name], spikes=True, order=3 * b.position[name] + 1))
    for key, probe in graph.probes.items():
        node = graph.nodes[probe.node]
        if probe.variable == "spikes":
            probes[key] = ("spikes", b.names[probe.node])
            continue
        var = "v" if probe.variable == "voltage" else VALUE[type(node)]
        mon = f"mon_{b.names[probe.node]}_{var}"
        if all(m.name != mon for m in monitors):
            monitors.append(Monitor(mon, b.names[probe.node], variables=(var,), dt=sample_dt))
        readouts.append(Readout(name=key, monitor=mon, variable=var, lanes=graph.copies))
        probes[key] = ("value", mon)
    prog = Program(model=graph.name, backend=backend, dt=graph.dt, duration=duration, seed=seed, groups=groups,
                   synapses=b.synapses, inputs=b.timed, monitors=monitors, readouts=readouts, notes=list(graph.notes),
                   substitutions=list(graph.substitutions),
                   shared=[(syn, graph.copies, n_pre, n_post) for syn, _, n_pre, n_post in b.learned.values()
                           if graph.copies > 1])
    return prog, {"probes": probes, "groups": b.names, "learned": b.learned}


def spike_bins(monitor, n: int, copies: int, sample_dt: float, duration: float) -> np.ndarray:
    """Spike counts per sample period (K, copies, n/copies) from a SpikeMonitor."""
    K = int(round(duration / sample_dt))
    t = np.asarray(monitor.t_[:])
    i = np.asarray(monitor.i[:])
    out = np.zeros((K, n))
    rows = np.minimum((t / sample_dt + 1e-9).astype(int), K - 1) if K else np.zeros(0, int)
    np.add.at(out, (rows, i), 1)
    return out.reshape(K, copies, n // copies)


def raster_of(monitor, group: str) -> dict:
    from ...spikes import raster

    t = np.asarray(monitor.t_[:])
    i = np.asarray(monitor.i[:])
    keep = (i < RASTER_NEURONS) & (t < RASTER_SECONDS)
    return raster(t[keep], i[keep], group)
