"""NLA networks compiled to Brian2 rate equations (voltages, prospective rates, errors, plasticity).

Every network neuron of every lane is one neuron of the group ``net``; input rates are the group
``inp``. Weighted sums are Brian2 summed variables: forward sums into the postsynaptic neuron,
error feedback (W^T or a fixed B) into the presynaptic one. One step, in Brian2's schedule:

1. sums of the state at t (order -6): A_net = W r_bar, A_in = W_in x_bar, A3 = W_in dx_bar/dt,
   A2 = W (rho' du/dt_prev);
2. feedback sums (order -5): V1 = C0 eps, V2 = C0 deps/dt, V3 = C0 (du/dt_prev - A2);
3. du/dt of the previous-step scheme (order -4), the same expression as the rate reference's
   ``previous_step``: du/dt = -(eps - e_bar)/tau - (deps/dt - de_bar/dt) + A2 + D2 V1 du/dt_prev
   + D V3 - beta du/dt_prev (without look-ahead: -(eps - e_bar)/tau);
4. monitors (order -3), plasticity dW/dt = eta eps_post r_bar_pre (order -2), then u (order 0)
   and x_bar (order 1), all forward Euler.

The explicit scheme's linear solve has no Brian2 equation form; specs asking for it are run with
the previous-step scheme and the substitution is recorded.
"""

from __future__ import annotations

import numpy as np

from ...equations import Group, Monitor, Program, Readout, Syn, TimedInput
from ...errors import NeuromorphError
from ...graph import Substitution
from .. import nla
from . import dynamics as dyn
from .rate import LaneState

#: Brian2 expressions of rho, rho', rho'' (helper lines first), mirroring families/nla/rho.py.
RHO = {
    "hard_sigmoid": [("rb", "clip(u, 0, 1)"), ("D", "int(u >= 0)*int(u <= 1)"), ("D2", "0*u")],
    "relu": [("rb", "clip(u, 0, inf)"), ("D", "int(u > 0)"), ("D2", "0*u")],
    "logistic": [("rb", "1/(1 + exp(-u))"), ("D", "rb*(1 - rb)"), ("D2", "D*(1 - 2*rb)")],
    "lif": [
        ("on", "int(u > 1)"),
        ("pp", "clip(u - 1, 1e-300, inf)"),
        ("qq", "1/pp"),
        ("iL", "on/(tau_ref + tau_rc*log1p(1/pp))"),
        ("rb", "amplitude*iL"),
        ("D", "amplitude*tau_rc*qq*iL**2/(pp + 1)"),
        ("D2", "amplitude*tau_rc*qq**2*iL**2*(2*tau_rc*iL - (2*pp + 1))/(pp + 1)**2"),
    ],
    "soft_lif": [
        ("xs", "(u - 1)/sigma"),
        ("pp", "sigma*(clip(xs, 0, inf) + log1p(exp(-abs(xs))))"),
        ("ss", "1/(1 + exp(-xs))"),
        ("qq", "int(xs < -30)/sigma + int(xs >= -30)*ss/(pp + int(xs < -30))"),
        ("iL", "1/(tau_ref + tau_rc*log1p(1/pp))"),
        ("rb", "amplitude*iL"),
        ("D", "amplitude*tau_rc*qq*iL**2/(pp + 1)"),
        ("D2", "amplitude*(tau_rc*qq**2*iL**2*(2*tau_rc*iL - (2*pp + 1))/(pp + 1)**2"
               " + tau_rc*qq*(1 - ss)/sigma*iL**2/(pp + 1))"),
    ],
}

ORDER = {"sums": -90, "feedback": -89, "passes": -88, "udot": -4, "monitor": -3, "plasticity": -2, "net": 0, "inp": 1}


def explicit_layered(model, st, weights, protocol) -> bool:
    """Use the explicit scheme's exact layered solve: a layered rt-DeEP network, look-ahead on,
    scheme explicit, and no nudging in this protocol (beta = 0: inference)."""
    return (st.layered and weights.W_IP is None and model.neuron.lookahead
            and model.dynamics.scheme == "explicit" and not np.any(protocol.beta))


class Brian2NLAError(NeuromorphError):
    """An NLA model the Brian2 compiler cannot express."""


def rho_lines(model) -> tuple[list, dict]:
    n = model.neuron
    lines = [f"{name} = {code} : 1" for name, code in RHO[n.rho]]
    ns = {}
    if n.rho in ("lif", "soft_lif"):
        ns = {"tau_rc": (n.tau_rc, "1"), "tau_ref": (n.tau_ref, "1"), "amplitude": (n.amplitude, "1")}
        if n.rho == "soft_lif":
            ns["sigma"] = (n.sigma, "1")
    return lines, ns


def pairs(mask: np.ndarray, lanes: int, n_pre: int, n_post: int):
    """(i_pre, j_post, flat index into the weight matrix) for every lane's copy of ``mask``."""
    post, pre = np.nonzero(mask)
    flat = post * mask.shape[1] + pre
    i = np.concatenate([pre + k * n_pre for k in range(lanes)])
    j = np.concatenate([post + k * n_post for k in range(lanes)])
    return i, j, np.tile(flat, lanes)


def scheme_substitutions(model) -> list:
    if model.neuron.lookahead and model.dynamics.scheme == "explicit":
        return [Substitution("dynamics.scheme", "explicit scheme", "previous-step scheme",
                             "the explicit linear solve of tau H du/dt = -f - tau df/dt has no Brian2 equation form "
                             "outside layered inference; the schemes agree for dt <= 0.1 tau and weights that keep "
                             "H's eigenvalues in (0, 2)")]
    return []


def program(model, weights, st, s, protocol, state, record=(), every=1, need_u=False) -> Program:
    """The Brian2 rate program for one protocol, starting from ``state`` (u, du/dt, x_bar, target)."""
    if weights.W_IP is not None:
        raise Brian2NLAError("the Brian2 compiler does not express the cortical microcircuit; "
                             "use the rate backend for microcircuit models")
    L, K, n, n_in = protocol.x.shape[1], protocol.steps, st.n, st.n_in
    learn = protocol.learn
    rho, rho_ns = rho_lines(model)
    inputs = [TimedInput("nm_tgt", _targets(st, protocol, state), s.dt)]
    eqs = ["du/dt = ud : 1", "ud : Hz", "beta_n : 1 (constant)"]
    eqs.append("db/dt = eta_b*eps : 1" if learn else "b : 1 (constant)")
    if learn:
        eqs.append("eta_b : Hz (constant)")
    eqs += rho + [
        "tgt = nm_tgt(t + dt, i) : 1",
        "tgt_dot = (nm_tgt(t + dt, i) - nm_tgt(t, i))/dt : Hz",
        "A_in : 1", "A3 : Hz", "A_net : 1", "A2 : Hz", "V1 : 1", "V2 : Hz", "V3 : Hz",
        "eps = u - A_net - A_in - b : 1",
        "eps_t = -A3 : Hz",
        "ebar = D*V1 + beta_n*(tgt - u) : 1",
        "ebar_t = D*V2 + beta_n*tgt_dot : Hz",
    ]
    explicit = explicit_layered(model, st, weights, protocol)
    plan = solve_plan(st.depth - 1) if explicit else []
    regular, orders = [], {}
    if explicit:
        eqs += _solve_variables(plan)
        for n_step, step in enumerate(plan):
            order_k = ORDER["passes"] + n_step
            if step[0] == "assign":
                regular.append((f"net_solve_{n_step}", step[1], order_k))
            else:
                orders[step[1]] = order_k
    elif model.neuron.lookahead:
        regular = [("net_udot", "ud = -(eps - ebar)/tau - (eps_t - ebar_t) + A2 + D2*V1*ud + D*V3 - beta_n*ud",
                    ORDER["udot"])]
    else:
        regular = [("net_udot", "ud = -(eps - ebar)/tau", ORDER["udot"])]
    beta = nla.beta_vector(st, protocol.beta)
    init = {"u": state.u.reshape(-1), "ud": (state.udot.reshape(-1), "Hz"), "beta_n": np.tile(beta, L),
            "b": np.tile(weights.b, L)}
    if learn:
        init["eta_b"] = (np.tile(s.eta_b, L), "Hz")
    net = Group(name="net", n=L * n, model="\n".join(eqs), method="euler", order=ORDER["net"],
                namespace=dict({"tau": (s.tau, "second"), "nm_tgt": "nm_tgt"}, **rho_ns), init=init,
                regular=regular)
    groups, synapses = [net], []
    if n_in:
        inputs.append(TimedInput("nm_x", protocol.x.reshape(K, L * n_in), s.dt))
        groups.append(Group(name="inp", n=L * n_in, method="euler", order=ORDER["inp"],
                            model="dxbar/dt = (x - xbar)/tau_in : 1\nx = nm_x(t, i) : 1\nxdot = (x - xbar)/tau_in : Hz",
                            namespace={"tau_in": (s.tau_in, "second"), "nm_x": "nm_x"},
                            init={"xbar": state.xbar.reshape(-1)}))
        synapses.append(_projection("s_in", "inp", st.mask_in, weights.W_in, s.eta_in, L, n_in, n, learn,
                                    ["A_in_post = w*xbar_pre : 1 (summed)", "A3_post = w*xdot_pre : Hz (summed)"],
                                    "xbar_pre", {"A_in_post": ORDER["sums"], "A3_post": ORDER["sums"]}))
    forward = ["A_net_post = w*rb_pre : 1 (summed)", "A2_post = w*D_pre*ud_pre : Hz (summed)"]
    order = {"A_net_post": ORDER["sums"], "A2_post": ORDER["sums"]}
    # feedback sums: (name, expression of the error neuron's variables with suffix {e}, unit)
    back = [("V1", "eps{e}", "1"), ("V2", "eps_t{e}", "Hz"), ("V3", "(ud{e} - A2{e})", "Hz")]
    back_order = {"V1": ORDER["feedback"], "V2": ORDER["feedback"], "V3": ORDER["feedback"]}
    for step in plan:  # the sums of the layered solve, in the order they depend on each other
        if step[0] == "back":
            back.append((step[1], step[2] + "{e}", "Hz"))
            back_order[step[1]] = orders[step[1]]
        elif step[0] == "forward":
            forward.append(f"{step[1]}_post = w*D_pre*{step[2]}_pre : Hz (summed)")
            order[f"{step[1]}_post"] = orders[step[1]]
    if weights.B is None:  # transpose feedback through the same (possibly plastic) synapses: post -> pre
        forward += [f"{v}_pre = w*{e.format(e='_post')} : {u} (summed)" for v, e, u in back]
        order.update({f"{k}_pre": v for k, v in back_order.items()})
    synapses.append(_projection("s_net", "net", st.mask_W, weights.W, s.eta_W, L, n, n, learn, forward, "rb_pre",
                                order))
    if weights.B is not None:  # feedback alignment: fixed B (layout of W.T), error neuron -> receiver
        i, j, flat = pairs(st.mask_W.T, L, n, n)
        fb = [f"{v}_post = bfb*{e.format(e='_pre')} : {u} (summed)" for v, e, u in back]
        synapses.append(Syn(name="s_fb", source="net", target="net", i=i, j=j, order=ORDER["plasticity"],
                            model="bfb : 1 (constant)\n" + "\n".join(fb), init={"bfb": weights.B.reshape(-1)[flat]},
                            summed_order={f"{k}_post": v for k, v in back_order.items()}))
    monitors, readouts = _recording(st, L, s.dt, record, every, need_u, n_in)
    scheme = ("explicit scheme, H^-1 as finite Neumann series of summed variables" if explicit else
              "previous-step scheme" if model.neuron.lookahead else "no look-ahead")
    notes = [f"{L} lane(s) of {n} network neurons; {scheme}; forward Euler, dt = {s.dt:g} s"]
    return Program(model=model.name, backend="brian2", dt=s.dt, duration=K * s.dt, seed=model.seed,
                   groups=groups, synapses=synapses, inputs=inputs, monitors=monitors, readouts=readouts,
                   notes=notes, substitutions=[] if explicit else scheme_substitutions(model))


#: Fixed-point refinements of the layered solve for the diagonal rho'' term (the rate reference
#: iterates to convergence; two rounds leave an error far below the 1e-3 we compare at).
REFINE = 2


def solve_plan(passes: int) -> list:
    """The layered explicit solve of H du/dt = g, g = -f/tau - df/dt, as an ordered list of
    ("assign", code) and ("back" | "forward", summed name, source) steps, with
    H = (I - D C0)(I - W D) - diag(D2 v): y = (I - D C0)^-1 g' by ``passes`` feedback sums,
    x = (I - W D)^-1 y by forward sums (finite series: D C0 and W D are nilpotent in a layered
    network), repeated with g' = g + D2 v x to fold in the diagonal term. Intermediate values are
    state variables set in order (as subexpressions they would be inlined into one another)."""
    plan: list[tuple[str, ...]] = [("assign", "g = -(eps - ebar)/tau - (eps_t - ebar_t)")]
    for r in range(REFINE + 1):
        plan.append(("assign", f"y{r}_0 = g" if r == 0 else f"y{r}_0 = g + D2*V1*x{r - 1}_{passes}"))
        for k in range(1, passes + 1):
            plan += [("back", f"B{r}_{k}", f"y{r}_{k - 1}"), ("assign", f"y{r}_{k} = y{r}_0 + D*B{r}_{k}")]
        plan.append(("assign", f"x{r}_0 = y{r}_{passes}"))
        for k in range(1, passes + 1):
            plan += [("forward", f"F{r}_{k}", f"x{r}_{k - 1}"), ("assign", f"x{r}_{k} = x{r}_0 + F{r}_{k}")]
    plan.append(("assign", f"ud = x{REFINE}_{passes}"))
    return plan


def _solve_variables(plan) -> list:
    names = {step[1].split(" = ")[0] for step in plan if step[0] == "assign"} - {"ud"}
    names |= {step[1] for step in plan if step[0] != "assign"}
    return [f"{name} : Hz" for name in sorted(names)]


def _projection(name, source, mask, W, eta, L, n_pre, n_post, learn, sums, pre_rate, order) -> Syn:
    i, j, flat = pairs(mask, L, n_pre, n_post)
    weight = ["dw/dt = eta_s*eps_post*" + pre_rate + " : 1 (clock-driven)",
              "eta_s : Hz (constant)"] if learn else ["w : 1"]
    init = {"w": W.reshape(-1)[flat]}
    if learn:
        init["eta_s"] = (eta.reshape(-1)[flat], "Hz")
    return Syn(name=name, source=source, target="net", i=i, j=j, model="\n".join(weight + sums),
               method="euler" if learn else None, init=init, summed_order=order, order=ORDER["plasticity"])


def _targets(st, protocol, state) -> np.ndarray:
    """nm_tgt rows: the target in place before the run, then the target of each step (all
    network neurons, zero off the outputs)."""
    K, L = protocol.target.shape[:2]
    rows = np.zeros((K + 1, L, st.n))
    rows[0] = state.target
    rows[1:, :, st.out] = protocol.target
    return rows.reshape(K + 1, L * st.n)


def _recording(st, L, dt, record, every, need_u, n_in):
    sources = {"u": ("net", "u"), "u_out": ("net", "u"), "r_bar": ("net", "rb"), "e_bar": ("net", "ebar"),
               "target": ("net", "tgt"), "input": ("inp", "xbar")}
    out_rows = np.zeros((L * st.n_out, L * st.n))
    for k in range(L):
        out_rows[k * st.n_out:(k + 1) * st.n_out, k * st.n + st.out.start:k * st.n + st.out.stop] = np.eye(st.n_out)
    monitors, readouts, made = [], [], {}
    wanted = [(name, every) for name in record]
    if need_u:
        wanted.append(("__u_out_every_step", 1))
    for name, step in wanted:
        base = "u_out" if name == "__u_out_every_step" else name
        group, var = sources[base]
        if group == "inp" and not n_in:
            continue
        key = (group, var, step)
        if key not in made:
            made[key] = f"mon_{group}_{var}_{step}"
            monitors.append(Monitor(name=made[key], group=group, variables=(var,), dt=step * dt, when="groups",
                                    order=ORDER["monitor"]))
        matrix = out_rows if base in ("u_out", "target") else None
        readouts.append(Readout(name=name, monitor=made[key], variable=var, matrix=matrix, lanes=L,
                                final=name == "__u_out_every_step"))
    return monitors, readouts


class Brian2NLAEngine(LaneState):
    """The NLA engine interface (see the rate engine) on Brian2: each protocol is compiled to a
    Brian2 program and run in one go (``run_program``, the backend's runner); state and learned
    weights carry over between protocols."""

    def __init__(self, model, run_program, weights=None, base_dir=None):
        super().__init__(model, weights, base_dir)
        self.run_program = run_program
        self.stats = {"steps": 0, "learning_steps": 0}
        self.substitutions: list = []
        self.notes: list = []
        self.last_program = None

    def run_info(self):
        from ...records import RunInfo

        steps = self.stats["steps"]
        return RunInfo(backend="brian2", dt=self.settings.dt, steps=steps, simulated_s=steps * self.settings.dt,
                       substitutions=list(self.substitutions), notes=list(self.notes),
                       details={"engine": dict(self.stats)})

    def scale_eta(self, factor: float) -> None:
        for name in ("eta_W", "eta_in", "eta_b"):
            setattr(self.settings, name, getattr(self.settings, name) * factor)

    def set_plastic(self, forward: bool = True) -> None:
        if not forward:
            raise Brian2NLAError("the Brian2 compiler has no lateral-only learning (microcircuit)")

    def run_protocol(self, protocol, record=(), every: int = 1, marks=(), progress=None):
        if protocol.x0 is not None:
            self.reset(protocol.x0, protocol.target0)
        L, K = protocol.x.shape[1], protocol.steps
        if protocol.learn and L > 1:
            raise Brian2NLAError("Brian2 synapses cannot share weights across lanes: learn with learning.lanes: 1")
        prog = program(self.model, self.weights, self.structure, self.settings, protocol, self.state, record, every,
                       need_u=True)
        self.last_program = prog
        self.substitutions += [x for x in prog.substitutions if x not in self.substitutions]
        self.notes += [x for x in prog.notes if x not in self.notes]
        _, traces, _, objs = self.run_program(prog)
        u_steps = traces.pop("__u_out_every_step")  # (K + 1, L, n_out)
        self._read_back(objs, protocol, L)
        self.stats["steps"] += K
        self.stats["learning_steps"] += K if protocol.learn else 0
        if progress is not None:
            progress(K)
        marked = np.stack([u_steps[m] for m in marks]) if marks else np.zeros((0, L, self.structure.n_out))
        rec = {k: v[: -(-K // every)] for k, v in traces.items()}
        return rec, marked

    def _read_back(self, objs, protocol, L) -> None:
        st = self.structure
        net = objs["net"]
        self.state = dyn.State(u=np.asarray(net.u[:]).reshape(L, st.n),
                               udot=np.asarray(net.ud[:]).reshape(L, st.n),
                               xbar=(np.asarray(objs["inp"].xbar[:]).reshape(L, st.n_in) if st.n_in else
                                     np.zeros((L, 0))),
                               target=nla.full_target(st, protocol.target[-1]),
                               t=self.state.t + protocol.steps * self.settings.dt)
        if protocol.learn:  # one lane: synapse k holds W[post, pre]
            for syn, matrix in (("s_net", self.weights.W), ("s_in", self.weights.W_in)):
                if syn in objs:
                    s = objs[syn]
                    matrix[np.asarray(s.j[:]), np.asarray(s.i[:])] = np.asarray(s.w[:])
            self.weights.b[:] = np.asarray(net.b[:])
        if not np.isfinite(self.state.u).all():
            raise Brian2NLAError("the Brian2 NLA run diverged (non-finite voltages)")
