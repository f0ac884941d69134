"""BM (Kim 2024) compiled to Brian2: the four Hamilton equations as continuous equations."""

from __future__ import annotations

from typing import cast

import numpy as np

from ... import expr
from ...equations import Group, Monitor, Program, Readout, TimedInput
from ...graph import Substitution
from ...spec.checks import steps
from . import maths as bm

#: Brian2 spellings of the expression functions it lacks.
CALLS = {
    "min": lambda a: f"clip({a[0]}, -inf, {a[1]})",
    "max": lambda a: f"clip({a[0]}, {a[1]}, inf)",
}

EQUATIONS = """
dmu/dt = p_mu/(m_mu*second) - gamma_mu*(mu - mu_d) + w*s/second : 1
dw/dt = p_w/(m_w*second) - gamma_w*(w - w_d) + h*s*mu/second : 1
dp_mu/dt = gamma_mu*p_mu - h*s*p_w/second : 1
dp_w/dt = gamma_w*p_w - s*p_mu/second : 1
s = {s} : 1
m_mu : 1 (constant)
m_w : 1 (constant)
gamma_mu : Hz (constant)
gamma_w : Hz (constant)
mu_d : 1 (constant)
w_d : 1 (constant)
"""

METHODS = {"rk4": "rk4", "euler": "euler"}


def half_grid(model) -> np.ndarray:
    """Times k dt / 2, k = 0..2N: every point an RK4 stage evaluates the input at."""
    n = cast(int, steps(model.time.duration, model.time.dt))  # validated: a whole number of steps
    return np.arange(2 * n + 1) * (model.time.dt / 2)


def input_expression(model, system, inputs: list) -> str:
    """s(t) as a Brian2 expression; noise sources (or per-synapse inputs) become TimedArrays
    sampled at dt / 2, which is exactly where the rate reference's RK4 evaluates them."""
    grid = half_grid(model)
    dt2 = model.time.dt / 2
    value = model.inputs.s
    if isinstance(value, tuple):  # one input per synapse: tabulate s(t) itself
        inputs.append(TimedInput("nm_s", system.signal(grid), dt2))
        return "nm_s(t, i)"
    tree = expr.parse(value) if isinstance(value, str) else expr.Num(float(value))
    names = {"t": "(t/second)"}
    for name, source in system.signal.noises.items():
        values = source(grid)
        inputs.append(TimedInput(f"nm_{name}", values[:, 0] if source.streams == 1 else values, dt2))
        names[name] = f"nm_{name}(t)" if source.streams == 1 else f"nm_{name}(t, i)"
    return expr.render(tree, names, CALLS)


def rate_program(model) -> Program:
    """The BM rate model as Brian2 continuous equations, integrated like the rate reference."""
    system = bm.resolve(model)
    inputs: list = []
    s_expr = input_expression(model, system, inputs)
    notes, subs = ["the input s(t) is evaluated at every RK4 stage, as in the rate reference"], []
    method = METHODS.get(model.time.integrator)
    if method is None:
        method = "rk4"
        subs.append(Substitution("integrator", f"scipy adaptive ({model.time.method})",
                                 f"Brian2 rk4 with dt = {model.time.dt:g} s",
                                 "Brian2 has no adaptive solver without GSL"))
    p = system.params
    init = {k: v for k, v in zip(bm.STATE, system.y0)}
    init.update(m_mu=p.m_mu, m_w=p.m_w, mu_d=p.mu_d, w_d=p.w_d)
    init = {k: _compact(v) for k, v in init.items()}
    init.update(gamma_mu=(_compact(p.gamma_mu), "Hz"), gamma_w=(_compact(p.gamma_w), "Hz"))
    namespace = {"h": (float(p.hebbian_sign), "1")}
    namespace.update({t.name: t.name for t in inputs})
    group = Group(name="bm", n=system.n, model=EQUATIONS.format(s=s_expr), method=method,
                  namespace=namespace, init=init)
    variables = tuple(model.record.variables)
    monitor = Monitor(name="bm_state", group="bm", variables=variables, dt=model.record.dt)
    readouts = [Readout(name=v, monitor="bm_state", variable=v, squeeze=model.population is None) for v in variables]
    return Program(model=model.name, backend="brian2", dt=model.time.dt, duration=model.time.duration,
                   seed=model.seed, groups=[group], inputs=inputs, monitors=[monitor], readouts=readouts,
                   notes=notes, substitutions=subs)


def _compact(values: np.ndarray):
    """A scalar when all synapses share the value (reads better in the script)."""
    values = np.asarray(values, dtype=float)
    return float(values[0]) if np.all(values == values[0]) else values
