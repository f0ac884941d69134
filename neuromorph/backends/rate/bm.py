"""Rate reference for the ``bm`` family: Eqs 23-26 integrated for all synapses at once."""

from __future__ import annotations

import numpy as np

from ...families import bm
from ...numerics import STEPPERS, integrate_adaptive, integrate_fixed
from ...spec.checks import steps
from ..base import Result


def record_every(model) -> int:
    """Steps between recorded samples."""
    return 1 if model.record.dt is None else steps(model.record.dt, model.time.dt)


def simulate_bm(model, progress=None) -> Result:
    """Integrate Eqs 23-26 for every synapse of ``model`` at once (state shape (4, N))."""
    system = bm.resolve(model)
    time = model.time

    def rhs(t, y):
        return bm.derivatives(y, system.signal(t), system.params)

    n_steps = steps(time.duration, time.dt)
    every = record_every(model)
    select = [bm.STATE.index(v) for v in model.record.variables]
    if time.integrator in STEPPERS:
        t, ys = integrate_fixed(rhs, system.y0, time.dt, n_steps, time.integrator, every, select, progress)
    else:
        t_rec = np.arange(n_steps // every + 1) * (every * time.dt)
        t, ys = integrate_adaptive(rhs, system.y0, t_rec, time.method, time.rtol, time.atol, select)
    traces = {}
    for j, name in enumerate(model.record.variables):
        trace = ys[:, j, :]
        traces[name] = trace if model.population else trace[:, 0]
    info = {
        "integrator": time.integrator if time.integrator in STEPPERS else f"scipy {time.method}",
        "dt": time.dt,
        "steps": n_steps,
        "synapses": system.n,
        "seeds": system.seeds,
    }
    if time.integrator == "scipy":
        info.update(rtol=time.rtol, atol=time.atol)
    return Result(t=t, traces=traces, info=info)
