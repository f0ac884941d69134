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
from .network import microcircuit_masks
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

ORDER = {"sums": -10000, "feedback": -9999, "passes": -9998, "udot": -4, "monitor": -3, "plasticity": -2, "net": 0,
         "inp": 1}


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
    micro = weights.W_IP is not None
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
        "A_in : 1", "A3 : Hz", "A_net : 1", "A2 : Hz",
        *(MICRO_APICAL if micro else ["V1 : 1", "V2 : Hz", "V3 : Hz"]),
        "eps = u - A_net - A_in - b : 1",
        "eps_t = -A3 : Hz",
        "ebar = D*V1 + beta_n*(tgt - u) : 1",
        "ebar_t = D*V2 + beta_n*tgt_dot : Hz",
    ]
    solved = model.neuron.lookahead and model.dynamics.scheme == "explicit"
    kind = feedback_kind(weights)
    if solved and st.layered:
        plan = layered_plan(kind, st.depth - 1, MICRO_ROUNDS if micro else ROUNDS, drift=learn, inputs=bool(n_in))
    elif solved and kind == "transpose":
        plan = cg_plan(min(CG_ITERATIONS, n), drift=learn, inputs=bool(n_in))
    elif solved:
        plan = sweep_plan(kind, SWEEPS, drift=learn, inputs=bool(n_in))
    else:
        plan = []
    regular = []
    extra_sums: dict = {}  # synapse name -> [(model line, summed variable, order)] of the sweeps
    inter_lines: list = []
    if solved:
        if ORDER["passes"] + len(plan) >= ORDER["udot"]:
            raise Brian2NLAError(f"the solve has {len(plan)} steps, more than the schedule holds before du/dt is used")
        eqs += _solve_variables(plan)
        for n_step, step in enumerate(plan):
            order_k = ORDER["passes"] + n_step
            if step[0] == "assign":
                regular.append((f"net_solve_{n_step}", step[1], order_k))
            elif step[0] == "sum":
                _, syn, side, var, expr, unit = step
                extra_sums.setdefault(syn, []).append((f"{var}_{side} = {expr} : {unit} (summed)", f"{var}_{side}",
                                                       order_k))
            elif step[0] == "inter":
                inter_lines.append(step[1])
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
                namespace=dict({"tau": (s.tau, "second"), "nm_tgt": "nm_tgt"}, **rho_ns,
                              **({"beta_I": (s.beta_I, "1")} if micro else {})), init=init,
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
    if weights.B is None:  # transpose feedback through the same (possibly plastic) synapses: post -> pre
        forward += [f"{v}_pre = w*{e.format(e='_post')} : {u} (summed)" for v, e, u in back]
        order.update({f"{k}_pre": v for k, v in back_order.items()})
    synapses.append(_projection("s_net", "net", st.mask_W, weights.W, s.eta_W, L, n, n, learn, forward, "rb_pre",
                                order))
    if micro:
        micro_groups, micro_synapses = _microcircuit(weights, st, s, L, learn)
        micro_groups[0].model += "".join("\n" + line for line in inter_lines)
        groups += micro_groups
        synapses += micro_synapses
    elif weights.B is not None:  # feedback alignment: fixed B (layout of W.T), error neuron -> receiver
        i, j, flat = pairs(st.mask_W.T, L, n, n)
        fb = [f"{v}_post = bfb*{e.format(e='_pre')} : {u} (summed)" for v, e, u in back]
        synapses.append(Syn(name="s_fb", source="net", target="net", i=i, j=j, order=ORDER["plasticity"],
                            model="bfb : 1 (constant)\n" + "\n".join(fb), init={"bfb": weights.B.reshape(-1)[flat]},
                            summed_order={f"{k}_post": v for k, v in back_order.items()}))
    if "s_red" in extra_sums:  # per-lane inner products: units -> lane -> units
        lane_vars = sorted({line.split("_post")[0] for line, _, _ in extra_sums["s_red"]})
        groups.append(Group(name="lane", n=L, model="\n".join(f"{v} : Hz**2" for v in lane_vars),
                            order=ORDER["net"]))
        unit = np.arange(L * n)
        synapses += [Syn(name="s_red", source="net", target="lane", i=unit, j=unit // n, model="",
                         order=ORDER["plasticity"]),
                     Syn(name="s_bc", source="lane", target="net", i=unit // n, j=unit, model="",
                         order=ORDER["plasticity"])]
    for syn in synapses:
        for line, var, order_k in extra_sums.get(syn.name, []):
            syn.model += "\n" + line
            syn.summed_order[var] = order_k
    monitors, readouts = _recording(st, L, s.dt, record, every, need_u, n_in)
    rounds = MICRO_ROUNDS if micro else ROUNDS
    scheme = (f"explicit scheme, H du/dt = g by {rounds} rounds of the layered solve (finite Neumann series "
              "of summed variables)" if solved and st.layered else
              f"explicit scheme, H du/dt = g by {min(CG_ITERATIONS, n)} conjugate-gradient iterations per step"
              if solved and kind == "transpose" else
              f"explicit scheme, H du/dt = g by {SWEEPS} preconditioned fixed-point sweeps per step" if solved
              else "previous-step scheme" if model.neuron.lookahead else "no look-ahead")
    notes = [f"{L} lane(s) of {n} network neurons; {scheme}; forward Euler, dt = {s.dt:g} s"]
    return Program(model=model.name, backend="brian2", dt=s.dt, duration=K * s.dt, seed=model.seed,
                   groups=groups, synapses=synapses, inputs=inputs, monitors=monitors, readouts=readouts,
                   notes=notes, substitutions=[] if solved else scheme_substitutions(model))


#: Rounds of the layered solve per step: each solves (I - D C0)(I - W D) x = g - E x_prev exactly
#: (finite series), E the rest of H (nudging, rho'', a microcircuit's lateral mismatch); one round
#: is exact when E = 0, and each further one shrinks the error by the spectral radius of A^-1 E.
ROUNDS = 4
#: A microcircuit's lateral mismatch makes E larger (spectral radius of A^-1 E about 0.24 for the
#: shipped circuit at its start), so it gets more rounds.
MICRO_ROUNDS = 10


def back_pass(kind: str, name: str, src: str) -> list:
    """Steps that set ``name`` = C0 ``src`` (the error pathway: W^T, B, or the microcircuit's
    B - beta_I W_PI B_IP) in the net group."""
    if kind == "transpose":
        return [("sum", "s_net", "pre", name, f"w*{src}_post", "Hz")]
    if kind == "alignment":
        return [("sum", "s_fb", "post", name, f"bfb*{src}_pre", "Hz")]
    return [("sum", "s_b", "post", f"{name}B", f"bfb*{src}_pre", "Hz"),
            ("sum", "s_bip", "post", f"{name}I", f"bip*{src}_pre", "Hz"),
            ("inter", f"{name}I : Hz"),
            ("sum", "s_pi", "post", f"{name}P", f"wpi*{name}I_pre", "Hz"),
            ("assign", f"{name} = {name}B - beta_I*{name}P", "Hz")]


def rest_of_h(kind: str, r: int, x: str) -> list:
    """Steps that set e{r} = E ``x``, E = H - (I - D C0)(I - W D): (beta - D2 v) x, plus for a
    microcircuit D (C1 - C0 W) D x (zero once W_PI W_IP = C0 W, the aligned circuit)."""
    out = f"e{r}"
    if kind != "micro":
        return [("assign", f"{out} = (beta_n - D2*V1)*{x}", "Hz")]
    F = f"EF{r}"
    return [("sum", "s_net", "post", F, f"w*D_pre*{x}_pre", "Hz"),
            ("sum", "s_ip", "post", f"ET{r}", f"wip*D_pre*{x}_pre", "Hz"),
            ("sum", "s_bip", "post", f"EU{r}", f"bip*{F}_pre", "Hz"),
            ("inter", f"ET{r} : Hz\nEU{r} : Hz\nEZ{r} = (1 - beta_I)*ET{r} + beta_I*EU{r} : Hz"),
            ("sum", "s_b", "post", f"EB{r}", f"bfb*{F}_pre", "Hz"),
            ("sum", "s_pi", "post", f"EP{r}", f"wpi*EZ{r}_pre", "Hz"),
            ("assign", f"{out} = D*(EP{r} - EB{r}) + (beta_n - D2*V1)*{x}", "Hz")]


def layered_plan(kind: str, passes: int, rounds: int, drift: bool = False, inputs: bool = True) -> list:
    """The explicit scheme's H du/dt = g, g = -f/tau - df/dt, for a layered network: H = A + E with
    A = (I - D C0)(I - W D) inverted exactly by ``passes`` feedback and forward sums (D C0 and W D
    are nilpotent), and x = A^-1 (g - E x) iterated ``rounds`` times from the last step's du/dt.
    Intermediate values are state variables set in order (as subexpressions they would be inlined
    into one another). Steps as :func:`sweep_plan`'s."""
    plan = drift_plan(kind, inputs) if drift else []
    plan.append(("assign", "g = -(eps - ebar)/tau - (eps_t - ebar_t)" + (" - drift" if drift else ""), "Hz"))
    for r in range(rounds):
        plan += rest_of_h(kind, r, "ud" if r == 0 else f"x{r - 1}_{passes}")
        plan.append(("assign", f"y{r}_0 = g - e{r}", "Hz"))
        for k in range(1, passes + 1):
            plan += back_pass(kind, f"B{r}_{k}", f"y{r}_{k - 1}")
            plan.append(("assign", f"y{r}_{k} = y{r}_0 + D*B{r}_{k}", "Hz"))
        plan.append(("assign", f"x{r}_0 = y{r}_{passes}", "Hz"))
        for k in range(1, passes + 1):
            plan += [("sum", "s_net", "post", f"F{r}_{k}", f"w*D_pre*x{r}_{k - 1}_pre", "Hz"),
                     ("assign", f"x{r}_{k} = x{r}_0 + F{r}_{k}", "Hz")]
    plan.append(("assign", f"ud = x{rounds - 1}_{passes}", "Hz"))
    return plan


#: Fixed-point sweeps per step of the explicit scheme where no finite series solves it
#: (microcircuits, recurrent networks, nudged layered networks).
SWEEPS = 8


def feedback_kind(weights) -> str:
    """How errors reach a neuron: ``transpose`` (W^T), ``alignment`` (fixed B) or ``micro``."""
    if weights.W_IP is not None:
        return "micro"
    return "transpose" if weights.B is None else "alignment"


def drift_plan(kind: str, inputs: bool) -> list:
    """The part of df/dt that comes from the weights changing while they learn (the rate
    reference's ``weight_drift``), from sums of squared presynaptic activity: with
    dW/dt = eta eps r_bar^T, d(W r_bar)/dt|_W = eps (sum_j eta_ij r_bar_j^2) and likewise for W_in,
    b; the error pathway's part follows from the same sums (W^T, B or the microcircuit)."""
    plan: list[tuple[str, ...]] = [("sum", "s_net", "post", "S1", "eta_s*rb_pre**2", "Hz")]
    if inputs:
        plan.append(("sum", "s_in", "post", "S2", "eta_s*xbar_pre**2", "Hz"))
    plan.append(("assign", "epsd = -eps*(S1" + (" + S2" if inputs else "") + " + eta_b)", "Hz"))
    if kind == "transpose":  # v = W^T eps: W^T eps_d + (dW)^T eps
        plan += [("sum", "s_net", "pre", "VD1", "w*epsd_post", "Hz"), ("sum", "s_net", "pre", "VD2",
                                                                         "eta_s*eps_post**2", "Hz"),
                 ("assign", "vtd = VD1 + rb*VD2", "Hz")]
    elif kind == "alignment":  # v = B eps
        plan += [("sum", "s_fb", "post", "VD1", "bfb*epsd_pre", "Hz"), ("assign", "vtd = VD1", "Hz")]
    else:  # v = B u - W_PI u_I: -(dW_PI) u_I - W_PI (dW_IP) r_bar (1 - beta_I)
        plan += [("sum", "s_ip", "post", "SI", "eta_s*rb_pre**2", "Hz"),
                 ("inter", "SI : Hz\nuIt = (1 - beta_I)*(uI - P1)*SI : Hz"),
                 ("sum", "s_pi", "post", "SP", "eta_s*uI_pre**2", "Hz"),
                 ("sum", "s_pi", "post", "VPD", "wpi*uIt_pre", "Hz"),
                 ("assign", "vtd = -V1*SP - VPD", "Hz")]
    return plan + [("assign", "drift = epsd - D*vtd", "Hz")]


def sweep_plan(kind: str, sweeps: int, drift: bool = False, inputs: bool = True) -> list:
    """The explicit scheme's H du/dt = g, g = -f/tau - df/dt, solved by preconditioned fixed-point
    sweeps x <- x + (g - H x)/p warm-started from the last step's du/dt, with
    H x = x - W (D x) - D dv(x) - D2 v x + beta x (dv(x): the error pathway's change along x) and
    the diagonal p = 1 + beta - D2 v, which keeps strongly nudged outputs stable. One sweep with
    p = 1 is the previous-step scheme; the sweeps converge to the explicit solution when H is
    diagonally dominant enough (recurrent networks with transpose feedback use :func:`cg_plan`).
    With ``drift`` (learning), g includes the weights' own change.
    Steps: ("assign", code, unit), ("sum", synapse, pre|post, name, expression, unit),
    ("inter", interneuron equation)."""
    plan = drift_plan(kind, inputs) if drift else []
    plan += [("assign", "g = -(eps - ebar)/tau - (eps_t - ebar_t)" + (" - drift" if drift else ""), "Hz"),
             ("assign", "pc = 1 + beta_n - D2*V1", "1"), ("assign", "x0 = ud", "Hz")]
    for r in range(sweeps):
        x, F, G = f"x{r}", f"F{r}", f"G{r}"
        plan.append(("sum", "s_net", "post", F, f"w*D_pre*{x}_pre", "Hz"))  # W (D x)
        if kind == "transpose":  # dv = W^T (x - W D x)
            plan.append(("sum", "s_net", "pre", G, f"w*({x}_post - {F}_post)", "Hz"))
        elif kind == "alignment":  # dv = B (x - W D x)
            plan.append(("sum", "s_fb", "post", G, f"bfb*({x}_pre - {F}_pre)", "Hz"))
        else:  # microcircuit: dv = B x - W_PI du_I, du_I = (1 - beta_I) W_IP (D x) + beta_I B_IP x
            plan += [("sum", "s_ip", "post", f"QI{r}", f"wip*D_pre*{x}_pre", "Hz"),
                     ("sum", "s_bip", "post", f"QB{r}", f"bip*{x}_pre", "Hz"),
                     ("inter", f"QI{r} : Hz\nQB{r} : Hz\ndI{r} = (1 - beta_I)*QI{r} + beta_I*QB{r} : Hz"),
                     ("sum", "s_b", "post", f"GB{r}", f"bfb*{x}_pre", "Hz"),
                     ("sum", "s_pi", "post", f"GP{r}", f"wpi*dI{r}_pre", "Hz"),
                     ("assign", f"{G} = GB{r} - GP{r}", "Hz")]
        plan.append(("assign", f"x{r + 1} = {x} + (g - ({x} - {F} - D2*V1*{x} - D*{G} + beta_n*{x}))/pc", "Hz"))
    plan.append(("assign", f"ud = x{sweeps}", "Hz"))
    return plan


#: Conjugate-gradient iterations per step for recurrent networks with transpose feedback (at most
#: the number of units per lane: CG is exact after that many, in exact arithmetic).
CG_ITERATIONS = 12


def _h_times(kind: str, x: str, out: str, tag: str) -> list:
    """Plan steps for out = H x (transpose feedback): x - W (D x) - D W^T (x - W D x) + (beta - D2 v) x."""
    return [("sum", "s_net", "post", f"F{tag}", f"w*D_pre*{x}_pre", "Hz"),
            ("sum", "s_net", "pre", f"G{tag}", f"w*({x}_post - F{tag}_post)", "Hz"),
            ("assign", f"{out} = {x} - F{tag} - D*G{tag} + (beta_n - D2*V1)*{x}", "Hz")]


def _reduce(name: str, expr: str) -> list:
    """Plan steps for a per-lane sum over the lane's units, broadcast back to each unit (Hz^2)."""
    return [("sum", "s_red", "post", f"R{name}", expr, "Hz**2"), ("sum", "s_bc", "post", name, f"R{name}_pre", "Hz**2")]


def cg_plan(iterations: int, drift: bool = False, inputs: bool = True) -> list:
    """The explicit scheme's H du/dt = g for a recurrent network with transpose feedback, where
    H = (I - D W^T)(I - W D) + diag(beta - D2 v) is symmetric (positive definite unless rho''
    v outweighs the nudging): conjugate gradients, warm-started from the last step's du/dt, with
    per-lane inner products (sums over a lane's units). Exact after n iterations for n units;
    no contraction condition (trained recurrent weights break the Jacobi sweeps')."""
    plan = drift_plan("transpose", inputs) if drift else []
    plan.append(("assign", "g = -(eps - ebar)/tau - (eps_t - ebar_t)" + (" - drift" if drift else ""), "Hz"))
    plan += _h_times("transpose", "ud", "Hx", "c")
    plan += [("assign", "r0 = g - Hx", "Hz"), ("assign", "p0 = r0", "Hz"), ("assign", "x0 = ud", "Hz")]
    plan += _reduce("rr0", "r0_pre**2")
    tiny = "1e-300*Hz**2"
    for k in range(iterations):
        plan += _h_times("transpose", f"p{k}", f"Ap{k}", f"{k}")
        plan += _reduce(f"pAp{k}", f"p{k}_pre*Ap{k}_pre")
        plan += [("assign", f"x{k + 1} = x{k} + rr{k}/(pAp{k} + {tiny})*p{k}", "Hz"),
                 ("assign", f"r{k + 1} = r{k} - rr{k}/(pAp{k} + {tiny})*Ap{k}", "Hz")]
        if k + 1 < iterations:
            plan += _reduce(f"rr{k + 1}", f"r{k + 1}_pre**2")
            plan.append(("assign", f"p{k + 1} = r{k + 1} + rr{k + 1}/(rr{k} + {tiny})*p{k}", "Hz"))
    plan.append(("assign", f"ud = x{iterations}", "Hz"))
    return plan


def _solve_variables(plan) -> list:
    """Declarations of the solve's variables in the net group (Hz unless a step says otherwise)."""
    units = {}
    for step in plan:
        if step[0] == "assign":
            units[step[1].split(" = ")[0]] = step[2] if len(step) > 2 else "Hz"
        elif step[0] == "sum" and step[1] in ("s_net", "s_in", "s_fb", "s_b", "s_pi", "s_bc"):
            units[step[3]] = step[5]
    units.pop("ud", None)
    return [f"{name} : {unit}" for name, unit in sorted(units.items())]


def _projection(name, source, mask, W, eta, L, n_pre, n_post, learn, sums, pre_rate, order) -> Syn:
    i, j, flat = pairs(mask, L, n_pre, n_post)
    weight = ["dw/dt = eta_s*eps_post*" + pre_rate + " : 1 (clock-driven)",
              "eta_s : Hz (constant)"] if learn else ["w : 1"]
    init = {"w": W.reshape(-1)[flat]}
    if learn:
        init["eta_s"] = (eta.reshape(-1)[flat], "Hz")
    return Syn(name=name, source=source, target="net", i=i, j=j, model="\n".join(weight + sums),
               method="euler" if learn else None, init=init, summed_order=order, order=ORDER["plasticity"])


#: The apical compartment of a microcircuit's pyramidal neurons: v = B u - W_PI u_I (top-down input
#: minus the interneurons' prediction of it) and, for the previous-step scheme, dv/du applied to
#: du/dt_prev: V3 = B du/dt_prev - W_PI du_I/dt.
MICRO_APICAL = ["VB1 : 1", "VP1 : 1", "VB3 : Hz", "VP3 : Hz", "V1 = VB1 - VP1 : 1", "V2 = 0*Hz : Hz",
                "V3 = VB3 - VP3 : Hz"]


def _plastic(name: str, rule: str, weights: np.ndarray, eta: np.ndarray, flat, learn: bool) -> tuple[list, dict]:
    """Model lines and initial values of a weight ``name``: plastic with d name/dt = eta_s rule, or constant."""
    init: dict = {name: weights.reshape(-1)[flat]}
    if not learn:
        return [f"{name} : 1 (constant)"], init
    init["eta_s"] = (eta.reshape(-1)[flat], "Hz")
    return [f"d{name}/dt = eta_s*{rule} : 1 (clock-driven)", "eta_s : Hz (constant)"], init


def _microcircuit(weights, st, s, L: int, learn: bool) -> tuple[list, list]:
    """The interneurons (group ``inter``) and the microcircuit's synapses (Eqs 9-13):
    u_I = (1 - beta_I) W_IP r_bar + beta_I B_IP u and its change along du/dt_prev; the apical sums
    of the pyramidal neurons (B u through ``s_b``, W_PI u_I through ``s_pi``); plasticity
    dW_IP/dt = eta_IP (u_I - W_IP r_bar) r_bar^T and dW_PI/dt = eta_PI v u_I^T."""
    m, n = st.n_inter, st.n
    masks = microcircuit_masks(st)
    inter = Group(name="inter", n=L * m, method="euler", order=ORDER["net"],
                  model="\n".join(["P1 : 1", "P2 : 1", "Q1 : Hz", "Q2 : Hz", "uI = (1 - beta_I)*P1 + beta_I*P2 : 1",
                                   "duI = (1 - beta_I)*Q1 + beta_I*Q2 : Hz"]),
                  namespace={"beta_I": (s.beta_I, "1")})
    i, j, flat = pairs(masks["W_IP"], L, n, m)
    lines, init = _plastic("wip", "(uI_post - P1_post)*rb_pre", weights.W_IP, s.eta_IP, flat, learn)
    s_ip = Syn(name="s_ip", source="net", target="inter", i=i, j=j, init=init, method="euler" if learn else None,
               model="\n".join(lines + ["P1_post = wip*rb_pre : 1 (summed)",
                                        "Q1_post = wip*D_pre*ud_pre : Hz (summed)"]),
               summed_order={"P1_post": ORDER["sums"], "Q1_post": ORDER["sums"]}, order=ORDER["plasticity"])
    i, j, flat = pairs(masks["B_IP"], L, n, m)
    s_bip = Syn(name="s_bip", source="net", target="inter", i=i, j=j, init={"bip": weights.B_IP.reshape(-1)[flat]},
                model="bip : 1 (constant)\nP2_post = bip*u_pre : 1 (summed)\nQ2_post = bip*ud_pre : Hz (summed)",
                summed_order={"P2_post": ORDER["sums"], "Q2_post": ORDER["sums"]})
    i, j, flat = pairs(masks["W_PI"], L, m, n)
    lines, init = _plastic("wpi", "V1_post*uI_pre", weights.W_PI, s.eta_PI, flat, learn)
    s_pi = Syn(name="s_pi", source="inter", target="net", i=i, j=j, init=init, method="euler" if learn else None,
               model="\n".join(lines + ["VP1_post = wpi*uI_pre : 1 (summed)", "VP3_post = wpi*duI_pre : Hz (summed)"]),
               summed_order={"VP1_post": ORDER["feedback"], "VP3_post": ORDER["feedback"]}, order=ORDER["plasticity"])
    i, j, flat = pairs(st.mask_W.T, L, n, n)
    s_b = Syn(name="s_b", source="net", target="net", i=i, j=j, init={"bfb": weights.B.reshape(-1)[flat]},
              model="bfb : 1 (constant)\nVB1_post = bfb*u_pre : 1 (summed)\nVB3_post = bfb*ud_pre : Hz (summed)",
              summed_order={"VB1_post": ORDER["feedback"], "VB3_post": ORDER["feedback"]})
    return [inter], [s_ip, s_bip, s_pi, s_b]


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
            for syn, var, matrix in (("s_net", "w", self.weights.W), ("s_in", "w", self.weights.W_in),
                                     ("s_ip", "wip", self.weights.W_IP), ("s_pi", "wpi", self.weights.W_PI)):
                if syn in objs:
                    s = objs[syn]
                    matrix[np.asarray(s.j[:]), np.asarray(s.i[:])] = np.asarray(getattr(s, var)[:])
            self.weights.b[:] = np.asarray(net.b[:])
        if not np.isfinite(self.state.u).all():
            raise Brian2NLAError("the Brian2 NLA run diverged (non-finite voltages)")
