"""NLA's harder circuits as Brian2 rate equations against the NumPy reference: the cortical
microcircuit (interneurons, apical compartments, plasticity of W_IP and W_PI, both nudging
modes) and recurrent networks, with the explicit scheme solved by fixed-point sweeps."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import backends
from neuromorph.tasks import Protocol, make_task

from .conftest import MODELS
from .nla_helpers import nla_model, smooth_input


def nrmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)) / np.std(a))


def both(model, protocol, record=("u", "e_bar")):
    out = []
    for name in ("rate", "brian2"):
        engine = backends.get(name).engine(model, base_dir=str(MODELS))
        rec, _ = engine.run_protocol(protocol, record=record)
        out.append((rec, engine.weights))
    return out


@pytest.mark.parametrize("nudging,learn", [
    pytest.param("one_to_one", True, marks=pytest.mark.slow),  # the shipped model's tests cover it by default
    pytest.param("random", False, marks=pytest.mark.slow), pytest.param("one_to_one", False, marks=pytest.mark.slow),
    pytest.param("random", True, marks=pytest.mark.slow),
])
def test_microcircuit_matches_the_numpy_reference(nudging, learn):
    lanes = 1 if learn else 2
    model = nla_model([5, 8, 6, 3], neuron={"rho": "soft_lif", "sigma": 0.1},
                      learning={"beta": 0.2, "eta": 5.0, "init": {"std": 0.3, "clip": 0.9},
                                "bias_init": {"mean": 1.0, "std": 0.1, "clip": 0.3}, "lanes": lanes},
                      microcircuit={"beta_I": 0.1, "eta_IP": 5.0, "eta_PI": 5.0, "nudging": nudging,
                                    "init": {"std": 0.3, "clip": 0.9}},
                      dynamics={"dt": 1e-3, "scheme": "explicit"})
    t = np.arange(80) * 1e-3
    x = smooth_input(5, lanes)(t)
    target = np.tanh(x[..., :3])
    protocol = Protocol(x=x, target=target, beta=np.full(3, 0.2), learn=learn, x0=x[0], target0=target[0])
    (rate, w_rate), (b2, w_b2) = both(model, protocol)
    assert nrmse(rate["u"], b2["u"]) <= 1e-3 and nrmse(rate["e_bar"], b2["e_bar"]) <= 1e-3
    if learn:
        for key in ("W", "W_in", "b", "W_IP", "W_PI"):
            a, b = getattr(w_rate, key), getattr(w_b2, key)
            assert np.abs(a - b).max() <= 1e-3 * np.abs(a).max(), key
        start = backends.get("rate").engine(model, base_dir=str(MODELS)).weights
        assert not np.allclose(w_rate.W_IP, start.W_IP)  # the interneurons did learn


def test_shipped_microcircuit_inference_matches_the_numpy_reference(tmp_path):
    """The shipped weights, one presentation in 4 lanes."""
    import yaml

    from .conftest import load_data

    data = load_data("nla_digits_microcircuit")
    data["learning"]["lanes"] = 4
    path = tmp_path / "micro.yaml"
    path.write_text(yaml.safe_dump(data))
    rate = nm.simulate(path, duration=0.1)
    b2 = nm.simulate(path, backend="brian2", duration=0.1)
    assert nrmse(rate.result.traces["u_out"], b2.result.traces["u_out"]) <= 1e-3
    assert b2.summary["metrics"]["accuracy"] == rate.summary["metrics"]["accuracy"]


@pytest.mark.slow  # 14 s; test_strong_recurrent_weights_are_solved_exactly[True] learns by default
def test_shipped_microcircuit_learning_matches_the_numpy_reference():
    """The shipped model's digits protocol, learning (one lane: Brian2 synapses hold one copy of
    each weight), shown four images."""
    model = nm.load(MODELS / "nla_digits_microcircuit.yaml")
    model = dataclasses.replace(model, learning=dataclasses.replace(model.learning, lanes=1))
    task = make_task(model)
    order, _ = task.lanes_order(task.train_idx[:4])
    protocol = task.protocol(order, learn=True)
    (rate, w_rate), (b2, w_b2) = both(model, protocol, record=("u",))
    assert nrmse(rate["u"], b2["u"]) <= 1e-3
    for key in ("W", "W_in", "W_IP", "W_PI"):
        a, b = getattr(w_rate, key), getattr(w_b2, key)
        assert np.abs(a - b).max() <= 1e-3 * np.abs(a).max(), key
    start = backends.get("rate").engine(model, base_dir=str(MODELS)).weights
    assert not np.allclose(w_rate.W_IP, start.W_IP) and not np.allclose(w_rate.W, start.W)  # it did learn


def test_recurrent_signals_network_matches_without_divergence():
    rate = nm.simulate(MODELS / "nla_signals.yaml", duration=1.0)
    b2 = nm.simulate(MODELS / "nla_signals.yaml", backend="brian2", duration=1.0)
    assert b2.summary["all_finite"]
    assert nrmse(rate.result.traces["u_out"], b2.result.traces["u_out"]) <= 1e-3
    assert b2.summary["metrics"]["nrmse"] == pytest.approx(rate.summary["metrics"]["nrmse"], rel=1e-3)


@pytest.mark.parametrize("learn", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_strong_recurrent_weights_are_solved_exactly(tmp_path, learn):
    """Trained recurrent weights (norm about 6 for nla_signals) make Jacobi sweeps diverge; the
    conjugate-gradient solve matches the NumPy reference's dense solve, inferring and learning."""
    from neuromorph import families

    model = nm.load(MODELS / "nla_signals.yaml")
    family = families.of(model)
    weights = family.initial_weights(model)
    rng = np.random.default_rng(0)
    weights.W[...] = rng.normal(0, 1.2, weights.W.shape) * (weights.W != 0)  # the mask's structure
    assert np.linalg.norm(weights.W, 2) > 5
    (tmp_path / "w.npz").write_bytes(family.weights_bytes(model, weights, {}))
    model = dataclasses.replace(model, weights=str(tmp_path / "w.npz"))
    task = make_task(model)
    protocol = task.eval_protocol()
    protocol = dataclasses.replace(protocol, x=protocol.x[:100], target=protocol.target[:100], learn=learn)
    (rate, w_rate), (b2, w_b2) = both(model, protocol, record=("u",))
    assert nrmse(rate["u"], b2["u"]) <= 1e-6
    if learn:
        assert np.abs(w_rate.W - w_b2.W).max() <= 1e-6 * np.abs(w_rate.W).max()
        assert not np.allclose(w_rate.W, weights.W)
