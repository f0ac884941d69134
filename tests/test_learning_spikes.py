"""Learning in spikes (#16): the graph's PES rule on Nengo and on NengoLoihi's emulator against the
rule's own integral, and NLA's output layer (Eq 8) in spikes against the rate rule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neuromorph import api, backends, families, spec
from neuromorph.families.base import UnsupportedModel
from neuromorph.graph import (LI, LIF, PES, Connection, Dendritic, Graph, GraphError, Input, Lowpass, PoissonEncoder,
                              Probe, Traits, legalize)
from neuromorph.interop.nir import NirError, export

DT = 0.001
#: The source neurons' drive: steady rates from about 40 to 200 Hz.
BIAS = np.linspace(1.5, 3.0, 8)
ERROR = np.array([0.4, -0.2])


def pes_graph(rate: float, pre_tau: float, error_max=None) -> Graph:
    """Eight LIF neurons at steady rates decoded into two values; the decoders learn from a
    constant error supplied as the Input ``err``."""
    rule = PES("err", rate=rate, pre_tau=pre_tau, error_max=error_max)
    return Graph("pes", nodes={"h": LIF(8, 0.02, 0.002, bias=BIAS), "out": LI(2, 0.0), "err": Input(2)},
                 edges=(Connection("h", "out", np.zeros((2, 8)), Lowpass(0.005), learning=rule),),
                 probes={"out": Probe("out", "value")})


def run_pes(backend: str, graph: Graph, duration: float):
    sim = backends.get(backend)
    steps = int(round(duration / DT))
    return sim.run_graph(legalize(graph, sim.traits()), inputs={"err": np.tile(ERROR, (steps, 1))}, input_dt=DT,
                         duration=duration)


def fit(W: np.ndarray, expect: np.ndarray) -> tuple[float, float]:
    """(the least-squares factor from ``expect`` to ``W``, the relative rms difference)."""
    ratio = float(np.sum(W * expect) / np.sum(expect**2))
    return ratio, float(np.linalg.norm(W - expect) / np.linalg.norm(expect))


@pytest.mark.parametrize("backend, ratio_tol, rel_tol", [("nengo", 0.02, 0.02), ("brian2-spiking", 0.02, 0.02),
                                                        ("loihi", 0.08, 0.12)])
def test_pes_changes_the_weights_by_the_rules_integral(backend, ratio_tol, rel_tol):
    """With a constant error e and steady presynaptic rates a, the weights end at
    rate e (N - a tau)^T: the integral of the trace is the spike count N less what it still holds
    at the end. Nengo and Brian2 compute the rule in floats (within 2 %). NengoLoihi's chip updates the
    trace every two steps and the weights every four, with the error of that step, in 8 bits
    rounded stochastically: its mean change runs 6 % ahead at tau = 15 ms (17 % at 5 ms, which is
    why NLA's trace is tau_syn = 15 ms), so the mean is held within 8 % and each weight within
    12 % rms."""
    rate, tau, T = 5e-5, 0.015, 1.0
    rec = run_pes(backend, pes_graph(rate, tau), T)
    counts = rec.spikes["h"]
    expect = rate * np.outer(ERROR, counts - counts / T * tau)
    ratio, rel = fit(rec.learned["h -> out"][0], expect)
    assert abs(ratio - 1) < ratio_tol and rel < rel_tol, (ratio, rel)
    # the read-out carries the learned weights: its value at the end is W a
    assert np.allclose(rec.probes["out"][-100:, 0].mean(axis=0), rec.learned["h -> out"][0] @ counts / T,
                       rtol=0.1, atol=0.02)


def test_a_learning_edge_is_refused_where_the_target_has_no_rule():
    graph = pes_graph(1e-4, 0.01)
    with pytest.raises(GraphError, match="edge 'h -> out' learns by PES; sim has no such learning rule"):
        legalize(graph, Traits("sim"))
    chip = legalize(pes_graph(1e-4, 0.0126), backends.get("loihi").traits())
    assert chip.edges[0].learning.pre_tau == pytest.approx(0.013)  # whole steps on the chip
    assert "learning.on_chip" in {s.id for s in chip.substitutions}


def test_bad_learning_edges_name_the_edge():
    nodes = {"h": LIF(8, 0.02, 0.002, bias=BIAS), "out": LI(2, 0.0), "err": Input(3), "v": LI(2, 0.01)}
    with pytest.raises(GraphError, match="edge 'h -> out': learning error unknown node 'nope'"):
        Graph("g", nodes, (Connection("h", "out", np.zeros((2, 8)), learning=PES("nope", 1.0, 0.01)),))
    with pytest.raises(GraphError, match="the error node 'err' must be a value node of size 2"):
        Graph("g", nodes, (Connection("h", "out", np.zeros((2, 8)), learning=PES("err", 1.0, 0.01)),))
    with pytest.raises(GraphError, match="a learning edge ends at a value node"):
        Graph("g", nodes, (Connection("h", "v", np.zeros((2, 8)), learning=PES("out", 1.0, 0.01)),))
    with pytest.raises(GraphError, match="the gate node 'out' must be a value node of size 1"):
        Graph("g", nodes, (Connection("h", "out", np.zeros((2, 8)), learning=PES("out", 1.0, 0.01, gate="out")),))
    with pytest.raises(GraphError, match="learning pre_tau must be > 0 s"):
        Graph("g", nodes, (Connection("h", "out", np.zeros((2, 8)), learning=PES("out", 1.0, 0.0)),))


# -- the Dendritic rule and shared copies (brian2-spiking) ------------------------------------------

W_IN = np.random.default_rng(0).normal(0, 0.002, (8, 6))
W_OUT = np.random.default_rng(1).normal(0, 0.01, (2, 8))
B = np.random.default_rng(2).normal(0, 1, (8, 2))


def dendritic_graph(feedback) -> Graph:
    """Poisson inputs -> 8 LIF neurons (learning by Dendritic from the error ``err`` fed back through
    ``feedback``) -> a read-out learning by PES from the same error."""
    rule = Dendritic("err", rate=1e-6, pre_tau=0.015, feedback=feedback, sigma=0.05)
    nodes = {"x": Input(6), "input": PoissonEncoder(6, 1000.0), "h": LIF(8, 0.02, 0.002, bias=BIAS),
             "out": LI(2, 0.0), "err": Input(2)}
    edges = (Connection("x", "input", 1.0), Connection("input", "h", W_IN, Lowpass(0.005), learning=rule),
             Connection("h", "out", W_OUT, Lowpass(0.005), learning=PES("err", rate=1e-7, pre_tau=0.015)))
    return Graph("dendritic", nodes, edges, probes={"J": Probe("h", "value")})


@pytest.mark.parametrize("feedback", ["h -> out", "B"])
def test_dendritic_rule_changes_the_weights_by_its_integral(feedback):
    """A constant error e fed back through the learning read-out's weights (W^T) or a fixed B: the
    input weights change by rate (mean r'(J) * F e) (N - a tau)^T, r'(J) the slope of the neurons'
    soft-LIF curve at the probed currents J, N the input spike counts. Measured within 1-3 % (mean)
    and 3 % (each weight); held within 5 % and 6 %."""
    from neuromorph.families.nla.rho import soft_lif

    sim, T = backends.get("brian2-spiking"), 1.0
    graph = legalize(dendritic_graph(B if feedback == "B" else feedback), sim.traits())
    steps = int(round(T / DT))
    rec = sim.run_graph(graph, inputs={"x": np.tile(np.linspace(0.2, 1, 6), (steps, 1)),
                                       "err": np.tile(ERROR, (steps, 1))}, input_dt=DT, duration=T)
    slope = soft_lif(rec.probes["J"][1:, 0], 0.02, 0.002, 1.0, 0.05)[1].mean(axis=0)
    F = B if feedback == "B" else W_OUT.T
    counts = rec.spikes["input"]
    expect = 1e-6 * np.outer(slope * (F @ ERROR), counts - counts / T * 0.015)
    ratio, rel = fit(rec.learned["input -> h"][0] - W_IN, expect)
    assert abs(ratio - 1) < 0.05 and rel < 0.06, (ratio, rel)


def test_dendritic_learning_is_refused_where_the_target_lacks_it():
    for name in ("nengo", "loihi"):
        with pytest.raises(GraphError, match=f"edge 'input -> h' learns by Dendritic; {name} has no such learning "
                                             "rule \\(it has: PES\\)"):
            legalize(dendritic_graph(B), backends.get(name).traits())
    with pytest.raises(GraphError, match="feedback through edge 'x -> input' transposed is 6x6; the errors need 8x2"):
        dendritic_graph("x -> input")
    with pytest.raises(GraphError, match="the feedback matrix has shape \\(2, 8\\); expected .* = \\(8, 2\\)"):
        dendritic_graph(B.T)


def test_copies_of_a_learning_graph_share_their_weights():
    """Three copies with different errors learn one matrix: the sum of what each copy's rule asks
    (rate / 3 each, as lanes average), within 1 % (measured 0.3 %). Nengo learns copies apart, so
    it refuses a learning graph with copies."""
    errors = np.array([[0.4, -0.2], [0.1, 0.3], [-0.2, 0.5]])
    graph = pes_graph(5e-5 / 3, 0.015).replace(copies=3)
    sim, T = backends.get("brian2-spiking"), 1.0
    rec = sim.run_graph(legalize(graph, sim.traits()), inputs={"err": np.tile(errors, (1000, 1, 1))}, input_dt=DT,
                        duration=T)
    W = rec.learned["h -> out"]
    assert np.array_equal(W[0], W[1]) and np.array_equal(W[0], W[2])
    counts = rec.spikes["h"].reshape(3, 8)
    expect = 5e-5 / 3 * sum(np.outer(e, n - n / T * 0.015) for e, n in zip(errors, counts))
    ratio, rel = fit(W[0], expect)
    assert abs(ratio - 1) < 0.01 and rel < 0.01, (ratio, rel)
    with pytest.raises(GraphError, match="nengo learns each copy's weights apart; a learning graph runs one copy"):
        legalize(graph, backends.get("nengo").traits())


@pytest.mark.parametrize("feedback", ["transpose", "alignment"])
def test_the_hidden_layer_learns_by_eq8_with_its_dendritic_error(feedback):
    """NLA's hidden-layer rule in spikes, per feedback mode: a 5-30-3 network from its seeded
    weights, one input held 0.5 s with a target and beta = 0.1. The input weights change by
    eta T e_h r_bar^T, e_h = rho'(u_h) (F e_out) the rate model's dendritic error at u_h = W_in x + b,
    F = W_out^T (transpose) or the fixed B (alignment), e_out = beta (u* - u) from the run's read-out,
    r_bar the input counts. With regular input trains the spiking rule is the rate rule within 1 %
    (mean) and 5 % (each weight; measured 0.2-0.7 % and 3-4 %): held within 3 % and 8 %. With
    Poisson inputs the current J fluctuates (and with it r'(J)) and the mean lands 2-10 % low, 9-19 %
    per weight."""
    from neuromorph.families.nla import settings
    from neuromorph.families.nla.dynamics import feedback_matrix
    from neuromorph.families.nla.lower import lower, scales
    from neuromorph.families.nla.network import structure

    data = spec.to_data(api.load(TEACHER))
    data["learning"].update(eta=1.0, feedback=feedback)
    data["spiking"]["encoding"] = "regular"
    model = spec.validate_data(data)[0]
    family, st, beta, T = families.of(model), structure(model), 0.1, 0.5
    start = family.initial_weights(model)
    sim = backends.get("brian2-spiking")
    graph = legalize(lower(model, start, sim.traits(), 1, nudging=np.full(3, beta), learning=1.0), sim.traits())
    x, target = np.random.default_rng(1).uniform(0, 1, 5), np.array([1.0, -0.5, 0.5])
    steps = int(round(T / DT))
    rec = sim.run_graph(graph, inputs={"x": np.tile(x, (steps, 1)), "target": np.tile(target, (steps, 1))},
                        input_dt=DT, duration=T)
    dW = family.learned_weights(model, graph, start, rec.learned).W_in - start.W_in
    hidden, out = st.layers[0], st.layers[1]
    e_out = beta * (target - rec.probes["u_out"][1:, 0]).mean(axis=0)
    slope = settings(model, st).rho((start.W_in[hidden] @ x + start.b[hidden])[None])[1][0]
    e_h = slope * (feedback_matrix(start)[hidden, out] @ e_out)
    counts = rec.spikes["input"]
    r_bar = scales(model, st)[0] * (counts - counts / T * model.spiking.tau_syn) / T
    ratio, rel = fit(dW[hidden], model.learning.eta * T * np.outer(e_h, r_bar))
    assert abs(ratio - 1) < 0.03 and rel < 0.08, (ratio, rel)
    assert "learning.dendritic_error" in {s.id for s in graph.substitutions}


def test_nir_export_refuses_plasticity_unless_approximating():
    graph = pes_graph(1e-4, 0.01).replace(probes={"out": Probe("out", "value")})
    with pytest.raises(NirError, match="its learning rule .* dropped: NIR has no plasticity"):
        export(graph)


# -- NLA's output layer ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_lane():
    """nla_digits learning on one lane at eta = 1 / s, from its trained hidden layer and a zero
    output layer (where learning in spikes starts)."""
    model = api.load("models/nla_digits.yaml")
    data = spec.to_data(model)
    data["learning"].update(lanes=1, eta=1.0)
    data["spiking"]["learning_eta"] = 1.0  # the rule at the model's own rate
    model = spec.validate_data(data)[0]
    family = families.of(model)
    return model, family.spiking_initial_weights(model, "models")


def image(k: int):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[k] / 16.0, np.eye(10)[y[k]]


@pytest.mark.parametrize("backend, ratio_tol, rel_tol", [("nengo", 0.1, 0.12), ("brian2-spiking", 0.1, 0.12),
                                                        ("loihi", 0.1, 0.4)])
def test_nla_output_weights_change_by_eq8_in_spikes(one_lane, backend, ratio_tol, rel_tol):
    """One image held for 0.5 s with its target and beta = 0.1: the output weights change by
    eta integral of e r_bar^T with e = beta (u* - u) (the output's dendritic error, from the run's
    own read-out) and r_bar = s N / T (the hidden layer's spike counts times the rate scale s),
    the trace's residual at the end taken off. Nengo and Brian2: within 10 % (mean) and 12 % (each weight);
    the chip: mean within 10 %, each weight within 40 % rms (8-bit learned weights and traces,
    both rounded stochastically)."""
    from neuromorph.families.nla.lower import lower, scales
    from neuromorph.families.nla.network import structure

    model, start = one_lane
    family, st, beta, T = families.of(model), structure(model), 0.1, 0.5
    sim = backends.get(backend)
    graph = legalize(lower(model, start, sim.traits(), 1, nudging=np.full(10, beta), learning=1.0), sim.traits())
    x, target = image(0)
    steps = int(round(T / DT))
    inputs = {"x": np.tile(x, (steps, 1)), "target": np.tile(target, (steps, 1)), "gate": np.ones((steps, 1))}
    rec = sim.run_graph(graph, inputs=inputs, input_dt=DT, duration=T)  # learning throughout: gate 1
    learned = family.learned_weights(model, graph, start, rec.learned)
    dW = (learned.W - start.W)[st.layers[-1], st.layers[-2]]
    e = beta * (target - rec.probes["u_out"][1:, 0]).mean(axis=0)
    counts = rec.spikes["h1"]
    r_bar = scales(model, st)[-1] * (counts - counts / T * model.spiking.tau_syn) / T
    ratio, rel = fit(dW, model.learning.eta * T * np.outer(e, r_bar))
    assert abs(ratio - 1) < ratio_tol and rel < rel_tol, (ratio, rel)
    ids = {s.id for s in graph.substitutions}
    assert {"learning.bias_fixed", "learning.settle"} <= ids and "nla.inference_only" not in ids
    if backend == "brian2-spiking":  # the hidden layer learns too, from its dendritic error
        assert "learning.dendritic_error" in ids and not np.array_equal(learned.W_in, start.W_in)
    else:  # the hidden layer keeps its weights
        assert "learning.output_only" in ids and np.array_equal(learned.W_in, start.W_in)


def test_nla_output_learning_in_spikes_follows_the_rate_model(one_lane):
    """Three images, 0.3 s each, learning from the zero output layer: the output weights' change
    on Nengo is the rate reference's within 15 % (rms), the same direction (correlation > 0.98)."""
    from neuromorph.families.nla.rate import NLAEngine
    from neuromorph.families.nla.network import structure
    from neuromorph.tasks import Protocol
    from neuromorph.tasks.engines import LearningGraphEngine

    model, start = one_lane
    st, steps = structure(model), 300
    images = [image(k) for k in range(3)]
    x = np.concatenate([np.tile(a, (steps, 1, 1)) for a, _ in images])
    target = np.concatenate([np.tile(t, (steps, 1, 1)) for _, t in images])
    protocol = Protocol(x=x, target=target, beta=np.full(10, 0.1), learn=True, x0=images[0][0][None])
    out = st.layers[-1], st.layers[-2]
    rate = NLAEngine(model, weights=start.copy())
    rate.run_protocol(protocol, marks=[len(x)])
    spiking = LearningGraphEngine(families.of(model), model, start.copy(), backends.get("nengo"))
    spiking.run_protocol(protocol, marks=[len(x)])
    d_rate, d_spikes = rate.weights.W[out] - start.W[out], spiking.weights.W[out] - start.W[out]
    assert np.linalg.norm(d_spikes - d_rate) / np.linalg.norm(d_rate) < 0.15
    assert np.corrcoef(d_spikes.ravel(), d_rate.ravel())[0, 1] > 0.98
    assert spiking.stats["learning_steps"] == len(x)


@pytest.mark.parametrize("change, message", [
    ({"learning": {"lanes": 32}}, "learning.lanes: 1"),
    ({"network": {"layers": [64, 10]}}, "a layered network with a hidden layer"),
])
def test_models_that_cannot_learn_in_spikes_are_refused_before_any_work(change, message):
    model = api.load("models/nla_digits.yaml")
    data = spec.to_data(model)
    data["learning"]["lanes"] = 1
    for key, value in change.items():
        data[key].update(value)
    data["weights"] = None
    model = spec.validate_data(data)[0]
    with pytest.raises(UnsupportedModel, match=message):
        families.of(model).check_training(model, "nengo", backends.get("nengo").traits())


@pytest.fixture(scope="module")
def rate_output_only():
    """The rate reference learning the same thing as the spiking backends: from the same start
    (zero output layer), only the output weights (hidden rates 1e-12, output biases fixed)."""
    from neuromorph.families.nla.rate import NLAEngine

    model = api.load(TEACHER)
    data = spec.to_data(model)
    data["learning"]["eta"] = [1e-12, data["learning"]["eta"]]
    rate_model = spec.validate_data(data)[0]
    family = families.of(model)
    engine = NLAEngine(rate_model, weights=family.spiking_initial_weights(model))
    engine.settings.eta_b[:] = 0.0
    return family.trainer(rate_model).train(engine)[1]


TEACHER = "tests/data/nla_teacher_spikes.yaml"


@pytest.mark.slow  # 45 s: the rate reference's run and two training runs
@pytest.mark.parametrize("backend, within", [("nengo", 1.15), ("loihi", 1.45)])
def test_train_in_spikes_learns_the_output_layer_like_the_rate_rule(backend, within, rate_output_only, tmp_path):
    """`neuromorph train -b nengo|loihi` on a teacher task: the test cost falls by >= 90 % and ends
    within 15 % (Nengo) of the rate rule's learning the same weights from the same start
    (measured 1.06x), or 45 % on the chip (measured 1.23x; 1.33x before NengoLoihi's error scale
    was set explicitly: 8-bit learned weights and traces, the error in 8 bits). The hidden layer
    keeps its weights; the run writes its outputs."""
    from click.testing import CliRunner

    from neuromorph.cli import main
    from neuromorph.families.nla.network import load_weights, structure

    out = tmp_path / backend
    result = CliRunner().invoke(main, ["train", TEACHER, "-b", backend, "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    metrics = summary["metrics"]
    assert metrics["cost_reduction"] >= 0.9
    assert metrics["cost"] <= within * rate_output_only["cost"], (metrics["cost"], rate_output_only["cost"])
    model = api.load(TEACHER)
    start = families.of(model).spiking_initial_weights(model)
    learned = load_weights(out / "weights.npz", structure(model))
    assert np.array_equal(learned.W_in, start.W_in) and not np.array_equal(learned.W, start.W)
    assert summary["engine"]["learning_steps"] == 6000 and (out / "learning_curve.png").is_file()


@pytest.mark.slow  # 2 min: two training runs, one in Brian2 (numpy)
def test_train_on_brian2_learns_every_layer_like_the_rate_model(tmp_path):
    """`neuromorph train -b brian2-spiking` on the teacher task learns both layers from the seeded
    weights (the hidden one by its dendritic error through W_out^T): the test cost falls by >= 90 %
    (measured 94.2 %; the rate reference from the same start 95.5 %) and ends within 35 % of the
    rate reference's (measured 0.627 against 0.492). Both report the angle between the student's
    and the teacher's weights."""
    from click.testing import CliRunner

    from neuromorph.cli import main
    from neuromorph.families.nla.network import load_weights, structure

    runs = {}
    for backend in ("rate", "brian2-spiking"):
        out = tmp_path / backend
        result = CliRunner().invoke(main, ["train", TEACHER, "-b", backend, "-o", str(out), "--no-progress"])
        assert result.exit_code == 0, result.output
        runs[backend] = json.loads((out / "summary.json").read_text())
    spikes, rate = runs["brian2-spiking"]["metrics"], runs["rate"]["metrics"]
    assert spikes["cost_reduction"] >= 0.9 and rate["cost_reduction"] >= 0.95
    assert spikes["cost"] <= 1.35 * rate["cost"], (spikes["cost"], rate["cost"])
    assert {"teacher_angle_deg", "teacher_angle_in_deg", "teacher_angle_deg_before_training"} <= set(spikes)
    model = api.load(TEACHER)
    start = families.of(model).initial_weights(model)
    learned = load_weights(tmp_path / "brian2-spiking" / "weights.npz", structure(model))
    assert not np.array_equal(learned.W_in, start.W_in) and not np.array_equal(learned.W, start.W)
    assert runs["brian2-spiking"]["engine"]["learning_steps"] == 6000
    assert "learning.dendritic_error" in {s["id"] for s in runs["brian2-spiking"]["substitutions"]}


@pytest.mark.slow  # 25-35 min each: 15 epochs of 32 lanes in Brian2 (cython)
@pytest.mark.parametrize("name, bar", [("nla_digits", 0.93), ("nla_digits_fa", 0.90)])
def test_digits_learn_from_scratch_in_spiking_neurons(name, bar, tmp_path):
    """`neuromorph train MODEL -b brian2-spiking` as shipped: 32 lanes sharing their weights, every
    layer learning from the seeded weights at spiking.learning_eta = 0.2 of the model's rates
    (hidden errors through W^T or the fixed B), Poisson inputs, alpha synapses. The held-out
    accuracy reaches the issue's bar (nla_digits >= 93 %, nla_digits_fa >= 90 %)."""
    from click.testing import CliRunner

    from neuromorph.cli import main

    out = tmp_path / name
    result = CliRunner().invoke(main, ["train", f"models/{name}.yaml", "-b", "brian2-spiking", "--codegen", "cython",
                                       "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"]["accuracy"] >= bar, summary["curve"]
    ids = {s["id"] for s in summary["substitutions"]}
    assert {"learning.dendritic_error", "learning.eta_scaled"} <= ids and "nla.inference_only" not in ids


@pytest.mark.slow  # 10-15 min: 100 s of 16 lanes in Brian2 (cython)
def test_the_shipped_teacher_task_learns_from_scratch_in_spikes(tmp_path):
    """`neuromorph train models/nla_teacher.yaml -b brian2-spiking` as shipped (16 lanes sharing
    their weights, integrate-and-fire units for the hard sigmoid, both layers learning): the test
    cost falls by >= 90 % (measured 13.52 -> 0.303, -97.8 %; the rate model -99.6 %), and the
    network weights turn towards the teacher's (hidden units matched: 92.9 -> 77.6 degrees; the
    rate model 70.1)."""
    from click.testing import CliRunner

    from neuromorph.cli import main

    out = tmp_path / "teacher"
    result = CliRunner().invoke(main, ["train", "models/nla_teacher.yaml", "-b", "brian2-spiking", "--codegen",
                                       "cython", "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    assert metrics["cost_reduction"] >= 0.9, metrics
    assert metrics["teacher_angle_deg"] < metrics["teacher_angle_deg_before_training"] - 10, metrics


def test_compile_shows_the_graph_that_learns(tmp_path):
    from click.testing import CliRunner

    from neuromorph.cli import main

    result = CliRunner().invoke(main, ["compile", TEACHER, "-t", "loihi", "--learning"])
    assert result.exit_code == 0, result.output
    assert "h1 -> out: 3x30 weights (0 non-zero, 0), synapse Lowpass(30 ms), learns by PES(" in result.output
    assert "[learning.on_chip]" in result.output and "[learning.output_only]" in result.output
    result = CliRunner().invoke(main, ["compile", TEACHER, "-t", "brian2-spiking", "--learning"])
    assert result.exit_code == 0, result.output
    assert "input -> h1: 30x5 weights" in result.output and "learns by Dendritic(" in result.output
    assert "fed back through edge 'h1 -> out' transposed" in result.output
    assert "[learning.dendritic_error]" in result.output and "[learning.output_only]" not in result.output
    refused = CliRunner().invoke(main, ["compile", TEACHER, "-t", "brian2-spiking", "--learning", "-o",
                                        str(tmp_path / "b2")])
    assert refused.exit_code == 2 and "no script for a learning network" in refused.output
    assert not (tmp_path / "b2").exists()
    refused = CliRunner().invoke(main, ["compile", TEACHER, "-t", "rate", "--learning"])
    assert refused.exit_code == 2 and "rate is not a spiking target" in refused.output
    refused = CliRunner().invoke(main, ["compile", "models/nla_digits.yaml", "-t", "nengo", "--learning"])
    assert refused.exit_code == 2 and "learning.lanes: 1" in refused.output


@pytest.mark.parametrize("profile, says", [("loihi1", "its output layer can learn on this chip by PES"),
                                           ("loihi2", "no PES on this chip")])
def test_check_says_which_profiles_can_learn_the_output_layer(profile, says):
    from click.testing import CliRunner

    from neuromorph.cli import main

    result = CliRunner().invoke(main, ["check", "models/nla_digits.yaml", "--profile", profile, "--no-build"])
    assert result.exit_code in (0, 1) and "[learning_on_chip]" in result.output and says in result.output


def test_the_gate_opens_once_the_network_has_settled_into_each_image():
    from neuromorph.tasks.engines import settled

    x = np.zeros((10, 2, 3))
    x[:4, 0], x[4:, 0] = 1.0, 2.0  # lane 0: a new image at step 4
    x[:, 1] = 5.0  # lane 1: one image throughout
    gate = settled(x, 3)[..., 0]
    assert gate[:, 0].tolist() == [0, 0, 0, 1, 0, 0, 0, 1, 1, 1]
    assert gate[:, 1].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]


@pytest.mark.slow  # 60 s: 300 images in spikes
def test_learning_in_spikes_over_a_stream_of_images_follows_the_rate_rule(one_lane):
    """300 training images of 100 ms, learning from the zero output layer at eta = 10 / s. The
    rate rule, solved exactly per image at the hidden layer's steady rates (u_out relaxes as
    e^(-k t), k = eta beta/(1 + beta) |r|^2), ends with output weights whose correlation with the
    shipped (rate-trained) ones is 0.53; in spikes they must get there too (within 0.1) and their
    size within 20 %. Without the settling gate the spiking rule paired each new target with the
    previous image's activity and ended anti-correlated (-0.52 after an epoch)."""
    from neuromorph.families.nla import settings
    from neuromorph.families.nla.network import structure
    from neuromorph.tasks.engines import LearningGraphEngine

    model, start = one_lane
    data = spec.to_data(model)
    data["learning"]["eta"] = 10.0
    model = spec.validate_data(data)[0]
    family, st = families.of(model), structure(model)
    task = family.trainer(model)
    order = task.train_idx[:300]
    out, hidden = st.layers[1], st.layers[0]
    shipped = family.weights(model, "models")
    r = settings(model, st).rho(task.X @ shipped.W_in[hidden].T + shipped.b[hidden])[0]
    beta, T, eta, b = model.learning.beta, model.task.presentation, 10.0, shipped.b[out]
    W = np.zeros((10, r.shape[1]))
    for i in order:  # the rate rule, exactly per image
        k = eta * beta / (1 + beta) * (r[i] @ r[i])
        e0 = np.eye(10)[task.y[i]] - W @ r[i] - b
        W += eta * beta / (1 + beta) * np.outer(e0 * -np.expm1(-k * T) / k, r[i])
    engine = LearningGraphEngine(family, model, start.copy(), backends.get("nengo"))
    task.present(engine, order[None, :], learn=True)
    learned = engine.weights.W[out, hidden]

    def corr(a):
        return np.corrcoef(a.ravel(), shipped.W[out, hidden].ravel())[0, 1]

    assert abs(corr(learned) - corr(W)) < 0.1, (corr(learned), corr(W))
    assert abs(np.linalg.norm(learned) / np.linalg.norm(W) - 1) < 0.2


def test_the_chips_learning_interval_is_nengo_loihis_learning_epoch():
    """The updates counted on loihi (and on the Loihi 1 profile) assume one per plastic synapse
    every 4 ms, and the error grid assumes products shifted right by 2 bits: NengoLoihi's built
    learning synapse says so (trace every 2 steps, learning every 2^1 traces, 1 ms steps; its
    learning rate's exponent)."""
    import nengo_loihi  # noqa: F401  (the emulator builds the graph)

    from neuromorph.backends.nengo.common import simulator
    from neuromorph.backends.nengo.graph import network
    from neuromorph.hardware import profile

    graph = legalize(pes_graph(5e-5, 0.015), backends.get("loihi").traits())
    built = network(graph, inputs={"err": np.tile(ERROR, (10, 1))}, input_dt=DT, duration=0.01, loihi=True)
    with simulator(built.net, "loihi", seed=0, target="sim") as sim:
        learning = [s for b in sim.model.blocks for s in b.synapses if s.learning]
    epochs = {s.learn_epoch for s in learning}
    traits = backends.get("loihi").traits()
    assert epochs == {round(traits.learning_interval / sim.dt)}
    assert epochs == {profile.load("loihi1").learning_interval_steps.value}
    # the shift of each trace x error product, as NengoLoihi's emulator applies it: the error grid
    from nengo_loihi.builder.discretize import LEARN_FRAC, learn_overflow_bits

    shifts = {LEARN_FRAC + s._lr_exp - learn_overflow_bits(2) for s in learning}
    assert shifts == {-2} and traits.learning_error_grid == 4


def test_training_on_several_backends_reports_them_side_by_side(tmp_path):
    """`neuromorph train -b nengo,loihi` trains the rate reference and both backends into
    OUT/<backend>/ and writes one report. Updates are counted from the network: the output layer's
    synapses (3 x 30) every step on Nengo, every 4 ms on the chip, for the 6 s of learning; the
    rate model's plastic weights (30 x 5 + 3 x 30 and 33 biases) every model step. The energy of
    learning on Loihi 1 is the chip's updates (every 4 ms) at 120 pJ plus the runs' activity."""
    from click.testing import CliRunner

    from neuromorph.cli import main
    from neuromorph.hardware import profile

    out = tmp_path / "runs"
    result = CliRunner().invoke(main, ["train", TEACHER, "-b", "nengo,loihi", "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    runs = {b: json.loads((out / b / "summary.json").read_text()) for b in ("rate", "nengo", "loihi")}
    learning = {b: s["learning"] for b, s in runs.items()}
    assert learning["rate"]["updates"] == (30 * 5 + 3 * 30 + 33) * runs["rate"]["engine"]["learning_steps"]
    for backend, every in (("nengo", 0.001), ("loihi", 0.004)):
        acc = learning[backend]
        assert acc["learning_s"] == pytest.approx(6.0) and acc["synapses"] == 3 * 30
        assert acc["updates"] == round(3 * 30 * 6.0 / every)
        energy = acc["energy"]
        pj = profile.load("loihi1").energy.synaptic_update_pj.value
        # on the chip's learning engine both runs update every 4 ms
        assert energy["parts_j"]["synaptic_updates"] == pytest.approx(3 * 30 * 1500 * pj * 1e-12)
        assert energy["energy_j"] == pytest.approx(sum(energy["parts_j"].values()))
        assert energy["parts_j"]["synaptic_ops"] > 0 and energy["parts_j"]["spikes"] > 0
    assert learning["rate"]["energy"]["energy_j"] is None
    doc = json.loads((out / "training.json").read_text())
    assert list(doc["backends"]) == ["rate", "nengo", "loihi"]
    assert doc["backends"]["loihi"]["metrics"]["cost"] == runs["loihi"]["metrics"]["cost"]
    md = (out / "report.md").read_text()
    assert "learning.output_only" in md and "120 pJ" in md and (out / "learning_curves.png").is_file()
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_a_rule_the_profile_lacks_has_no_energy_on_it():
    """Dendritic learning (brian2-spiking's hidden layers) cannot run on Loihi 1 (PES only): no
    energy figure, and the reason."""
    from neuromorph.hardware import energy, profile

    rule = Dendritic("e", rate=1.0, pre_tau=0.01, feedback=np.ones((2, 2)))
    graph = Graph("d", nodes={"x": LIF(2, 0.02, 0.002, bias=np.ones(2)), "h": LIF(2, 0.02, 0.002), "e": Input(2)},
                  edges=(Connection("x", "h", np.eye(2), Lowpass(0.005), learning=rule),))
    account = {"updates": 100, "learning_s": 1.0, "spikes": {"x": 10, "h": 10}}
    out = energy.learning_energy(api.load(TEACHER), account, graph, profile.load("loihi1"))
    assert out["energy_j"] is None and "PES" in out["why"] and "Dendritic" in out["why"]


@pytest.mark.parametrize("model, backends_, message", [
    (TEACHER, "nengo,spinnaker", "unknown backend 'spinnaker'"),
    ("models/nla_digits.yaml", "brian2-spiking,nengo", "learning.lanes: 1"),
])
def test_training_on_several_backends_refuses_before_any_work(model, backends_, message, tmp_path):
    """An unknown backend, or a model one of the backends cannot train (nla_digits has 32 lanes;
    Nengo learns one), stops the whole run before anything is trained or written: exit 2."""
    from click.testing import CliRunner

    from neuromorph.cli import main

    out = tmp_path / "runs"
    result = CliRunner().invoke(main, ["train", model, "-b", backends_, "-o", str(out), "--no-progress"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_error_grid_keeps_the_mean_on_multiples_of_four_levels():
    from neuromorph.backends.nengo.loihi import PES_ERROR_SCALE, ErrorGrid

    grid = ErrorGrid(3, seed=1)
    x = np.array([0.013, -0.0021, 0.5])
    out = np.array([grid(0.0, x) for _ in range(20000)])
    levels = out * PES_ERROR_SCALE
    assert np.allclose(levels, 4 * np.round(levels / 4), atol=1e-9)
    assert np.allclose(out.mean(axis=0), x, atol=3e-4)
    assert np.array_equal(ErrorGrid(3, seed=1)(0.0, x), ErrorGrid(3, seed=1)(0.0, x))


def chip_common_mode(seconds: float) -> float:
    """Mean (w_on + w_off) / 2 of the chip's learned on/off weight pairs, in weight steps, after
    ``seconds`` of small errors (1-2 levels) that alternate in sign every 50 ms."""
    from neuromorph.backends.nengo.common import simulator
    from neuromorph.backends.nengo.graph import network

    steps = int(round(seconds / DT))
    sign = np.where((np.arange(steps) // 50) % 2 == 0, 1.0, -1.0)[:, None]
    graph = legalize(pes_graph(5e-6, 0.015), backends.get("loihi").traits())
    built = network(graph, inputs={"err": 0.05 * sign * ERROR}, input_dt=DT, duration=seconds, loihi=True)
    with simulator(built.net, "loihi", seed=0, target="sim") as sim:
        sim.run_steps(steps)
        (syn,) = [s for b in sim.model.blocks for s in b.synapses if s.learning]
        q = np.concatenate([np.asarray(w, dtype=float).reshape(1, -1) for w in syn.weights])
    step = np.gcd.reduce(np.abs(q).astype(np.int64).ravel()) or 1
    d = q.shape[1] // 2
    return float(((q[:, :d] + q[:, d:]) / 2 / step).mean())


@pytest.mark.slow  # 25 s: two 10 s runs on the emulator
def test_errors_on_the_grid_keep_the_chips_weight_pairs_centred(monkeypatch):
    """The chip's learning engine rounds each trace x error product down when it shifts it by 2
    bits; with small errors the on/off pair of every learned weight then sinks together (measured
    -3 to -6 steps in 2500-5000 updates, out of +-127) until both clip and the weight is lost. With
    errors in multiples of 4 levels (ErrorGrid) the shift is exact and the pair stays centred."""
    from neuromorph.backends.nengo import loihi

    assert abs(chip_common_mode(10.0)) < 1.0
    monkeypatch.setattr(loihi.ErrorGrid, "__call__", lambda self, t, x: np.asarray(x))
    assert chip_common_mode(10.0) < -2.0


@pytest.mark.slow  # 20-25 min: six epochs of digits at rate, on Nengo and on NengoLoihi's emulator
def test_the_chip_learns_the_digits_output_layer_as_nengo_does(tmp_path):
    """`neuromorph train tests/data/nla_digits_onchip.yaml -b nengo,loihi`: the output layer learns
    by PES from zero weights over the trained hidden layer (one lane, eta 10/s, six epochs decaying
    by 0.6), on the chip in 8-bit integers (errors on a grid of 4 levels, the learned weights'
    step following the decayed rate) and in Nengo's floats. The chip reaches the issue's 95 %
    (measured 95.1 %, 427 of 449: by one image) within 1.5 points of Nengo (95.3 %); with a fixed
    step it ended at 94.2 %, and before the error grid its second epoch fell to 48.8 %. The
    weights read back are what it learned: the rate model with them classifies within 2 points
    (95.8 %)."""
    from click.testing import CliRunner

    from neuromorph.cli import main

    out = tmp_path / "runs"
    spec_file = "tests/data/nla_digits_onchip.yaml"
    result = CliRunner().invoke(main, ["train", spec_file, "-b", "nengo,loihi", "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    runs = {b: json.loads((out / b / "summary.json").read_text()) for b in ("nengo", "loihi")}
    chip, floats = runs["loihi"]["metrics"]["accuracy"], runs["nengo"]["metrics"]["accuracy"]
    assert chip >= 0.95 and chip >= floats - 0.015, (runs["loihi"]["curve"], runs["nengo"]["curve"])
    ids = {s["id"] for s in runs["loihi"]["substitutions"]}
    assert {"learning.output_only", "learning.on_chip"} <= ids and "nla.inference_only" not in ids
    data = spec.to_data(api.load(spec_file))
    data["weights"] = str(out / "loihi" / "weights.npz")
    rate = api.simulate(spec.validate_data(data)[0], "rate")
    assert abs(rate.summary["metrics"]["accuracy"] - chip) <= 0.02
    assert (out / "report.md").is_file()


def test_the_chips_learned_weight_step_follows_the_decayed_rate():
    """NengoLoihi builds the learned synapse with exponent 4 + round(log2 decay) (at least 0): a
    rate decayed to a quarter learns its change in steps a quarter as large."""
    from neuromorph.backends.nengo.common import simulator
    from neuromorph.backends.nengo.graph import network
    from neuromorph.backends.nengo.loihi import learned_weight_exponent

    assert [learned_weight_exponent(d) for d in (1.0, 0.6, 0.36, 0.216, 0.13, 0.078, 1e-4)] == [4, 3, 3, 2, 1, 0, 0]
    graph = pes_graph(5e-5, 0.015)
    (edge,) = graph.edges
    rule = PES("err", rate=5e-5, pre_tau=0.015, decay=0.25)
    graph = graph.replace(edges=(Connection(edge.source, edge.target, edge.weights, edge.synapse, learning=rule),))
    graph = legalize(graph, backends.get("loihi").traits())
    (sub,) = [x for x in graph.substitutions if x.id == "learning.on_chip"]
    assert "step finer as the rate has decayed: x 0.25" in sub.replacement
    built = network(graph, inputs={"err": np.tile(ERROR, (10, 1))}, input_dt=DT, duration=0.01, loihi=True)
    with simulator(built.net, "loihi", seed=0, target="sim", pes_wgt_exp=built.pes_wgt_exp) as sim:
        exponents = {s.learning_wgt_exp for b in sim.model.blocks for s in b.synapses if s.learning}
    assert exponents == {2}
    with pytest.raises(GraphError, match="decay must be in"):
        PES("err", rate=1.0, pre_tau=0.01, decay=0.0).check("edge 'x'")
