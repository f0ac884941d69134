r"""pc inference as Brian2 rate equations (the ``brian2`` backend), step for step the rate reference's.

One group ``net`` holds every value node of every lane (the layers one after another, as the
weights' global vector), one group ``inp`` the low-pass filtered input rates:

.. code-block:: text

    du/dt = (-eps + D*V1)/tau         value node x (u here), forward Euler
    eps = u - A_net - A_in - b        error eps_l = x_l - mu_l
    rb, D = f(u), f'(u)               the transfer function's lines (as for nla)
    A_net_post = w*rb_pre  (summed)   W f(x_{l-1})            (synapses s_net)
    A_in_post = w*xbar_pre (summed)   W_1 x_0                 (synapses s_in)
    V1_pre = w*eps_post    (summed)   W_{l+1}^T eps_{l+1}     (s_net, backwards)
    dxbar/dt = (x - xbar)/tau_in      input rates x(t) from a TimedArray

Output units have no synapses out, so V1 = 0 there and du/dt = -eps/tau: the output is free.
The summed variables are computed before the groups step (errors after predictions), so every
step uses the state at its start, as the NumPy reference does.
"""

from __future__ import annotations

import numpy as np

from ...equations import Group, Monitor, Program, Readout, Syn, TimedInput
from ...records import RunInfo
from ..nla.brian2 import ORDER, pairs, rho_lines
from . import maths
from .network import blocks, layers_of, transfer


class Brian2PCEngine:
    """The task-engine interface on Brian2: each protocol becomes one program, run in one go by
    ``run_program`` (the backend's runner); the value nodes carry over between protocols."""

    def __init__(self, model, run_program, weights):
        self.model, self.run_program, self.weights = model, run_program, weights
        self.structure = layers_of(model)
        self.f = transfer(model)
        self.lanes = model.learning.lanes
        self.stats = {"steps": 0}
        self.xs: list = []
        self.notes: list = []

    def reset(self, x0) -> None:
        Ws, bs = blocks(self.weights, self.structure)
        self.xs = maths.forward(Ws, bs, np.asarray(x0, dtype=float), self.f)

    def program(self, protocol, record=(), every: int = 1) -> Program:
        """The Brian2 program of ``protocol`` from the current state (reset first if it says so)."""
        if protocol.x0 is not None:
            self.reset(protocol.x0)
        st, n_mod = self.structure, self.model.neuron
        K, L, n, n_in = protocol.steps, protocol.x.shape[1], self.structure.n, self.structure.n_in
        dt = self.model.dynamics.dt
        rho, rho_ns = rho_lines(self.model)
        eqs = ["du/dt = (-eps + D*V1)/tau : 1", "eps = u - A_net - A_in - b : 1", "A_net : 1", "A_in : 1", "V1 : 1",
               "b : 1 (constant)"] + rho
        u0 = np.concatenate(self.xs[1:], axis=1)  # (L, n): the layers one after another
        net = Group(name="net", n=L * n, model="\n".join(eqs), method="euler", order=ORDER["net"],
                    namespace=dict({"tau": (n_mod.tau, "second")}, **rho_ns),
                    init={"u": u0.reshape(-1), "b": np.tile(self.weights.b, L)})
        inp = Group(name="inp", n=L * n_in, method="euler", order=ORDER["inp"],
                    model="dxbar/dt = (x - xbar)/tau_in : 1\nx = nm_x(t, i) : 1",
                    namespace={"tau_in": (n_mod.tau_in, "second"), "nm_x": "nm_x"},
                    init={"xbar": self.xs[0].reshape(-1)})
        i, j, flat = pairs(st.mask_W, L, n, n)
        s_net = Syn(name="s_net", source="net", target="net", i=i, j=j, order=ORDER["plasticity"],
                    model="w : 1 (constant)\nA_net_post = w*rb_pre : 1 (summed)\nV1_pre = w*eps_post : 1 (summed)",
                    init={"w": self.weights.W.reshape(-1)[flat]},
                    summed_order={"A_net_post": ORDER["sums"], "V1_pre": ORDER["feedback"]})
        i, j, flat = pairs(st.mask_in, L, n_in, n)
        s_in = Syn(name="s_in", source="inp", target="net", i=i, j=j, order=ORDER["plasticity"],
                   model="w : 1 (constant)\nA_in_post = w*xbar_pre : 1 (summed)",
                   init={"w": self.weights.W_in.reshape(-1)[flat]}, summed_order={"A_in_post": ORDER["sums"]})
        out_rows = np.zeros((L * st.n_out, L * n))
        for k in range(L):
            out_rows[k * st.n_out:(k + 1) * st.n_out, k * n + st.out.start:k * n + st.out.stop] = np.eye(st.n_out)
        monitor = Monitor(name="mon_u", group="net", variables=("u",), dt=dt, when="groups", order=ORDER["monitor"])
        readout = Readout(name="u_out", monitor="mon_u", variable="u", matrix=out_rows, lanes=L, final=True)
        notes = [f"{L} lane(s) of {n} value nodes; predictive coding inference (output free), forward Euler, "
                 f"dt = {dt:g} s"]
        return Program(model=self.model.name, backend="brian2", dt=dt, duration=K * dt, seed=self.model.seed,
                       groups=[net, inp], synapses=[s_net, s_in],
                       inputs=[TimedInput("nm_x", protocol.x.reshape(K, L * n_in), dt)], monitors=[monitor],
                       readouts=[readout], notes=notes)

    def run_protocol(self, protocol, record=(), every: int = 1, marks=(), progress=None):
        from ...tasks import marked_outputs

        prog = self.program(protocol, record, every)
        self.notes += [x for x in prog.notes if x not in self.notes]
        _, traces, _, objs = self.run_program(prog)
        L, st = protocol.x.shape[1], self.structure
        u = np.asarray(objs["net"].u[:]).reshape(L, st.n)
        self.xs = [np.asarray(objs["inp"].xbar[:]).reshape(L, st.n_in)] + [u[:, layer] for layer in st.layers]
        self.stats["steps"] += protocol.steps
        if progress is not None:
            progress(protocol.steps)
        return marked_outputs(traces["u_out"], protocol, record, every, marks)

    def run_info(self) -> RunInfo:
        dt = self.model.dynamics.dt
        steps = self.stats["steps"]
        return RunInfo(backend="brian2", dt=dt, steps=steps, simulated_s=steps * dt, notes=list(self.notes),
                       details={"engine": dict(self.stats)})
