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
from neuromorph.tasks.engines import GraphEngine, lanes_of, per_presentation, presentations, window_means

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "models" / "nla_digits.yaml"
FAST = {"encoding": "regular", "synapse": "none", "readout": "count"}


def digits(presentation=0.02, lanes=2, **spiking):
    data = spec.to_data(spec.load(DIGITS))
    data["spiking"].update(spiking)
    data["task"]["presentation"] = presentation
    data["learning"]["lanes"] = lanes
    data["weights"] = str(ROOT / "models" / "weights" / "nla_digits.npz")
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
    data["spiking"]["encoding"] = "regular"
    model, problems = spec.validate_data(data)
    assert model is None and any(p.path == "spiking.encoding" and "NLA models" in p.message for p in problems)


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
