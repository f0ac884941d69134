"""Rate reference throughput on a population of 10,000 Kim synapses over t in [0, 10] s.

Baseline, in the same process: the same reference run synapse by synapse (a Python loop over
single-synapse models), timed on a sample of synapses and scaled to the population. The
sampled synapses are also checked to give the same trajectories as the population run.
Reports synapse-steps per second both ways, their ratio, and the peak traced memory.
"""

from __future__ import annotations

import argparse

import numpy as np

import neuromorph as nm
from neuromorph import spec

from _common import peak_memory, report, timed


def population_spec(n: int, duration: float) -> dict:
    return {
        "format_version": 1,
        "family": "bm",
        "name": "bench_population",
        "population": {"size": n},
        "params": {
            "m_mu": 5.0, "m_w": 0.5,
            "gamma_mu": {"uniform": [0.5, 1.5]}, "gamma_w": {"uniform": [0.05, 0.15]},
            "mu_d": {"normal": [5.0, 1.0]}, "w_d": {"normal": [5.0, 1.0]},
            "hebbian_sign": -1,
        },
        "inputs": {"s": "5*cos(t + 0.001*i)"},
        "initial": {"mu": 5.0, "w": 5.0},
        "time": {"duration": duration, "dt": 0.001, "integrator": "rk4"},
        "record": {"variables": ["mu", "w"], "dt": 0.1},
        "seed": 1,
    }


def single_spec(pop: dict, values: dict, k: int) -> dict:
    one = dict(pop, population=None, name=f"bench_single_{k}")
    one["params"] = dict(pop["params"], **{name: float(v[k]) for name, v in values.items()})
    one["inputs"] = {"s": f"5*cos(t + 0.001*{k})"}
    return one


def main(n: int, sample: int, duration: float) -> dict:
    data = population_spec(n, duration)
    model = spec.validate_data(data)[0]
    run, wall_pop = timed(nm.simulate, model)
    peak_pop = peak_memory(nm.simulate, model)
    from neuromorph.families import bm

    params = bm.resolve(model).params
    values = {k: getattr(params, k) for k in ("gamma_mu", "gamma_w", "mu_d", "w_d")}
    picks = np.linspace(0, n - 1, sample).astype(int)
    wall_loop = 0.0
    worst = 0.0
    for k in picks:
        single = spec.validate_data(single_spec(data, values, k))[0]
        one, wall = timed(nm.simulate, single)
        wall_loop += wall
        for var in ("mu", "w"):
            worst = max(worst, float(np.abs(one.result.traces[var] - run.result.traces[var][:, k]).max()))
    steps = round(duration / 0.001)
    per_synapse = wall_loop / sample
    rows = {
        "synapses": n,
        "steps": steps,
        "population_wall_s": wall_pop,
        "population_synapse_steps_per_s": n * steps / wall_pop,
        "loop_wall_s_per_synapse": per_synapse,
        "loop_synapse_steps_per_s": steps / per_synapse,
        "speedup_vs_loop": per_synapse * n / wall_pop,
        "population_peak_traced_memory_mib": peak_pop,
        "max_abs_diff_population_vs_loop": worst,
        "loop_sample": sample,
    }
    report("bm_population", rows)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--synapses", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=5, help="synapses timed one by one for the baseline")
    ap.add_argument("--duration", type=float, default=10.0)
    args = ap.parse_args()
    main(args.synapses, args.sample, args.duration)
