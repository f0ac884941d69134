"""Synaptic Bayesian mechanics (Kim 2024): the ``bm`` family.

- :mod:`.maths` Hamilton's equations, fixed points, the resolved system;
- :mod:`.rate` the rate reference, :mod:`.brian2` the same equations for Brian2;
- :mod:`.population`, :mod:`.lower` population coding on the spiking network graph.
"""

from __future__ import annotations

import numpy as np

from ..base import Family
from . import maths


class BMFamily(Family):
    name = "bm"
    description = "synaptic Bayesian mechanics (Kim 2024)"

    def rate_simulate(self, model, progress=None, base_dir=None):
        from .rate import simulate_bm

        return simulate_bm(model, progress)

    def brian2_program(self, model, base_dir=None):
        from .brian2 import rate_program

        return rate_program(model)

    def brian2_simulate(self, model, run_program, progress=None, base_dir=None):
        from ...records import Result, RunInfo

        program = self.brian2_program(model)
        t, traces, _, _ = run_program(program)
        if progress is not None:
            progress(self.simulation_steps(model))
        info = RunInfo(backend="brian2", dt=program.dt, steps=self.simulation_steps(model),
                       simulated_s=program.duration, substitutions=list(program.substitutions),
                       notes=list(program.notes))
        return Result(t=t, traces=traces, info=info)

    def lower(self, model, weights, traits, copies: int = 1, nudging=None):
        from .lower import lower

        return lower(model, traits, copies)

    def graph_run(self, model, copies: int = 1, base_dir=None) -> dict:
        from ...seeds import spiking_seed

        return {"inputs": {}, "input_dt": None, "duration": model.time.duration,
                "sample_dt": model.record.dt or model.time.dt, "seed": spiking_seed(model)}

    def spiking_simulate(self, model, simulator, progress=None, base_dir=None):
        from ...graph import legalize
        from ...records import Result, graph_info

        graph = legalize(self.lower(model, None, simulator.traits()), simulator.traits())
        record = simulator.run_graph(graph, progress=progress, **self.graph_run(model))
        system = maths.resolve(model)
        n = system.n
        values = np.stack([record.probes[f"state[{k}]"][:, 0, :] for k in range(n)], axis=2)  # (T, 2, n)
        values[0] = system.y0[:2]  # row 0 is the initial state the filters were primed with
        full = {"mu": values[:, 0], "w": values[:, 1], "p_mu": np.zeros_like(values[:, 0]),
                "p_w": np.zeros_like(values[:, 0])}
        squeeze = model.population is None
        traces = {v: full[v][:, 0] if squeeze else full[v] for v in model.record.variables}
        return Result(t=record.t, traces=traces, info=graph_info(simulator, graph, [record]))

    def simulation_steps(self, model) -> int:
        from ...spec.checks import steps

        return steps(model.time.duration, model.time.dt) or 0

    def override_paths(self, model) -> dict:
        return {"duration": ("time", "duration"), "dt": ("time", "dt")}

    def summary_extras(self, model) -> dict:
        return {"analysis": analysis(model)}

    def console_lines(self, summary: dict) -> list:
        return [f"final {name} = {short(value)}" for name, value in summary["final"].items()]

    def plot_kind(self, model) -> str:
        return "phase_plane"


def analysis(model) -> dict:
    """For a constant input: the analytic fixed point (Eq 31, with the model's Hebbian sign)."""
    from ...records import summary_values as values

    s = model.inputs.s
    if isinstance(s, str) or isinstance(s, tuple) and any(isinstance(v, str) for v in s):
        return {"fixed_point": None, "note": "input is time-varying: no fixed point"}
    system = maths.resolve(model)
    fp = maths.fixed_point(np.asarray(s, dtype=float), system.params)
    return {"fixed_point": {k: values(v if model.population else np.asarray(v)[0]) for k, v in fp.items()}}


def short(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(f"{v:.4g}" for v in value[:6]) + (", ..." if len(value) > 6 else "") + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v:.4g}" for k, v in value.items())
    return str(value)
