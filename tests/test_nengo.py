"""Nengo and NengoLoihi (emulator) backends against the rate reference; every substitution the
compiler makes must reach summary.json."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.backends import get
from neuromorph.run.simulate import with_overrides

from .conftest import MODELS, load_data, short_of_the_bar


def nrmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)) / np.std(a))


def trajectory_error(rate, run) -> float:
    return max(nrmse(rate.traces[v], run.traces[v]) for v in ("mu", "w"))


@pytest.fixture(scope="session")
def kim_rate():
    return nm.simulate(MODELS / "kim_fig3_solid.yaml").result


@pytest.fixture(scope="session")
def kim_loihi():
    return nm.simulate(MODELS / "kim_fig3_solid.yaml", backend="loihi")


@pytest.fixture(scope="session")
def digits_rate():
    return nm.simulate(MODELS / "nla_digits.yaml").summary["metrics"]["accuracy"]


@pytest.mark.slow  # 8 s
def test_nengo_kim_fig3_trajectory_within_ten_percent(kim_rate):
    run = nm.simulate(MODELS / "kim_fig3_solid.yaml", backend="nengo").result
    assert trajectory_error(kim_rate, run) <= 0.10
    assert np.all(run.traces["p_mu"] == 0)
    assert run.info.hardware["runs_on"] == "Nengo reference simulator (CPU)"
    assert run.info.spikes["bm[0]"] > 0


@pytest.mark.slow  # the full-size emulator run, 45 s
@pytest.mark.xdist_group("kim_loihi")
def test_loihi_kim_fig3_runs_on_the_emulator_and_tracks_the_rate_model(kim_rate, kim_loihi):
    info = kim_loihi.result.info
    assert info.hardware["runs_on"].startswith("Loihi emulator")
    assert info.hardware["target"] == "sim"
    # better than predicting the rate trajectory's mean (nrmse 1), for both variables
    assert trajectory_error(kim_rate, kim_loihi.result) < 1.0
    ids = {s.id for s in info.substitutions}
    assert {"synapse.alpha_on_chip", "weights.discretized", "loihi.decode_tau", "neuron.loihi_lif",
            "initial.chip_input", "input.s_on_chip", "loihi.decode_gain", "ensemble.intercepts"} <= ids
    assert info.resources["cores"] >= 2 and info.resources["blocks"][0]["compartments"][1] == 1024


@pytest.mark.slow
@pytest.mark.xdist_group("kim_loihi")
def test_loihi_kim_fig3_trajectory_within_twenty_percent(kim_rate, kim_loihi):
    assert trajectory_error(kim_rate, kim_loihi.result) <= 0.20  # 0.17 with the spec's seed


def test_decode_gain_is_nengo_loihis_documented_scale_factor():
    """NengoLoihi's Preset10 decode neurons are documented to scale their output by 1.02."""
    from neuromorph.backends.nengo.loihi import decode_gain

    assert decode_gain() == pytest.approx(1.02, abs=0.005)


@pytest.mark.slow
def test_loihi_kim_fig3_within_twenty_percent_across_spiking_seeds():
    """Not only the spec's seed: over 8 spiking realizations (tuning curves, hence discretized
    weights) the upper end of the mean's 95 % interval stays within 0.20."""
    from neuromorph.compare.metrics import ci95

    errors = np.maximum(*kim_errors("kim_fig3_solid", None, "loihi", range(8)).values()).tolist()
    print("loihi kim_fig3_solid nrmse by spiking seed", np.round(errors, 3))
    assert ci95(errors)["ci95"][1] <= 0.20


def kim_errors(name: str, neurons: int | None, backend: str, seeds) -> dict:
    """nrmse of mu and w against the rate model, per spiking seed, at ``neurons`` per dimension
    (None: the spec's own)."""
    from neuromorph.compare.runner import with_spiking_seed

    data = load_data(name)
    if neurons is not None:
        data["spiking"] = {**data.get("spiking", {}), "neurons": neurons}
    model, problems = nm.spec.validate_data(data)
    assert model is not None, problems
    rate = nm.simulate(model).result
    runs = [nm.simulate(with_spiking_seed(model, s), backend=backend).result for s in seeds]
    return {v: [nrmse(rate.traces[v], run.traces[v]) for run in runs] for v in ("mu", "w")}


@pytest.mark.slow  # 2-4 min per model
@pytest.mark.parametrize("name", ["kim_fig3_solid", "kim_fig3_dotted", "kim_fig5"])
def test_nengo_kim_within_the_fidelity_bar_across_spiking_seeds(name):
    """#18's Nengo bar at 1200 neurons per represented dimension: nrmse against the rate model,
    mu and w each, over spiking seeds 0-7: the upper end of the mean's 95 % interval <= 0.05 and
    every seed <= 0.08. Measured (mean, worst seed; mu / w): kim_fig3_solid 0.040 / 0.046, 0.043 /
    0.049; kim_fig3_dotted 0.035 / 0.044, 0.039 / 0.046; kim_fig5 0.035 / 0.032, 0.037 / 0.034."""
    from neuromorph.compare.metrics import ci95

    for v, errors in kim_errors(name, 1200, "nengo", range(8)).items():
        print(f"{name} {v} nrmse by spiking seed", np.round(errors, 3))
        assert ci95(errors)["ci95"][1] <= 0.05 and max(errors) <= 0.08, (v, errors)


@pytest.mark.slow  # 30 min (kim_fig3_solid and _dotted) to 80 min (kim_fig5: 36,000 neurons) per model
@pytest.mark.parametrize("name", [
    pytest.param("kim_fig3_solid", marks=short_of_the_bar("upper ends 0.110 / 0.104, seed 5 at 0.140 / 0.131")),
    pytest.param("kim_fig3_dotted", marks=short_of_the_bar("upper ends 0.134 / 0.124, mean 0.120 / 0.110")),
    "kim_fig5"])
def test_loihi_kim_within_the_fidelity_bar_across_spiking_seeds(name):
    """#18's Loihi bar at 4000 neurons per dimension (3 replicas per synapse): nrmse against the
    rate model, mu and w each, over spiking seeds 0-7: the upper end of the mean's 95 % interval
    <= 0.10 and every seed <= 0.15. Measured with these functions from scripts (docs/kim.md; mean,
    upper end; mu / w): kim_fig5 0.077 / 0.070, 0.082 / 0.075 (every seed <= 0.083); kim_fig3_solid
    0.092 / 0.089, 0.110 / 0.104 (seed 5 0.140); kim_fig3_dotted 0.120 / 0.110, 0.134 / 0.124 (every
    seed <= 0.136)."""
    from neuromorph.compare.metrics import ci95

    for v, errors in kim_errors(name, 4000, "loihi", range(8)).items():
        print(f"{name} {v} nrmse by spiking seed on loihi", np.round(errors, 3))
        assert ci95(errors)["ci95"][1] <= 0.10 and max(errors) <= 0.15, (v, errors)


@pytest.mark.slow  # nengo 2 min, loihi 12 min
@pytest.mark.parametrize("backend", ["nengo", "loihi"])
def test_kim_error_does_not_rise_with_neurons(backend):
    """#18: kim_fig3_solid from 500 to 4000 neurons per dimension, spiking seeds 0-1 (the seeds of
    docs/kim.md's sweep): the mean over seeds of the worse of mu's and w's nrmse does not rise
    from one size to the next, and at 4000 it is at most 60 % of 500's. On Loihi larger synapses
    become independent replicas (bm.replicas: 2 at 2000, 3 at 4000); decoded in parts instead,
    2000 was worse than 1000 and 4000 did not fit. Loihi's spread between seeds is wide at 2000
    (0.07-0.16 over seeds 0-3, docs/kim.md)."""
    sizes, means = (500, 1000, 2000, 4000), []
    for n in sizes:
        errors = kim_errors("kim_fig3_solid", n, backend, range(2))
        means.append(float(np.mean(np.maximum(errors["mu"], errors["w"]))))
    print(f"\n  {backend}: worse of mu, w by neurons {dict(zip(sizes, np.round(means, 3)))}")
    assert all(b <= a for a, b in zip(means, means[1:])), means
    assert means[-1] <= 0.6 * means[0], means


@pytest.mark.xdist_group("digits_rate")
@pytest.mark.slow  # 20 s on nengo (the whole test split at 100 ms)
@pytest.mark.parametrize("backend", ["nengo", "loihi"])
def test_digits_within_two_points_of_rate(backend, digits_rate):
    run = nm.simulate(MODELS / "nla_digits.yaml", backend=backend)
    metrics, engine = run.summary["metrics"], run.summary["backend_info"]
    assert metrics["presentation"] == 0.1 and metrics["test_samples"] == 449
    assert metrics["accuracy"] >= digits_rate - 0.02
    assert engine["spikes"]["h1"] > 0 and engine["neurons"]["h1"] == 100 * 32


@pytest.mark.parametrize("model,backend", [("nla_digits", "loihi"),
                                           pytest.param("kim_fig3_solid", "loihi", marks=pytest.mark.slow),
                                           pytest.param("kim_fig3_solid", "nengo", marks=pytest.mark.slow),
                                           ("nla_digits", "nengo")])
def test_every_substitution_reaches_summary_json(cli, tmp_path, model, backend):
    ir = with_overrides(nm.load(MODELS / f"{model}.yaml"), duration=0.3)
    compiled = get(backend).compile(ir, base_dir=str(MODELS))
    expected = [s.as_dict() for s in compiled.graph.substitutions]
    assert expected, "the compiler recorded no substitution"
    res = cli("simulate", MODELS / f"{model}.yaml", "-b", backend, "--duration", "0.3", "--out", tmp_path / "o")
    assert res.code == 0, res.err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    recorded = summary["backend_info"]["substitutions"]
    for sub in expected:
        assert sub in recorded
    assert summary["versions"]["nengo"].startswith("4.1")


def test_loihi_compile_reports_resources_per_core(cli):
    res = cli("compile", MODELS / "nla_digits.yaml", "--target", "loihi")
    assert res.code == 0, res.err
    out = res.out
    assert "runs on Loihi emulator" in out
    assert "Loihi resources: 1 cores" in out  # one copy: h1 on chip; inputs off chip, readout on host
    assert "compartments 100/1024" in out and "synapses" in out
    assert "[synapse.alpha_on_chip]" in out and "Lowpass(30 ms)" in out
    assert "1 x Ensemble(100 neurons, 1 dims, LIF)" in out


def test_no_nengo_loihi_warning_reaches_the_user(recwarn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nm.simulate(MODELS / "kim_fig3_solid.yaml", backend="loihi", duration=0.2)


def test_presentation_override_refused_for_trajectory_models(cli, tmp_path):
    res = cli("simulate", MODELS / "kim_fig5.yaml", "-b", "nengo", "--presentation", "0.05", "--out", tmp_path / "o")
    assert res.code == 2
    assert "task.presentation: --presentation applies to classification models" in res.err
    assert not (tmp_path / "o").exists()


def test_script_export_is_refused_for_nengo(cli, tmp_path):
    res = cli("compile", MODELS / "kim_fig3_solid.yaml", "--target", "nengo", "--out", tmp_path / "s.py")
    assert res.code == 2
    assert "standalone scripts are written for the brian2 targets only" in res.err


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["nengo", "loihi"])
def test_digits_accuracy_by_presentation_time(backend, digits_rate):
    found = {}
    for presentation in (0.02, 0.05, 0.1, 0.2):
        run = nm.simulate(MODELS / "nla_digits.yaml", backend=backend, presentation=presentation)
        assert run.summary["metrics"]["presentation"] == presentation
        found[presentation] = run.summary["metrics"]["accuracy"]
    print(backend, found)
    assert found[0.1] >= digits_rate - 0.02
    # below the mapping's 80 ms delay the shipped spec's latency: auto compiles for the presentation
    # time (docs/latency.md): 20 ms stays within the 4 points of the rate model (one seed here)
    assert found[0.02] >= digits_rate - 0.04
