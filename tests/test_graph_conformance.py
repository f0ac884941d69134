"""One conformance suite for every registered spiking backend: small network graphs run against
their exact solutions. A new backend registered under ``neuromorph.backends`` is tested here
without a line changed.

Tolerances, and why:
- spike times: within one simulation step of the exact first-passage times (the step grid);
  intervals between spikes within one step of the exact interval;
- synapse impulse responses: within 2 % of the peak of the exact response delayed by up to two
  steps (an input spike falls in the step that starts at its time; a target's discrete filter
  holds it over that step, and Nengo's synapses write their output at the end of a step);
- filters primed from their input's past: the exact free response within 1 % of the past input's
  level from the third step on (Nengo's value nodes read 0 for two steps), delayed by up to two
  steps;
- affine chains: 1e-9; a recurrent loop of values: within 1 % of the final value of the exponential
  solution delayed by up to one step (a target's discrete filter may delay its output a step);
- encoder statistics: Poisson / Bernoulli mean rates within 4 standard errors, Fano factor
  within 0.15 of its expected value; regular encoders' counts exact;
- capped integrate-and-fire units (the hard sigmoid): rates within one spike per window of the
  exact curve where the reset subtracts; where the chip resets to 0, within 1/(2m) of the top
  rate (m compartments per unit, legalize.if_split_on_chip) -- one compartment alone misses by up
  to half the top rate.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuromorph import backends
from neuromorph.backends.base import SpikingBackend
from neuromorph.graph import (IF, LI, LIF, Alpha, BernoulliEncoder, Connection, DoubleExp, Graph, Input, Integrator,
                              Lowpass, PoissonEncoder, Probe, RegularEncoder, legalize)


def spiking_backends() -> list:
    return [name for name in backends.names() if isinstance(backends.get(name), SpikingBackend)]


@pytest.fixture(params=spiking_backends())
def backend(request):
    return backends.get(request.param)


def run(backend, graph, duration, inputs=None, input_dt=None, sample_dt=None):
    legal = legalize(graph, backend.traits())
    return legal, backend.run_graph(legal, inputs=inputs, input_dt=input_dt, duration=duration,
                                    sample_dt=sample_dt or legal.dt, seed=3)


def lif_spike_times(J: float, tau_rc: float, tau_ref: float, duration: float) -> np.ndarray:
    """Exact spike times of a LIF neuron from v = 0 with constant input J > 1 (threshold 1)."""
    rise = tau_rc * np.log(J / (J - 1.0))
    return np.arange(rise, duration, rise + tau_ref)


@pytest.mark.parametrize("tau_ref", [0.0, 0.004])
def test_single_lif_neuron_spikes_at_its_exact_times(backend, tau_ref):
    graph = Graph("lif", {"n": LIF(1, tau_rc=0.02, tau_ref=tau_ref, bias=1.5, v0=np.zeros(1))},
                  probes={"s": Probe("n", "spikes")}, dt=0.0001)
    legal, rec = run(backend, graph, 0.3)
    dt = legal.dt
    counts = rec.probes["s"][:, 0, 0]
    times = (np.flatnonzero(counts) + 1) * dt  # a spike is seen at the end of its step
    exact = lif_spike_times(1.5, 0.02, tau_ref, 0.3)
    assert abs(len(times) - len(exact)) <= 1
    n = min(len(times), len(exact))
    assert abs(times[0] - exact[0]) <= dt + 1e-12
    assert np.max(np.abs(np.diff(times[:n]) - np.diff(exact[:n]))) <= dt + 1e-12


def impulse_graph(synapse) -> Graph:
    nodes = {"src": Input(1, kind="spikes"), "out": LI(1)}
    return Graph("impulse", nodes, (Connection("src", "out", 2.0, synapse),), probes={"y": Probe("out")}, dt=0.0001)


def exact_kernel(synapse, s):
    """The synapse's impulse response at times s >= 0 (s), written out per kind."""
    if isinstance(synapse, Lowpass):
        return np.exp(-s / synapse.tau) / synapse.tau
    if isinstance(synapse, Alpha):
        return s / synapse.tau**2 * np.exp(-s / synapse.tau)
    t1, t2 = synapse.tau, synapse.tau2
    return (np.exp(-s / t1) - np.exp(-s / t2)) / (t1 - t2)


@pytest.mark.parametrize("synapse", [Lowpass(0.01), Alpha(0.005), DoubleExp(0.002, 0.01)],
                         ids=["lowpass", "alpha", "double_exp"])
def test_synapse_impulse_response(backend, synapse):
    step = 0.001
    spikes = np.zeros((100, 1))
    spikes[10] = 1.0  # one spike at t = 10 ms
    legal, rec = run(backend, impulse_graph(synapse), 0.1, inputs={"src": spikes}, input_dt=step, sample_dt=step)
    y = rec.probes["y"][:, 0, 0]
    t = rec.t

    def exact(s):
        s = np.clip(s, 0.0, None)
        return 2.0 * exact_kernel(synapse, s) * (s > 0)

    shifts = np.linspace(0.0, 2 * legal.dt, 41)
    error = np.min([np.abs(y[1:] - exact(t[1:] - 0.01 - s)) for s in shifts], axis=0)
    peak = np.max(exact(t - 0.01))
    assert np.max(error) <= 0.02 * peak
    assert np.sum(y) * step == pytest.approx(2.0, rel=0.05)  # unit-area kernel times the weight


def test_a_primed_two_stage_filter_starts_where_its_past_left_it(backend):
    """A DoubleExp edge whose input was c for a long time before t = 0 and is 0 after: both stages
    start at c, so the output is the free response c (t1 e^(-t/t1) - t2 e^(-t/t2)) / (t1 - t2),
    within 1 % of c from the third step on, allowing up to two steps' delay (a primed Lowpass in the
    same graph: c e^(-t/tau))."""
    t1, t2, c = 0.004, 0.02, 1.5
    past = np.full((1600, 1), c)  # 0.4 s, 0.25 ms apart (Brian2 integrates it by the trapezoid rule)
    nodes = {"src": Input(1), "two": LI(1), "one": LI(1)}
    edges = (Connection("src", "two", 1.0, DoubleExp(t1, t2), history=past, history_dt=0.00025),
             Connection("src", "one", 1.0, Lowpass(t2), history=past, history_dt=0.00025))
    graph = Graph("primed", nodes, edges, probes={"two": Probe("two"), "one": Probe("one")}, dt=0.0001)
    _, rec = run(backend, graph, 0.1, inputs={"src": np.zeros((100, 1))}, input_dt=0.001, sample_dt=0.001)
    t = rec.t[2:]
    exact = {"two": lambda s: c * (t1 * np.exp(-s / t1) - t2 * np.exp(-s / t2)) / (t1 - t2),
             "one": lambda s: c * np.exp(-s / t2)}
    for key, free in exact.items():
        y = rec.probes[key][2:, 0, 0]
        error = np.min([np.abs(y - free(np.clip(t - s, 0.0, None))) for s in np.linspace(0.0, 0.002, 21)], axis=0)
        assert np.max(error) <= 0.01 * c, key


def test_affine_chain_of_values(backend):
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)), rng.normal(size=2)
    nodes = {"x": Input(3), "a": LI(4, bias=b1), "b": LI(2, bias=b2)}
    graph = Graph("chain", nodes, (Connection("x", "a", W1), Connection("a", "b", W2)),
                  probes={"y": Probe("b")}, dt=0.001)
    x = rng.uniform(-1, 1, (50, 2, 3))  # 50 steps, 2 copies
    graph = graph.replace(copies=2)
    _, rec = run(backend, graph, 0.05, inputs={"x": x}, input_dt=0.001, sample_dt=0.001)
    expected = (x @ W1.T + b1) @ W2.T + b2  # (steps, copies, 2): the value during step k
    got = rec.probes["y"]
    np.testing.assert_allclose(got[1:], expected, rtol=0, atol=1e-9)


def test_recurrent_loop_of_values(backend):
    a, b, tau = 0.5, 1.0, 0.05
    nodes = {"v": LI(1, tau=tau, bias=b, v0=np.zeros(1))}
    graph = Graph("loop", nodes, (Connection("v", "v", a),), probes={"v": Probe("v")}, dt=0.0001)
    _, rec = run(backend, graph, 0.3, sample_dt=0.001)
    def exact(t):
        return b / (1 - a) * (1 - np.exp(-(1 - a) * np.clip(t, 0, None) / tau))

    v = rec.probes["v"][:, 0, 0]
    error = np.min([np.abs(v[1:] - exact(rec.t[1:] - s)) for s in np.linspace(0, 0.001, 11)], axis=0)
    assert np.max(error) <= 0.01 * exact(rec.t[-1])


def encoder_graph(node) -> Graph:
    return Graph("enc", {"x": Input(1), "e": node}, (Connection("x", "e", np.ones((node.size, 1))),),
                 probes={"s": Probe("e", "spikes")}, dt=0.0001)


@pytest.mark.parametrize("kind", [PoissonEncoder, BernoulliEncoder])
def test_random_encoders_fire_at_their_rate(backend, kind):
    n, duration, x, rate = 400, 1.0, 0.5, 100.0
    legal, rec = run(backend, encoder_graph(kind(n, 2 * rate)), duration, inputs={"x": np.full((1, 1), x)},
                     input_dt=duration, sample_dt=duration)
    counts = rec.probes["s"][:, 0, :].sum(axis=0)
    mean = rate * duration
    assert abs(counts.mean() - mean) <= 4 * np.sqrt(mean / n)
    p = rate * legal.dt
    fano = 1.0 if isinstance(legal.nodes["e"], PoissonEncoder) else 1.0 - p  # Bernoulli: binomial counts
    assert counts.var() / counts.mean() == pytest.approx(fano, abs=0.15)


def test_regular_encoder_counts_are_exact(backend):
    rates = np.array([37.3, 100.7, 251.9])
    phase = np.array([0.1, 0.55, 0.95])
    node = RegularEncoder(3, max_rate=1.0, phase=phase)
    graph = Graph("reg", {"x": Input(3), "e": node}, (Connection("x", "e", 1.0),), probes={"s": Probe("e", "spikes")},
                  dt=0.0001)
    duration = 0.5
    _, rec = run(backend, graph, duration, inputs={"x": rates[None]}, input_dt=duration, sample_dt=duration)
    counts = rec.probes["s"][:, 0, :].sum(axis=0)
    np.testing.assert_array_equal(counts, np.floor(phase + rates * duration))


def test_integrator_counts_spikes_and_integrates_values(backend):
    """v(T) = (bias + gain y) T + gain w (spikes delivered by T): exact, up to the spikes of the last
    step, which some targets deliver one step later."""
    rates, phase, w, gain, bias, y = np.array([40.0, 130.0]), np.array([0.3, 0.9]), np.array([0.5, -0.25]), 2.0, \
        np.array([0.1, -0.2]), 0.7
    nodes = {"x": Input(2), "y": Input(1), "e": RegularEncoder(2, max_rate=1.0, phase=phase),
             "count": Integrator(2, bias=bias, gain=gain)}
    edges = (Connection("x", "e", 1.0), Connection("e", "count", np.diag(w)), Connection("y", "count", np.ones((2, 1))))
    graph = Graph("int", nodes, edges, probes={"v": Probe("count"), "s": Probe("e", "spikes")}, dt=0.0001)
    duration = 0.3
    legal, rec = run(backend, graph, duration, inputs={"x": rates[None], "y": np.full((1, 1), y)},
                     input_dt=duration, sample_dt=legal_step(backend))
    v = rec.probes["v"][-1, 0]
    spikes = rec.probes["s"][:, 0, :]
    drive = (bias + gain * y) * duration
    through_last = drive + gain * w * spikes.sum(axis=0)
    before_last = drive + gain * w * spikes[:-1].sum(axis=0)
    assert np.all(np.isclose(v, through_last, atol=1e-9) | np.isclose(v, before_last, atol=1e-9)), (v, through_last)
    assert spikes.sum() == np.floor(phase + rates * duration).sum()


def test_capped_if_units_fire_at_the_hard_sigmoid_rate(backend):
    """An IF unit with reset by subtraction and tau = tau_ref = 1 ms fires at 1 kHz clip(J, 0, 1):
    measured from an integrating read-out (spike counts times the outgoing weights, so the
    compartments a chip makes of each unit are summed as the network sums them) over 0.5 s."""
    J = np.linspace(-0.2, 1.5, 35)
    top, duration = 1000.0, 0.5
    nodes = {"n": IF(J.size, tau=1e-3, tau_ref=1e-3, bias=J, v_min=0.0, v_max=2.0), "count": Integrator(J.size)}
    graph = Graph("if", nodes, (Connection("n", "count", np.eye(J.size) / top),), probes={"v": Probe("count")},
                  dt=0.0001)
    legal, rec = run(backend, graph, duration, sample_dt=duration)
    rate = rec.probes["v"][-1, 0] * top / duration
    exact = top * np.clip(J, 0.0, 1.0)
    split = legal.meta.get("split_units", {}).get("n")
    if split is None:
        assert np.max(np.abs(rate - exact)) <= 2.0 / duration
    else:  # each copy's staircase 1/ceil(1/c) misses by less than half a spike per step
        assert np.max(np.abs(rate - exact)) <= top / (2 * split["copies"]) + 2.0 / duration
        one = top / np.ceil(1.0 / np.clip(J[J > 0], 1e-9, 1.0))  # a single compartment reset to 0
        assert np.max(np.abs(one - exact[J > 0])) >= 0.4 * top


def legal_step(backend) -> float:
    return backend.traits().step(0.0001)
