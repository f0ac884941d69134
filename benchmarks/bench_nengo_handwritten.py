"""neuromorph's compiled Nengo network against the same network written by hand in Nengo.

The network: nla_digits with its shipped (rate-trained) weights, one copy (64 Poisson inputs,
100 LIF neurons, 10 read-out voltages), 20 test images of 100 ms each (2 s, dt = 1 ms), spike
counters on both populations. The hand-written version below is what a Nengo user would type.
Both are built and run (nengo.Simulator) in this process, alternating, best of ``--repeats``;
the ratio compares build + run time. The compiled network is then built and run on NengoLoihi's
emulator and the emulator / reference ratio reported.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import numpy as np

from neuromorph import backends, families, spec
from neuromorph.backends.nengo.common import SpikeCounter, quiet, simulator
from neuromorph.families import nla
from neuromorph.graph import legalize
from neuromorph.tasks import make_task

from _common import report

IMAGES = 20


def setup():
    model = spec.load("models/nla_digits.yaml")
    model = dataclasses.replace(model, learning=dataclasses.replace(model.learning, lanes=1))
    model = dataclasses.replace(model, task=dataclasses.replace(model.task, duration=IMAGES * 0.1))
    st = nla.structure(model)
    weights = nla.model_weights(model, st, "models")
    return model, st, weights, make_task(model).eval_protocol()


def handwritten(model, st, weights, protocol):
    """The same network as a person writes it."""
    import nengo

    x = protocol.x[:, 0]
    sp, n = model.spiking, model.neuron
    h, o = st.layers  # the hidden and the output neurons' indices
    with nengo.Network(seed=model.seed) as net:
        stim = nengo.Node(lambda t: x[min(int((t - 0.0005) / 0.001), len(x) - 1)])
        inp = nengo.Ensemble(64, 1, neuron_type=nengo.PoissonSpiking(nengo.RectifiedLinear()),
                             gain=np.full(64, sp.input_rate), bias=np.zeros(64))
        nengo.Connection(stim, inp.neurons, synapse=None)
        hid = nengo.Ensemble(100, 1, neuron_type=nengo.LIF(tau_rc=n.tau_rc, tau_ref=n.tau_ref),
                             gain=np.ones(100), bias=weights.b[h])
        nengo.Connection(inp.neurons, hid.neurons, transform=weights.W_in[h] / sp.input_rate,
                         synapse=nengo.Alpha(sp.tau_syn))
        out = nengo.Node(lambda t, v: v, size_in=10)
        nengo.Connection(hid.neurons, out, transform=weights.W[o, h] * n.amplitude,
                         synapse=nengo.Alpha(sp.tau_syn))
        nengo.Connection(nengo.Node(weights.b[o]), out, synapse=None)
        probe = nengo.Probe(out, synapse=None)
        for ens in (inp, hid):
            nengo.Connection(ens.neurons, nengo.Node(SpikeCounter(ens.n_neurons), size_in=ens.n_neurons, size_out=0),
                             synapse=None)
    return net, probe


def compiled(name, model, weights, protocol):
    """The network neuromorph builds: the family's graph, legalized for the backend, built."""
    backend = backends.get(name)
    graph = legalize(families.of(model).lower(model, weights, backend.traits(), 1), backend.traits())
    duration = protocol.steps * model.dynamics.dt
    return backend.network(graph, {"x": protocol.x[:, :1]}, model.dynamics.dt, duration, model.seed).net


def build_and_run(net, steps, backend="nengo", target=None):
    start = time.perf_counter()
    with quiet(), simulator(net, backend, 0, target) as sim:
        sim.run_steps(steps)
    return time.perf_counter() - start


def main(repeats: int) -> dict:
    warnings.simplefilter("ignore")
    model, st, weights, protocol = setup()
    steps = protocol.steps
    ours = compiled("nengo", model, weights, protocol)
    hand, _ = handwritten(model, st, weights, protocol)
    build_and_run(hand, steps), build_and_run(ours, steps)  # warm-up
    t_hand, t_comp = [], []
    for _ in range(repeats):
        t_hand.append(build_and_run(hand, steps))
        t_comp.append(build_and_run(ours, steps))
    on_loihi = compiled("loihi", model, weights, protocol)
    emulator = min(build_and_run(on_loihi, steps, "loihi", "sim") for _ in range(max(1, repeats // 2)))
    rows = {
        "network": "nla_digits 64-100-10, one copy", "images": IMAGES, "steps": steps, "repeats": repeats,
        "handwritten_s": min(t_hand), "compiled_s": min(t_comp),
        "compiled_over_handwritten": min(t_comp) / min(t_hand),
        "emulator_s": emulator, "emulator_over_reference": emulator / min(t_comp),
        "handwritten_runs_s": [round(x, 4) for x in t_hand], "compiled_runs_s": [round(x, 4) for x in t_comp],
    }
    report("nengo_handwritten", rows)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    main(ap.parse_args().repeats)
