"""NLA runs end to end: simulate and train through the CLI, weights files, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import neuromorph as nm
from neuromorph.families.nla.network import load_weights, structure

from .conftest import MODELS, load_data


def small_teacher(spec_file, **task):
    d = load_data("nla_teacher")
    d.pop("weights", None)  # untrained: the tests train it
    d["task"].update({"train_duration": 2.0, "eval_every": 1.0, "test_duration": 0.5}, **task)
    d["learning"]["lanes"] = 4
    return spec_file(d, "teacher_small.yaml")


def test_simulate_nla_writes_outputs(cli, tmp_path, spec_file):
    out = tmp_path / "sim"
    res = cli("simulate", small_teacher(spec_file), "--out", out)
    assert res.code == 0, res.err
    with np.load(out / "result.npz") as z:
        assert z["u_out"].shape == (100, 4, 3) and z["target"].shape == (100, 4, 3)
        assert z["t"][1] == pytest.approx(0.005)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["family"] == "nla" and summary["metrics"]["cost"] > 0
    assert summary["backend_info"]["steps"] == 500


def test_train_writes_weights_curve_summary_and_is_deterministic(cli, tmp_path, spec_file):
    file = small_teacher(spec_file)
    for name in ("a", "b"):
        res = cli("train", file, "--out", tmp_path / name)
        assert res.code == 0, res.err
    a = tmp_path / "a"
    assert {p.name for p in a.iterdir()} == {"weights.npz", "learning_curve.png", "summary.json"}
    summary = json.loads((a / "summary.json").read_text())
    metrics = summary["metrics"]
    assert metrics["cost"] < metrics["cost_before_training"]
    assert [c["time"] for c in summary["curve"]] == [0.0, 1.0, 2.0]
    model = nm.load(file)
    wa, wb = (load_weights(tmp_path / n / "weights.npz", structure(model)) for n in ("a", "b"))
    for key, value in wa.arrays().items():
        np.testing.assert_array_equal(value, wb.arrays()[key])


def test_trained_weights_are_used_by_simulate(cli, tmp_path, spec_file):
    file = small_teacher(spec_file)
    cli("train", file, "--out", tmp_path / "tr")
    d = yaml.safe_load(file.read_text())
    d["weights"] = str(tmp_path / "tr" / "weights.npz")
    trained = spec_file(d, "with_weights.yaml")
    cli("simulate", file, "--out", tmp_path / "s0")
    cli("simulate", trained, "--out", tmp_path / "s1")
    before = json.loads((tmp_path / "s0" / "summary.json").read_text())["metrics"]["cost"]
    after = json.loads((tmp_path / "s1" / "summary.json").read_text())["metrics"]["cost"]
    train_summary = json.loads((tmp_path / "tr" / "summary.json").read_text())
    assert after < before
    assert after == pytest.approx(train_summary["metrics"]["cost"], rel=1e-9)


def test_weights_for_another_network_are_refused(cli, tmp_path, spec_file):
    file = small_teacher(spec_file)
    cli("train", file, "--out", tmp_path / "tr")
    d = yaml.safe_load(file.read_text())
    d["network"]["layers"] = [5, 21, 3]
    d["weights"] = str(tmp_path / "tr" / "weights.npz")
    res = cli("simulate", spec_file(d, "other.yaml"), "--out", tmp_path / "o")
    assert res.code == 2
    assert "weights:" in res.err and "different network" in res.err
    assert not (tmp_path / "o").exists()


def test_train_refuses_bm_models(cli, tmp_path):
    res = cli("train", MODELS / "kim_fig3_solid.yaml", "--out", tmp_path / "o")
    assert res.code == 2 and "family 'bm' has no learning to run; `train` is for nla, pc models" in res.err


def test_digits_inference_with_short_duration(cli, tmp_path, spec_file):
    d = load_data("nla_digits")
    d.pop("weights", None)
    res = cli("simulate", spec_file(d, "digits.yaml"), "--duration", 0.2, "--out", tmp_path / "d")
    assert res.code == 0, res.err
    s = json.loads((tmp_path / "d" / "summary.json").read_text())
    assert s["metrics"]["test_samples"] == 2 * 32
    assert 0.0 <= s["metrics"]["accuracy"] <= 0.3  # untrained weights: near chance


def test_signals_short_run(spec_file, tmp_path):
    d = load_data("nla_signals")
    d["task"].update(train_duration=0.5, test_duration=0.5, epochs=1)
    run = nm.train(nm.load(spec_file(d, "sig.yaml")))
    m = run.summary["metrics"]
    assert set(m) >= {"nrmse", "nrmse_per_channel", "withheld_channels", "nrmse_before_training"}
    assert m["withheld_channels"] == [6, 7]
