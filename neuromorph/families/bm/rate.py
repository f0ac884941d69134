"""Rate reference for the ``bm`` family: Eqs 23-26 integrated for all synapses at once."""

from __future__ import annotations

from typing import cast

import numpy as np

from ...numerics import STEPPERS, integrate_adaptive, integrate_fixed
from ...records import Result, RunInfo
from ...spec.checks import steps
from . import maths


def record_every(model) -> int:
    """Steps between recorded samples."""
    return 1 if model.record.dt is None else cast(int, steps(model.record.dt, model.time.dt))  # validated


def simulate_bm(model, progress=None, backend: str = "rate") -> Result:
    """Integrate Eqs 23-26 for every synapse of ``model`` at once (state shape (4, N))."""
    system = maths.resolve(model)
    time = model.time
    n_steps = cast(int, steps(time.duration, time.dt))  # validated: a whole number of steps

    def rhs(t, y):
        return maths.derivatives(y, system.signal(t), system.params)

    if time.integrator in STEPPERS:
        # a fixed-step method evaluates s(t) only at multiples of dt / 2: tabulate it at once
        half = time.dt / 2
        table = np.asarray(system.signal(np.arange(2 * n_steps + 1) * half))

        def rhs(t, y):  # noqa: F811 - the tabulated form of the same right-hand side
            return maths.derivatives(y, table[int(round(t / half))], system.params)

    every = record_every(model)
    select = [maths.STATE.index(v) for v in model.record.variables]
    if time.integrator in STEPPERS:
        t, ys = integrate_fixed(rhs, system.y0, time.dt, n_steps, time.integrator, every, select, progress)
    else:
        t_rec = np.arange(n_steps // every + 1) * (every * time.dt)
        t, ys = integrate_adaptive(rhs, system.y0, t_rec, time.method, time.rtol, time.atol, select)
    traces = {}
    for j, name in enumerate(model.record.variables):
        trace = ys[:, j, :]
        traces[name] = trace if model.population else trace[:, 0]
    details = {
        "integrator": time.integrator if time.integrator in STEPPERS else f"scipy {time.method}",
        "synapses": system.n,
        "seeds": system.seeds,
    }
    if time.integrator == "scipy":
        details.update(rtol=time.rtol, atol=time.atol)
    info = RunInfo(backend=backend, dt=time.dt, steps=n_steps, simulated_s=time.duration, details=details,
                   hardware={"runs_on": "CPU (NumPy/SciPy)"})
    return Result(t=t, traces=traces, info=info)
