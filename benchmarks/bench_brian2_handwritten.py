"""neuromorph's compiled Brian2 network against the same network written by hand in Brian2.

The model: 1000 Kim synapses (Table 1, anti-Hebbian), s(t) = 5 cos t, RK4, dt = 1 ms, 5 s. The
hand-written version below is what a Brian2 user would type for these equations. Both are built
and run in this process (numpy target), alternating, best of ``--repeats``; the ratio compares
run times (net.run). The same compiled program is then run with the cython target (warm cache)
and the cython / numpy ratio reported.
"""

from __future__ import annotations

import argparse
import os
import time

import brian2 as b2

from neuromorph import spec
from neuromorph.backends.brian2.program import build
from neuromorph.families.bm.brian2 import rate_program
from neuromorph.backends.brian2.targets import activate

from _common import report

N, DURATION = 1000, 5.0

DATA = {
    "format_version": 1, "family": "bm", "name": "bench", "population": {"size": N},
    "params": {"m_mu": 5.0, "m_w": 0.5, "gamma_mu": 1.0, "gamma_w": 0.1, "mu_d": 5.0, "w_d": 5.0, "hebbian_sign": -1},
    "inputs": {"s": "5*cos(t)"}, "time": {"duration": DURATION, "dt": 0.001}, "record": {"variables": ["mu", "w"]},
}


def handwritten():
    """The network as a person writes it."""
    eqs = """
    dmu/dt = p_mu/(m_mu*second) - gamma_mu*(mu - mu_d) + w*s/second : 1
    dw/dt = p_w/(m_w*second) - gamma_w*(w - w_d) + h*s*mu/second : 1
    dp_mu/dt = gamma_mu*p_mu - h*s*p_w/second : 1
    dp_w/dt = gamma_w*p_w - s*p_mu/second : 1
    s = 5*cos(t/second) : 1
    """
    ns = {"m_mu": 5.0, "m_w": 0.5, "gamma_mu": 1.0 * b2.Hz, "gamma_w": 0.1 * b2.Hz, "mu_d": 5.0, "w_d": 5.0, "h": -1.0}
    G = b2.NeuronGroup(N, eqs, method="rk4", namespace=ns, name="hand")
    M = b2.StateMonitor(G, ["mu", "w"], record=True, name="hand_mon")
    return b2.Network(G, M)


def compiled():
    program = rate_program(spec.validate_data(DATA)[0])
    return b2.Network(list(build(program).values()))


def run_time(make) -> float:
    b2.defaultclock.dt = 1 * b2.ms
    net = make()
    start = time.perf_counter()
    net.run(DURATION * b2.second, namespace={})
    return time.perf_counter() - start


def main(repeats: int) -> dict:
    activate("numpy")
    run_time(handwritten), run_time(compiled)  # warm-up (code generation caches)
    hand, comp = [], []
    for _ in range(repeats):
        hand.append(run_time(handwritten))
        comp.append(run_time(compiled))
    os.environ.setdefault("NEUROMORPH_CACHE", ".cache")
    activate("cython")
    run_time(compiled)  # compile once
    cython = min(run_time(compiled) for _ in range(repeats))
    activate("numpy")
    rows = {
        "synapses": N, "simulated_s": DURATION, "repeats": repeats,
        "handwritten_run_s": min(hand), "compiled_run_s": min(comp),
        "compiled_over_handwritten": min(comp) / min(hand),
        "compiled_cython_run_s": cython, "cython_over_numpy": cython / min(comp),
        "handwritten_runs_s": [round(x, 4) for x in hand], "compiled_runs_s": [round(x, 4) for x in comp],
    }
    report("brian2_handwritten", rows)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    main(ap.parse_args().repeats)
