"""Latency-aware compilation of NLA networks (docs/latency.md): each mechanism against an
independent computation — regular input counts, the spike-count read-out, resets between
images, the recorded substitutions, and the spec's refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuromorph import backends, families, spec
from neuromorph.families.nla import structure
from neuromorph.graph import Integrator, Probe, RegularEncoder, legalize
from neuromorph.tasks import make_task
from neuromorph.tasks.engines import (GraphEngine, lanes_of, per_presentation, presentations, window_means,
                                      with_gaps, without_gaps)

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "models" / "nla_digits.yaml"
FAST = {"encoding": "regular", "synapse": "none", "readout": "count"}


def digits(presentation=0.02, lanes=2, name="nla_digits", **spiking):
    """A shipped digits model (nla_digits) at ``presentation`` with ``spiking`` keys; the spiking
    section as written (latency: fixed) unless ``latency`` is given."""
    data = spec.to_data(spec.load(ROOT / "models" / f"{name}.yaml"))
    data["spiking"].update({"latency": "fixed", **spiking})
    data["task"]["presentation"] = presentation
    data["learning"]["lanes"] = lanes
    data["weights"] = str(ROOT / "models" / "weights" / f"{name}.npz")
    model, problems = spec.validate_data(data)
    assert model is not None, problems
    return model


def test_fast_settings_lower_to_regular_inputs_unfiltered_edges_and_a_counting_readout():
    model = digits(**FAST)
    family = families.of(model)
    graph = family.lower(model, family.weights(model), backends.get("nengo").traits(), copies=2)
    assert isinstance(graph.nodes["input"], RegularEncoder) and graph.nodes["input"].phase.shape == (2, 64)
    assert isinstance(graph.nodes["out"], Integrator)
    assert all(e.synapse is None for e in graph.edges)
    assert graph.meta["count_readout"] == {"probe": "u_out", "window": pytest.approx(0.02)}
    ids = {s.id for s in graph.substitutions}
    assert {"input.regular", "synapse.latency", "readout.count"} <= ids
    # the same seed gives the same phases; another spiking seed other ones
    again = family.lower(model, family.weights(model), backends.get("nengo").traits(), copies=2)
    np.testing.assert_array_equal(again.nodes["input"].phase, graph.nodes["input"].phase)
    other = digits(seed=7, **FAST)
    assert not np.array_equal(family.lower(other, family.weights(other), backends.get("nengo").traits(),
                                           copies=2).nodes["input"].phase, graph.nodes["input"].phase)


@pytest.mark.parametrize("backend", ["brian2-spiking", "nengo"])
def test_count_readout_is_bias_plus_weighted_spike_counts_over_the_window(backend):
    """The integrator's rise over a presentation, divided by it, against the hidden layer's spike
    counts times the output weights (an independent host computation)."""
    model = digits(**FAST)
    family, sim = families.of(model), backends.get(backend)
    weights = family.weights(model)
    graph = family.lower(model, weights, sim.traits(), copies=2)
    graph = graph.replace(probes={**graph.probes, "h": Probe("h1", "spikes")})
    legal = legalize(graph, sim.traits())
    task = make_task(model)
    x = task.protocol(task.lanes_order(task.test_idx[:4])[0], learn=False).x  # 2 images per lane, 20 ms each
    rec = sim.run_graph(legal, inputs={"x": x}, input_dt=0.001, duration=0.04, sample_dt=0.001, seed=1)
    st = structure(model)
    out, hidden = st.layers[-1], st.layers[0]
    W = weights.W[out, hidden] * model.neuron.amplitude
    counts = rec.probes["h"][20:40].sum(axis=0)  # (lanes, 100): the second image's 20 ms
    expected = weights.b[out] + counts @ W.T / 0.02
    got = (rec.probes["u_out"][40] - rec.probes["u_out"][20]) / 0.02
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_window_means_and_presentation_lanes_against_direct_computation():
    rng = np.random.default_rng(0)
    v = np.cumsum(rng.normal(size=(13, 2, 3)), axis=0)
    means = window_means(v, 4, 0.001)
    np.testing.assert_allclose(means[10], (v[10] - v[6]) / 0.004)
    np.testing.assert_allclose(means[2], (v[2] - v[0]) / 0.002)
    x = np.arange(3 * 4 * 2 * 5).reshape(12, 2, 5).astype(float)  # 3 presentations of 4 steps, 2 lanes
    lanes = lanes_of(x, 3)
    assert lanes.shape == (4, 6, 5)
    np.testing.assert_array_equal(lanes[:, 1 * 2 + 1], x[4:8, 1])  # presentation 1 of lane 1
    u = np.concatenate([np.zeros((1, 6, 5)), lanes])  # (5, 6, 5): row k after k steps
    back = per_presentation(u, 3, 2)
    np.testing.assert_array_equal(back[1:], x)
    assert presentations([4, 8, 12], 12) == 3 and presentations([4, 9, 12], 12) is None


def test_reset_between_images_equals_each_image_shown_alone():
    """With deterministic inputs (regular trains from phase 0, membranes at rest), image k of a
    reset stream gives exactly what image k alone gives."""
    model = digits(between="reset", initial="rest", **FAST)
    alone_model = digits(initial="rest", **FAST)
    family, sim = families.of(model), backends.get("brian2-spiking")
    task = make_task(model)
    order = task.lanes_order(task.test_idx[:6])[0]  # (2 lanes, 3 images)
    protocol = task.protocol(order, learn=False)
    ends = [20, 40, 60]
    engine = GraphEngine(family, model, family.weights(model), sim)
    _, out = engine.run_protocol(protocol, marks=ends)
    assert engine.graph.copies == 6 and "between.reset" in {s.id for s in engine.graph.substitutions}
    alone = GraphEngine(family, alone_model, family.weights(alone_model), sim)
    for j in range(3):
        single = task.protocol(order[:, j:j + 1], learn=False)
        _, one = alone.run_protocol(single, marks=[20])
        np.testing.assert_allclose(out[j], one[0], rtol=0, atol=1e-9)


def test_a_blank_gap_before_each_image_equals_the_stream_with_zeros_written_in():
    """between: gap runs a blank of inputs at 0 before each image and reports each image's own
    steps: the same outputs as a continuous stream whose inputs were given the zeros by hand (with
    deterministic inputs); the count read-out's window is the image's own."""
    model = digits(between="gap", gap=0.01, initial="rest", **FAST)
    plain = digits(initial="rest", **FAST)
    family, sim = families.of(model), backends.get("nengo")
    task = make_task(model)
    order = task.lanes_order(task.test_idx[:6])[0]  # (2 lanes, 3 images of 20 steps)
    protocol = task.protocol(order, learn=False)
    engine = GraphEngine(family, model, family.weights(model), sim)
    _, out = engine.run_protocol(protocol, marks=[20, 40, 60])
    assert "between.gap" in {s.id for s in engine.graph.substitutions}
    hand_x, hand_t = [], []
    for j in range(3):
        hand_x += [np.zeros((10,) + protocol.x.shape[1:]), protocol.x[20 * j:20 * (j + 1)]]
        hand_t += [np.zeros((10,) + protocol.target.shape[1:]), protocol.target[20 * j:20 * (j + 1)]]
    stream = GraphEngine(family, plain, family.weights(plain), sim)
    graph = stream.compiled(2, None)
    u = stream.readout(graph, stream.run(graph, np.concatenate(hand_x), np.concatenate(hand_t)))
    for j in range(3):
        np.testing.assert_allclose(out[j], u[30 * (j + 1)], rtol=0, atol=1e-12)
    x = np.arange(3 * 4 * 2).reshape(12, 2, 1).astype(float)  # 3 presentations of 4 steps, 2 lanes
    gapped = with_gaps(x, 3, 2)
    assert gapped.shape == (18, 2, 1) and not gapped[6:8].any() and np.array_equal(gapped[8:12], x[4:8])
    rows = np.concatenate([np.full((1, 2, 1), -1.0), gapped])
    np.testing.assert_array_equal(without_gaps(rows, 3, 2), np.concatenate([rows[:1], x]))


@pytest.mark.parametrize("change, key, words", [
    ({"readout": "count"}, "spiking.readout", "classification tasks"),
    ({"between": "reset"}, "spiking.between", "task.kind: digits"),
])
def test_count_readout_and_reset_are_refused_outside_classification(change, key, words):
    data = spec.to_data(spec.load(ROOT / "models" / "nla_teacher.yaml"))
    data["spiking"].update(change)
    model, problems = spec.validate_data(data)
    assert model is None
    assert any(p.path == key and words in p.message for p in problems), problems


def test_unfiltered_edges_need_the_count_readout_and_bm_refuses_the_keys():
    data = spec.to_data(spec.load(DIGITS))
    data["spiking"]["synapse"] = "none"
    model, problems = spec.validate_data(data)
    assert model is None and any(p.path == "spiking.synapse" and "readout: count" in p.message for p in problems)
    data = spec.to_data(spec.load(ROOT / "models" / "kim_fig3_solid.yaml"))
    data["spiking"].update(encoding="regular", rate_scale=2.0, latency="auto", calibrate={"epochs": 2})
    model, problems = spec.validate_data(data)
    assert model is None
    for key in ("encoding", "rate_scale", "latency", "calibrate"):
        assert any(p.path == f"spiking.{key}" and "NLA models" in p.message for p in problems), key


@pytest.mark.parametrize("change, key, words", [
    ({"calibrate": {"epochs": 2}, "nir_exact": True}, "spiking.calibrate", "nir_exact"),
    ({"latency": "auto", "nir_exact": True}, "spiking.latency", "latency: fixed"),
    ({"rate_scale": 0.5}, "spiking.rate_scale", "must be >= 1 (got 0.5)"),
    ({"calibrate": {"epochs": 0}}, "spiking.calibrate.epochs", "must be >= 1 (got 0)"),
    ({"between": "gap"}, "spiking.gap", "needs both between: gap and a gap > 0 s"),
    ({"gap": 0.01}, "spiking.gap", "found between: continuous, gap: 0.01"),
])
def test_latency_keys_are_refused_where_they_cannot_apply(change, key, words):
    data = spec.to_data(spec.load(ROOT / "models" / "nla_digits_nir.yaml"))
    data["spiking"].update(change)
    model, problems = spec.validate_data(data)
    assert model is None and any(p.path == key and words in p.message for p in problems), problems


def test_export_of_a_counting_readout_is_refused_by_name(tmp_path):
    from click.testing import CliRunner

    from neuromorph.cli import main
    from neuromorph.spec.yamlio import dump_yaml

    data = spec.to_data(digits(**FAST))
    path = tmp_path / "fast.yaml"
    path.write_text(dump_yaml(data))
    result = CliRunner().invoke(main, ["export", str(path), "--out", str(tmp_path / "f.nir")])
    assert result.exit_code == 2
    assert "node 'out' (Integrator): a spike-count read-out" in result.output and "readout: end" in result.output
    assert not (tmp_path / "f.nir").exists()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["loihi", "nengo", "brian2-spiking"])
def test_fast_settings_hold_the_rate_accuracy_from_50_ms(backend):
    """Regular inputs, no filter, counts: measured gaps (seed 0) 0.4 / 0.4 / 1.1 points at 50 ms and
    0.4 / 0.7 / 0.4 at 100 ms (loihi / nengo / brian2-spiking), against 43 points at 50 ms with the
    design card's defaults; the bound keeps a point of room for other seeds. (The issue's 20 ms bar
    is not met: 8 to 16.5 points, docs/latency.md.)"""
    from neuromorph.run.simulate import simulate

    for presentation in (0.05, 0.1):
        rate = simulate(digits(presentation, lanes=32), "rate", spec_file=str(DIGITS)).summary["metrics"]["accuracy"]
        spiking = simulate(digits(presentation, lanes=32, **FAST), backend,
                           spec_file=str(DIGITS)).summary["metrics"]["accuracy"]
        assert rate - spiking <= 0.015, (presentation, rate, spiking)


# -- the prospective kick ---------------------------------------------------------------------------
KICK = {"encoding": "regular", "synapse": "lowpass", "readout": "count", "prospective": True}


def kick_graph(kick: bool, W, tau_rc=0.02, tau_s=0.01):
    """Two LIF neurons at rest driven through first-order synapses by a value input x (a current
    W x), with the prospective kick's two edges (direct: W tau_rc; through the synapse: W tau_s)."""
    from neuromorph.families.nla.lower import kick_edges
    from neuromorph.graph import LIF, Connection, Graph, Input, Lowpass

    nodes = {"x": Input(1), "n": LIF(2, tau_rc, 0.002, bias=0.0, v0=np.zeros((1, 2)))}
    edges = [Connection("x", "n", W, Lowpass(tau_s))]
    if kick:
        nodes["kick"] = Input(1)
        model = digits(synapse="lowpass", readout="count", tau_syn=tau_s, prospective=True)
        edges += kick_edges(model, W, "n")
    return Graph(name="kick", nodes=nodes, edges=tuple(edges), probes={"v": Probe("n", "voltage")}, dt=1e-4,
                 copies=1, meta={"prospective": {"kick": "x"}} if kick else {})


@pytest.mark.parametrize("backend", ["brian2-spiking", "nengo"])
def test_prospective_kick_moves_the_membrane_by_delta_j_at_once(backend):
    """x steps from 0 to 1 at 10 ms: the expected current J = W x jumps by Delta J = W (0.5, 0.8,
    below threshold). With the kick the membrane is at Delta J from the next step on (within 3 %:
    the leak during the 1 ms step the kick is spread over); without it, it lags tau_rc behind the
    synapse's tau_s."""
    from neuromorph.tasks.engines import rate_of_change

    sim, dt = backends.get(backend), 1e-3
    W = np.array([[0.5], [0.8]])
    x = np.zeros((60, 1, 1))
    x[10:] = 1.0
    v = {}
    for kick in (False, True):
        graph = legalize(kick_graph(kick, W), sim.traits())
        inputs = {"x": x, "kick": rate_of_change(x, dt)} if kick else {"x": x}
        rec = sim.run_graph(graph, inputs=inputs, input_dt=dt, duration=60 * dt, sample_dt=dt, seed=1)
        v[kick] = np.asarray(rec.probes["v"])[:, 0, :]
    np.testing.assert_allclose(v[True][12:], np.broadcast_to(W[:, 0], v[True][12:].shape), rtol=0.03)
    assert np.all(v[True][:10] == 0) and np.all(v[False][15] < 0.2 * W[:, 0])


def test_the_kick_leaves_as_spike_bursts_on_chip():
    """On a chip (only spikes from off chip) the kick is a positive and a negative relay neuron per
    input whose bursts quantize Delta x to quarters, with weights +-W / 4."""
    from neuromorph.graph.legalize import KICK_LEVELS
    from neuromorph.tasks.engines import burst_counts

    W = np.array([[0.5], [0.8]])
    graph = legalize(kick_graph(True, W), backends.get("loihi").traits())
    kick = graph.nodes["kick"]
    assert kick.kind == "spikes" and kick.size == 2 and KICK_LEVELS == 4
    direct = [e for e in graph.edges if e.source == "kick" and e.synapse is None][0]
    np.testing.assert_allclose(direct.weights, np.hstack([W, -W]) * 0.02 / 4)
    assert "input.kick_as_spikes" in {s.id for s in graph.substitutions}
    change = np.zeros((8, 1, 3))
    change[1] = [0.5, -1.0, 0.1]  # 2 positive spikes, 4 negative, none (0.4 rounds to 0)
    change[4, 0, 1] = 0.25  # a new change cuts the negative burst short: 1 positive spike
    counts = burst_counts(change, 4)[:, 0]
    assert counts[:, 0].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]  # input 0, positive
    assert counts[:, 4].tolist() == [0, 1, 1, 1, 0, 0, 0, 0]  # input 1, negative: cut at step 4
    assert counts[:, 1].tolist() == [0, 0, 0, 0, 1, 0, 0, 0]  # input 1, positive
    assert counts[:, [2, 3, 5]].sum() == 0


def test_prospective_lowering_and_its_refusals():
    model = digits(**KICK)
    family = families.of(model)
    weights = family.weights(model)
    graph = family.lower(model, weights, backends.get("nengo").traits(), copies=2)
    W_in = weights.W_in[structure(model).layers[0]]
    kick = {e.synapse is None: e for e in graph.edges if e.source == "kick"}
    np.testing.assert_allclose(kick[True].weights, W_in * model.neuron.tau_rc)
    np.testing.assert_allclose(kick[False].weights, W_in * model.spiking.tau_syn)
    assert graph.meta["prospective"] == {"kick": "x"} and "input.prospective" in {s.id for s in graph.substitutions}
    assert "kick" in family.graph_run(model, copies=2)["inputs"]
    for change, words in (({"synapse": "alpha", "readout": "end"}, "synapse: lowpass or none"),):
        data = spec.to_data(model)
        data["spiking"].update(change)
        bad, problems = spec.validate_data(data)
        assert bad is None and any(p.path == "spiking.prospective" and words in p.message for p in problems)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["loihi", "nengo", "brian2-spiking"])
def test_the_kick_removes_the_synapses_lag_at_50_ms(backend):
    """Regular inputs, first-order synapses (tau_syn = 15 ms), counts, 50 ms per image, whole test
    split: measured gaps without the kick 37.9 / 34.5 / 44.1 points (nengo / brian2-spiking /
    loihi), with it 1.8 / 1.6 / 1.6 (loihi: as spike bursts)."""
    from neuromorph.run.simulate import simulate

    rate = simulate(digits(0.05, lanes=32), "rate", spec_file=str(DIGITS)).summary["metrics"]["accuracy"]
    gaps = {}
    for kick in (False, True):
        settings = dict(KICK, prospective=kick)
        spiking = simulate(digits(0.05, lanes=32, **settings), backend, spec_file=str(DIGITS))
        gaps[kick] = rate - spiking.summary["metrics"]["accuracy"]
    print(backend, "gap without / with the kick:", gaps)
    assert gaps[True] <= 0.025 and gaps[False] >= 0.3


# -- more spikes per unit (rate_scale) and several inputs per pixel -------------------------------------
def lif_rate(J, tau_rc, tau_ref):
    """The LIF curve (Hz) at threshold 1, written out here: 1 / (tau_ref + tau_rc ln(1 + 1/(J - 1)))."""
    J = np.asarray(J, dtype=float)
    out = np.zeros_like(J)
    above = J > 1
    out[above] = 1.0 / (tau_ref + tau_rc * np.log1p(1.0 / (J[above] - 1.0)))
    return out


def test_rate_scale_fires_k_times_faster_and_computes_the_same_rho():
    """rate_scale k: the hidden LIF units get tau_rc / k and tau_ref / k (k times the rate at every
    current), the edges out of them weights / k; so rate x weight, and the weights the graph holds,
    are the model's to rounding."""
    base, fast = digits(**FAST), digits(**FAST, rate_scale=4.0)
    family = families.of(base)
    weights = family.weights(base)
    g1, g4 = (family.lower(m, weights, backends.get("nengo").traits()) for m in (base, fast))
    h1, h4 = g1.nodes["h1"], g4.nodes["h1"]
    assert (h4.tau_rc, h4.tau_ref) == pytest.approx((h1.tau_rc / 4, h1.tau_ref / 4))
    J = np.linspace(0.5, 6.0, 200)
    np.testing.assert_allclose(lif_rate(J, h4.tau_rc, h4.tau_ref), 4 * lif_rate(J, h1.tau_rc, h1.tau_ref), rtol=1e-12)
    out1, out4 = (next(e for e in g.edges if e.source == "h1") for g in (g1, g4))
    np.testing.assert_allclose(out4.weights * 4, out1.weights, rtol=1e-15)
    # the graph's weights divided by the lowering's scales are the trained weights again
    from neuromorph.families.nla.lower import weights_from_graph

    np.testing.assert_allclose(weights_from_graph(fast, g4, weights).W, weights.W, rtol=1e-12, atol=1e-15)
    sub = next(s for s in g4.substitutions if s.id == "neuron.rate_scale")
    assert sub.detail == {"rate_scale": 4.0}
    assert "neuron.rate_scale" not in {s.id for s in g1.substitutions}


def mean_period_excess(traits, tau_rc, tau_ref):
    """Mean over rise times of 2-30 ms of the target's spike period (1 / ``traits.lif_rates``)
    minus the LIF model's, tau_ref + rise (s)."""
    rise = np.linspace(0.002, 0.03, 2001)
    J = 1.0 / (1.0 - np.exp(-rise / tau_rc))
    return float(np.mean(1.0 / traits.lif_rates(J[None], tau_rc, tau_ref)[0] - (tau_ref + rise)))


@pytest.mark.parametrize("asked, realized", [(1.0, 1.0), (2.0, 2.0), (2.5, 4.0), (3.0, 4.0), (4.0, 4.0), (5.0, 5.0)])
def test_loihi_raises_a_rate_scale_whose_refractory_period_it_would_round_up(asked, realized):
    """Loihi rounds tau_ref to whole 1 ms steps and spikes on the step grid. Where tau_ref / k lies
    between half a step and a step (2 < k < 4 at tau_ref = 2 ms) the units run at k' = 2 tau_ref /
    dt = 4 instead, recorded: on NengoLoihi's own curve the mean spike period is then the model's
    (0.007 ms over), where at k = 3 it is 0.85 ms over. Nengo and Brian2 keep k; the weights read
    back from the Loihi graph are the trained ones."""
    from neuromorph.families.nla.lower import weights_from_graph

    model = digits(**FAST, rate_scale=asked)
    family = families.of(model)
    weights = family.weights(model)
    loihi = backends.get("loihi").traits()
    graph = family.lower(model, weights, loihi)
    h = graph.nodes["h1"]
    assert (h.tau_rc, h.tau_ref) == pytest.approx((0.02 / realized, 0.002 / realized))
    moved = [s for s in graph.substitutions if s.id == "neuron.rate_scale_on_grid"]
    assert [s.detail for s in moved] == ([{"rate_scale": realized, "asked": asked}] if realized != asked else [])
    np.testing.assert_allclose(weights_from_graph(model, graph, weights).W, weights.W, rtol=1e-12, atol=1e-15)
    for other in ("nengo", "brian2-spiking"):
        kept = family.lower(model, weights, backends.get(other).traits()).nodes["h1"]
        assert kept.tau_ref == pytest.approx(0.002 / asked)
    if moved:
        assert abs(mean_period_excess(loihi, h.tau_rc, h.tau_ref)) < 2e-5
        assert mean_period_excess(loihi, 0.02 / asked, 0.002 / asked) > 5e-4


def test_rate_scale_is_refused_with_nir_exact():
    data = spec.to_data(spec.load(ROOT / "models" / "nla_digits_nir.yaml"))
    data["spiking"]["rate_scale"] = 2.0
    model, problems = spec.validate_data(data)
    assert model is None and any(p.path == "spiking.rate_scale" for p in problems)


def test_a_regular_train_split_on_chip_keeps_every_spike():
    """Above one spike per step a chip takes m input neurons per input; for a regular train, copy j
    starts at phase (phi + j) / m and fires at r / m. Over any window their counts add up to the
    train's own, floor(phi + r t) - floor(phi) (Hermite's identity), for every phase."""
    from neuromorph.graph import Connection, Graph, Input, LIF
    from neuromorph.graph.target import Traits

    phase = np.random.default_rng(0).uniform(0, 1, (2, 3))
    graph = Graph("g", {"x": Input(3), "enc": RegularEncoder(3, 3500.0, phase=phase), "n": LIF(2)},
                  (Connection("x", "enc", 1.0), Connection("enc", "n", np.arange(6.0).reshape(2, 3))), dt=0.001,
                  copies=2)
    chip = Traits("chip", dt=0.001, chip=True, offchip_spikes_per_step=1)
    legal = legalize(graph, chip)
    enc = legal.nodes["enc"]
    assert (enc.size, enc.max_rate) == (12, 875.0) and "input.split" in {s.id for s in legal.substitutions}
    for t in np.linspace(0.0, 0.05, 37):
        x = np.array([1.0, 0.3, 0.71])
        own = np.floor(phase + 3500.0 * x * t) - np.floor(phase)
        parts = np.floor(enc.phase + 875.0 * np.tile(x, 4) * t) - np.floor(enc.phase)
        np.testing.assert_array_equal(parts.reshape(2, 4, 3).sum(axis=1), own)
    np.testing.assert_array_equal(legal.edges[1].weights, np.tile(np.arange(6.0).reshape(2, 3), 4))


def own_rate_accuracy(name: str = "nla_digits") -> float:
    """The issue's reference: the rate model's accuracy at the spec's own presentation time
    (nla_digits, 100 ms: 97.55 %; 97.33 % at 20 ms, so the gaps below are the larger reading)."""
    from neuromorph.run.simulate import simulate

    return simulate(digits(0.1, lanes=32, name=name), "rate", spec_file=str(DIGITS)).summary["metrics"]["accuracy"]


#: The best recorded choices (deploy/digits_on_loihi_fast.yaml): regular inputs at 900 Hz, no
#: synaptic filter, spike counts over the whole presentation, units three times as fast, weights
#: calibrated on the target's LIF curve and counts, every target on the chip's 1 ms step.
BEST = {**FAST, "input_rate": 900.0, "rate_scale": 3.0, "calibrate": {"epochs": 10, "eta": 0.02}, "dt": 0.001}


def test_the_tests_best_choices_are_the_shipped_manifests():
    """The slow bars below (and pc's) run the settings deploy/digits_on_loihi_fast.yaml ships."""
    import yaml

    from .test_pc import BEST as PC_BEST

    run = yaml.safe_load((ROOT / "deploy" / "digits_on_loihi_fast.yaml").read_text())["run"]
    assert {key: run[key] for key in BEST} == BEST
    assert {key: value for key, value in PC_BEST.items() if key != "latency"} == BEST


@pytest.mark.slow
@pytest.mark.parametrize("name, backend", [
    ("nla_digits", "loihi"), ("nla_digits", "nengo"), ("nla_digits", "brian2-spiking"),
    ("nla_digits_fa", "loihi"), ("nla_digits_fa", "nengo"), ("nla_digits_fa", "brian2-spiking")])
def test_best_choices_meet_the_bars_at_20_and_50_ms(backend, name):
    """The issue's bars for the best recorded choices, continuous stream, mean over spiking seeds
    0, 1, 2: gap to the rate model at its own presentation time <= 2 points at 20 ms and <= 0.5
    at 50 ms; on Loihi, energy per inference on the Loihi 1 profile <= 1 uJ at 20 ms; at 100 ms
    no less accurate than the design mapping. Gaps measured: docs/latency.md; with rate_scale 1,
    8 to 16.5 points at 20 ms."""
    from neuromorph.hardware import energy, profile
    from neuromorph.run.simulate import simulate

    for presentation, bar in ((0.02, 0.02), (0.05, 0.005)):
        rate = own_rate_accuracy(name)
        models = [digits(presentation, lanes=32, name=name, seed=s, **BEST) for s in (0, 1, 2)]
        runs = [simulate(m, backend, spec_file=str(DIGITS)) for m in models]
        gap = rate - float(np.mean([r.summary["metrics"]["accuracy"] for r in runs]))
        print(f"\n  {name} on {backend} at {presentation * 1e3:g} ms: gap {gap * 100:.2f} points")
        assert gap <= bar, (presentation, rate, gap)
        if backend == "loihi" and presentation == 0.02:
            joules = [energy.estimate(m, r.summary, profile.load("loihi1"), base_dir=str(ROOT / "models"))["energy_j"]
                      for m, r in zip(models, runs)]
            print(f"  energy per inference {np.mean(joules) * 1e6:.3f} uJ")
            assert np.mean(joules) <= 1e-6

    def at_100_ms(**spiking):
        return float(np.mean([simulate(digits(0.1, lanes=32, name=name, seed=s, **spiking), backend,
                                       spec_file=str(DIGITS)).summary["metrics"]["accuracy"] for s in (0, 1, 2)]))

    best, design = at_100_ms(**BEST), at_100_ms()
    print(f"  at 100 ms: {best:.4f} with the best choices, {design:.4f} as designed")
    assert best >= design, (best, design)


# -- the compiler's own choices (latency: auto) ---------------------------------------------------------
def test_auto_compiles_for_the_presentation_time_and_records_why():
    """Shown for less than D = 2 tau_syn S + tau_rc (80 ms for the shipped nla_digits), ``auto``
    counts spikes over the presentation, caps tau_syn at T / 40, raises Poisson inputs to 4 kHz,
    makes the units 3 times as fast and calibrates on the target's curve and counts, each change
    recorded; at 100 ms the graph is the one the spec states; choices the spec already makes
    stronger are kept."""
    from neuromorph.families.nla import latency
    from neuromorph.graph import Alpha, Integrator, LI, PoissonEncoder

    traits = backends.get("nengo").traits()
    short = digits(0.02, latency="auto")
    assert latency.design_delay(short) == pytest.approx(2 * 0.015 * 2 + 0.02)
    family = families.of(short)
    weights = family.weights(short)
    g = family.lower(short, weights, traits)
    assert isinstance(g.nodes["out"], Integrator) and g.meta["count_readout"]["window"] == pytest.approx(0.02)
    assert isinstance(g.nodes["input"], PoissonEncoder) and g.nodes["input"].max_rate == 4000.0
    assert [e.synapse.tau for e in g.edges if isinstance(e.synapse, Alpha)] == pytest.approx([0.0005] * 2)
    assert g.nodes["h1"].tau_rc == pytest.approx(0.02 / 3)
    ids = [s.id for s in g.substitutions]
    assert {"latency.readout", "latency.tau_syn", "latency.input_rate", "latency.rate_scale",
            "latency.calibrate", "weights.calibrated"} <= set(ids)
    assert "80 ms" in next(s for s in g.substitutions if s.id == "latency.tau_syn").why
    # the weights read back through the realized scales are the ones calibrated for the counts
    from neuromorph.families.nla.calibrate import calibrate

    realized, _ = latency.realized(short, traits)
    tuned, _ = calibrate(realized, weights, traits)
    np.testing.assert_allclose(family.weights_from_graph(short, g, weights).W_in, tuned.W_in, rtol=1e-12)
    assert "whole-step" not in next(s for s in g.substitutions if s.id == "latency.calibrate").why
    chip = family.lower(short, weights, backends.get("loihi").traits())
    assert "whole-step" in next(s for s in chip.substitutions if s.id == "latency.calibrate").why
    grid = family.lower(short, weights, backends.get("brian2-spiking").traits())
    assert "whole steps of its grid" in next(s for s in grid.substitutions if s.id == "latency.calibrate").why

    fixed = family.lower(digits(0.1), weights, traits)
    at_100 = family.lower(digits(0.1, latency="auto"), weights, traits)
    assert [s.id for s in at_100.substitutions] == [s.id for s in fixed.substitutions]
    assert isinstance(at_100.nodes["out"], LI) and at_100.nodes["input"].max_rate == 1000.0

    kept = family.lower(digits(0.02, latency="auto", tau_syn=0.0002, encoding="regular", rate_scale=5.0),
                        weights, traits)
    assert [e.synapse.tau for e in kept.edges if isinstance(e.synapse, Alpha)] == pytest.approx([0.0002] * 2)
    assert kept.nodes["input"].max_rate == 1000.0 and kept.nodes["h1"].tau_rc == pytest.approx(0.02 / 5)
    assert not {"latency.tau_syn", "latency.input_rate", "latency.rate_scale"} & {s.id for s in kept.substitutions}


@pytest.mark.slow
@pytest.mark.parametrize("name, backend", [
    ("nla_digits", "loihi"), ("nla_digits", "nengo"), ("nla_digits", "brian2-spiking"),
    ("nla_digits_fa", "loihi"), ("nla_digits_fa", "nengo"), ("nla_digits_fa", "brian2-spiking")])
def test_design_defaults_meet_the_gap_bars_through_auto(backend, name):
    """The shipped nla_digits.yaml and nla_digits_fa.yaml (Poisson inputs, alpha synapses,
    latency: auto), continuous stream, mean over spiking seeds 0, 1, 2, gap to the rate model at
    its own presentation time: <= 4 points at 20 ms and <= 1 point at 50 ms. Measured:
    docs/latency.md."""
    from neuromorph.run.simulate import simulate

    for presentation, bar in ((0.02, 0.04), (0.05, 0.01)):
        rate = own_rate_accuracy(name)
        spiking = [simulate(digits(presentation, lanes=32, name=name, seed=s, latency="auto"), backend,
                            spec_file=str(DIGITS)).summary["metrics"]["accuracy"] for s in (0, 1, 2)]
        gap = rate - float(np.mean(spiking))
        print(f"\n  {name} on {backend} at {presentation * 1e3:g} ms: gap {gap * 100:.2f} points ({spiking})")
        assert gap <= bar, (presentation, rate, spiking)


# -- calibration on the realized neuron ---------------------------------------------------------------
def calibrated(seed=0, backend="nengo"):
    """(weights, substitution) of one epoch of calibration at 20 ms with the fast settings."""
    from neuromorph.families.nla.calibrate import calibrate

    model = digits(0.02, seed=seed, **FAST, calibrate={"epochs": 1})
    return calibrate(model, families.of(model).weights(model), backends.get(backend).traits())


@pytest.mark.slow  # three calibration fits: the default suite is at its time limit
def test_calibration_is_reproducible_from_the_seed_and_uses_the_training_split_only(monkeypatch):
    """The same spiking seed gives bitwise the same weights; another seed other ones; the test
    split's images never enter (replacing them changes nothing); the substitution records the
    training-split accuracy before and after, on the target's curve."""
    from neuromorph.tasks import digits as digits_task

    first, sub = calibrated()
    again, _ = calibrated()
    for key, value in first.arrays().items():
        np.testing.assert_array_equal(again.arrays()[key], value, err_msg=key)
    other, _ = calibrated(seed=5)
    assert not np.array_equal(other.W_in, first.W_in)
    assert not np.array_equal(first.W_in, families.of(digits()).weights(digits()).W_in)
    assert sub.id == "weights.calibrated" and 0.9 < sub.detail["train_accuracy_after"] <= 1.0

    real, test = digits_task.load, digits_task.Digits(digits()).test_idx

    def noisy_test_split():
        X, y = real()
        X = X.copy()
        X[test] = np.random.default_rng(1).uniform(0, 1, X[test].shape)
        return X, y

    monkeypatch.setattr(digits_task, "load", noisy_test_split)
    blind, _ = calibrated()
    np.testing.assert_array_equal(blind.W_in, first.W_in)


@pytest.mark.parametrize("name", ["nla_digits", "nla_digits_fa"])
def test_calibration_ends_no_worse_on_the_training_split_than_it_started(name):
    """The step falls linearly to zero, so the fit ends where the mean gradient leads. With a
    constant step (eta 0.02, 10 epochs) nla_digits_fa's spiking seed 1 ended at 96.5 % of the
    training split from 98.1 %, and lost 4.7 points on the test split in spikes (nengo, 20 ms)."""
    from neuromorph.families.nla.calibrate import fit, steps

    np.testing.assert_allclose(steps(0.02, 4), [0.02, 0.015, 0.01, 0.005])
    for seed in (0, 1, 2):
        model = digits(0.02, name=name, seed=seed, **FAST, rate_scale=3.0, calibrate={"epochs": 10, "eta": 0.02})
        _, sub = fit(model, families.of(model).weights(model), backends.get("nengo").traits())
        assert sub.detail["train_accuracy_after"] >= sub.detail["train_accuracy_before"], (seed, sub.detail)


def test_calibrated_weights_reach_the_graph_and_loihi_uses_its_own_curve():
    """lower() compiles the calibrated weights and records it; on Loihi the fit sees the chip's
    whole-step LIF curve (Traits.lif_rates), so it ends elsewhere than on Nengo."""
    model = digits(0.02, **FAST, calibrate={"epochs": 1})
    family = families.of(model)
    weights = family.weights(model)
    graph = family.lower(model, weights, backends.get("nengo").traits())
    tuned, _ = calibrated()
    np.testing.assert_allclose(family.weights_from_graph(model, graph, weights).W_in, tuned.W_in, rtol=1e-12)
    assert "weights.calibrated" in {s.id for s in graph.substitutions}
    chip, _ = calibrated(backend="loihi")
    assert not np.allclose(chip.W_in, tuned.W_in)


@pytest.mark.parametrize("backend", ["brian2-spiking", "loihi"])
@pytest.mark.parametrize("scale", [1.0, 3.0, 4.5])
def test_calibration_sees_the_units_at_their_simulated_rates(backend, scale):
    """The fit's curve is the target's whole-step one: hidden units of nla_digits at rate_scale 1,
    3, 4.5 (tau_ref 2, 0.67, 0.44 ms) held at constant currents fire at exactly its rates. On
    Brian2 (dt 0.1 ms) the LIF curve is up to 1.5 %, 10.8 % and 13.3 % off (for tau_ref = 0.67 ms
    the grid holds the voltage 5 steps, not 6.7); on Loihi (dt 1 ms, tau_ref rounded to whole
    steps: 2, 0, 0; rate_scale 3 runs at 4 there, :func:`rate_scale_on_grid`) 32 %, 32 % and 49 %."""
    from neuromorph.families.nla.calibrate import target_rates
    from neuromorph.families.nla.lower import rate_scale_on_grid
    from neuromorph.graph import LIF, Graph

    model = digits(0.05, **FAST, rate_scale=scale)
    target = backends.get(backend)
    h = families.of(model).lower(model, families.of(model).weights(model), target.traits()).nodes["h1"]
    J = np.array([1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 8.0, 20.0])
    graph = legalize(Graph("units", {"h": LIF(len(J), tau_rc=h.tau_rc, tau_ref=h.tau_ref, bias=J)},
                           probes={"s": Probe("h", "spikes")}, dt=model.spiking.dt), target.traits())
    counts = np.asarray(target.run_graph(graph, duration=1.0, seed=0).probes["s"])[:, 0, :]
    # constant input: every inter-spike interval is the same whole number of steps
    periods = [np.unique(np.diff(np.flatnonzero(counts[:, i]))) for i in range(len(J))]
    assert all(len(p) == 1 for p in periods), periods
    simulated = 1.0 / (np.concatenate(periods) * graph.dt)
    realized = rate_scale_on_grid(model, target.traits())[0]  # what lower() hands the fit
    np.testing.assert_allclose(target_rates(realized, target.traits())(J[None])[0], simulated, rtol=1e-12)
    off = np.max(np.abs(lif_rate(J, h.tau_rc, h.tau_ref) / simulated - 1))
    print(f"\n  {backend}, rate_scale {scale:g}: the LIF curve is up to {off:.1%} off")
    assert off > 0.01


@pytest.mark.slow
def test_calibration_recovers_count_quantization_at_20_ms():
    """Units at the model's rates (rate_scale 1), regular inputs, counts, 20 ms, nengo, seeds 0-2:
    fine-tuning on the count function lowers the gap by at least 2 points. Here the fit has far to
    go, so it takes eta 0.04 falling to 0 (the mean step of the former constant 0.02): measured
    88.34 % -> 92.72 % (rate 97.3 %); with the default eta 0.02 falling, 89.83 %."""
    from neuromorph.run.simulate import simulate

    def mean(**extra):
        return float(np.mean([simulate(digits(0.02, lanes=32, seed=s, **FAST, **extra), "nengo",
                                       spec_file=str(DIGITS)).summary["metrics"]["accuracy"] for s in (0, 1, 2)]))

    plain, tuned = mean(), mean(calibrate={"epochs": 10, "eta": 0.04})
    print(f"\n  nengo at 20 ms: {plain:.4f} -> {tuned:.4f} calibrated")
    assert tuned >= plain + 0.02


def test_export_compiles_an_auto_model_as_written_and_says_so(tmp_path):
    """A NIR file states no presentation time: under latency: auto at 20 ms the export is the
    network the spiking section states (alpha synapses of 15 ms, filtered read-out), with a note."""
    import nir

    from neuromorph import api

    exported = api.export(digits(0.02, latency="auto"), tmp_path / "d.nir", approximate=True)
    assert any("latency: auto is not applied" in n for n in exported.notes)
    graph = nir.read(tmp_path / "d.nir")
    assert not any(type(node).__name__ == "I" for node in graph.nodes.values())
    plain = api.export(digits(0.02), tmp_path / "p.nir", approximate=True)
    assert not any("latency" in n for n in plain.notes)
