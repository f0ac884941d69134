"""Hardware profiles: validation, `neuromorph check` against NengoLoihi's own builds, weight
quantization, energy estimates."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.hardware import energy, profile, quantize

from .conftest import MODELS, ROOT

DATA = ROOT / "tests" / "data"
PROFILES = ["loihi1", "loihi2", "spinnaker2", "cpu"]


def blocks_of(doc):
    est = sorted((b["neurons"], b["input_axons"], b["output_axons"], b["synapse_bits"]) for b in doc["blocks"])
    built = sorted((b["compartments"][0], b["in-axons"][0], b["out-axons"][0], b["synapses"][0])
                   for b in doc["simulator_build"]["blocks"])
    return est, built


@pytest.mark.parametrize("name", PROFILES)
def test_shipped_profiles_load_and_every_number_has_a_source(name):
    p = profile.load(name)
    found = profile.facts(p)
    # 19 facts each; loihi1 adds the learning engine's update energy and interval, loihi2 the first
    assert len(found) == 19 + {"loihi1": 2, "loihi2": 1}.get(name, 0)
    for key, fact in found.items():
        assert fact.source.strip(), key
        assert (fact.value is None) == (fact.status in profile.NO_VALUE), key


def test_unknowns_stay_unknown():
    assert profile.load("spinnaker2").energy.synaptic_op_pj.value is None
    loihi2 = profile.load("loihi2").energy
    assert {loihi2.synaptic_op_pj.status, loihi2.neuron_update_pj.status} == {"assumption"}
    assert profile.load("loihi1").energy.synaptic_op_pj.status == "disputed"


@pytest.mark.parametrize("spec", [MODELS / "nla_digits.yaml", DATA / "nla_two_layers.yaml",
                                  MODELS / "nla_digits_microcircuit.yaml",
                                  pytest.param(MODELS / "kim_fig3_solid.yaml", marks=pytest.mark.slow),
                                  pytest.param(MODELS / "kim_fig5.yaml", marks=pytest.mark.slow)])
def test_check_cores_agree_with_nengo_loihis_blocks(cli, spec):
    res = cli("check", spec, "--profile", "loihi1", "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    est, built = blocks_of(doc)
    assert est == built  # every core: neurons, input and output axons, synapse bits
    assert doc["cores"] == doc["simulator_build"]["cores"] and doc["verdict"].startswith("fits")


def test_check_nla_digits_text(cli):
    res = cli("check", MODELS / "nla_digits.yaml", "-p", "loihi1")
    assert res.code == 0
    assert "nla_digits on loihi1: fits: 1 core(s) on 1 chip(s)" in res.out
    assert "cores: 1 (estimated from the model's structure); the loihi backend's own build: 1" in res.out
    assert "[synapse_types] alpha synapse (tau = 15 ms) into on-chip neurons: not available (only lowpass)" in res.out


def test_oversized_model_reports_every_violated_rule_and_exits_1(cli):
    res = cli("check", DATA / "nla_oversized.yaml", "-p", "loihi1")
    assert res.code == 1 and "Traceback" not in res.out + res.err
    out = res.out
    assert "does not fit (3 error(s))" in out
    # 2 kHz inputs on a 1 ms clock: two input neurons per input (input.split), twice the axons
    assert "error: [input_axons_per_core] h1: 10000 input axons per core > 4096" in out
    assert "error: [cores_and_chips] 553 cores need 5 chips; the profile has 1" in out
    assert "error: [refractory_period] tau_ref = 100 ms is 101 steps > 63" in out
    assert "to fit: use a system with >= 5 chips" in out and "to fit: shorten tau_ref to <= 62 ms" in out
    assert "warning: [input_rate] input rate 2000 Hz > one spike per 1 ms step: 2 input neurons per input" in out


def test_profiles_reject_bad_values_with_clear_errors(cli, tmp_path):
    text = (ROOT / "hardware_profiles" / "loihi1.yaml").read_text()
    bad = text.replace("  neurons: {value: 1024,", "  nerons: {value: 1024,")
    bad = bad.replace("time_step: {value: 0.001,", "time_step: {value: -0.001,")
    bad = bad.replace("refractory_max_steps: {value: 63, source: \"nengo_loihi 1.1.0, nxsdk_objects.py\", "
                      "status: measured}",
                      "refractory_max_steps: {value: null, source: \"x\", status: measured}")
    bad = bad.replace("status: disputed", "status: doubtful")
    bad = bad.replace("neuron_reset: {value: [zero],", "neuron_reset: {value: [sideways],")
    path = tmp_path / "broken.yaml"
    path.write_text(bad)
    res = cli("check", MODELS / "nla_digits.yaml", "--profile", path)
    assert res.code == 2 and "Traceback" not in res.err
    err = res.err
    assert f"{path}:" in err
    assert "core.nerons: unknown key (did you mean 'neurons'?)" in err
    assert "time_step" in err and "must be >= 0 (got -0.001)" in err
    assert "refractory_max_steps" in err and "value must be null exactly when status is 'unknown'" in err
    assert "energy.synaptic_op_pj.status" in err and "'measured'" in err
    assert "neuron_reset: " in err and "must be a list of zero, subtract (got ['sideways'])" in err
    res = cli("check", MODELS / "nla_digits.yaml", "--profile", "lohi1")
    assert res.code == 2
    assert "unknown hardware profile 'lohi1' (did you mean 'loihi1'?); should be one of: " \
        "cpu, loihi1, loihi2, spinnaker2" \
        in res.err


def test_block_quantization_rule():
    rng = np.random.default_rng(0)
    W = rng.normal(0, 0.2, (50, 30))
    Q = quantize.quantize_block(W, 8)
    step = np.abs(W).max() / 127.5
    assert len(np.unique(Q)) <= 255
    assert np.max(np.abs(Q - W)) <= step / 2 + 1e-12
    np.testing.assert_allclose(Q / step, np.round(Q / step), rtol=0, atol=1e-9)  # multiples of one step
    assert np.abs(Q / step).max() <= 127


def test_loihi1_quantization_is_nengo_loihis_and_matches_its_build_report():
    from neuromorph import backends
    from neuromorph.families import nla

    model = nm.load(MODELS / "nla_digits.yaml")
    st = nla.structure(model)
    weights = nla.model_weights(model, st, str(MODELS))
    q = quantize.quantized_weights(model, profile.load("loihi1"), str(MODELS))
    h = st.layers[0]
    assert not np.array_equal(q.W_in[h], weights.W_in[h]) and np.array_equal(q.W, weights.W)  # read-out stays float
    levels = np.unique(q.W_in[h])
    step = np.diff(levels).min()
    assert np.allclose(levels / step, np.round(levels / step), atol=1e-6) and len(levels) <= 255  # one shared step
    loihi = backends.get("loihi")
    graph = loihi.compile(model, base_dir=str(MODELS)).graph
    reported = loihi.quantization(graph, 0)["relative_rms_error"]
    assert quantize.relative_error(graph, profile.load("loihi1")) == pytest.approx(reported, rel=1e-6)


@pytest.mark.slow
def test_hard_sigmoid_units_are_four_compartments_on_loihi1_and_their_weights_read_back():
    """Loihi 1 resets to 0 (profile fact neuron_reset): the estimate's graph splits each
    integrate-and-fire unit as the loihi backend does, and the quantized weights read back from it
    are the trained ones within one 8-bit step (the copies' input gain of 4 divided out)."""
    from neuromorph.families import nla
    from neuromorph.hardware.target import graphs, traits

    loihi1 = profile.load("loihi1")
    assert traits(loihi1).reset_modes == {"zero"} and traits(profile.load("loihi2")).reset_modes == {"zero", "subtract"}
    model = nm.load(MODELS / "nla_digits_microcircuit.yaml")
    legal = graphs(model, loihi1, str(MODELS))[1]
    assert legal.nodes["h1"].size == 400 and legal.meta["split_units"]["h1"]["copies"] == 4
    st = nla.structure(model)
    trained = nla.model_weights(model, st, str(MODELS))
    q = quantize.quantized_weights(model, loihi1, str(MODELS))
    h = st.layers[0]
    assert not np.array_equal(q.W_in[h], trained.W_in[h])
    np.testing.assert_allclose(q.W_in[h], trained.W_in[h], rtol=0, atol=np.abs(trained.W_in[h]).max() / 127)


def test_energy_estimate_from_counted_operations():
    run = nm.simulate(MODELS / "nla_digits.yaml", backend="nengo", duration=0.3)
    model = run.model
    est = energy.estimate(model, run.summary, profile.load("loihi1"))
    spikes = run.summary["backend_info"]["spikes"]
    n = 3 * 32  # 3 presentations in each of 32 lanes
    c = est["counts"]
    assert c["inferences"] == pytest.approx(n)
    assert c["synaptic_ops"] == pytest.approx(spikes["input"] * 100 / n)
    assert c["neuron_updates"] == pytest.approx(100 * 100)  # 100 neurons x 100 steps of 1 ms
    expected = (c["synaptic_ops"] * 23.6 + c["neuron_updates"] * 81.0 + c["spikes"] * 1.7) * 1e-12
    assert est["energy_j"] == pytest.approx(expected) and est["latency_s"] == pytest.approx(0.1)
    assert est["sources"]["synaptic_op_pj"]["status"] == "disputed"
    assert energy.estimate(model, run.summary, profile.load("loihi2"))["statuses"] == ["assumption"]
    unknown = energy.estimate(model, run.summary, profile.load("spinnaker2"))
    assert unknown["energy_j"] is None and "unknown" in unknown["why"]


@pytest.mark.slow  # 14 s; the matrix's deploy test checks the rate-quantized rows by default
def test_digits_report_shows_rate_quantized_and_spiking_accuracy_and_energy(cli, tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"format_version: 1\nkind: deployment\nname: t\nmodel: {MODELS / 'nla_digits.yaml'}\n"
                        "target: loihi\nhardware_profile: loihi1\nenergy_profiles: [loihi2]\ncompare_with: [rate]\n"
                        "run: {presentation_times: [0.1], duration: 0.3}\n")
    res = cli("deploy", manifest, "--out", tmp_path / "d")
    assert res.code == 0, res.err
    doc = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert list(doc["backends"]) == ["rate", "rate-quantized:loihi1", "rate-quantized:loihi2", "loihi"]
    for name in doc["backends"]:
        assert 0 <= doc["backends"][name]["accuracy"]["0.1"] <= 1
    energy_on = doc["backends"]["loihi"]["hardware"]["energy"]
    assert set(energy_on) == {"loihi1", "loihi2"} and energy_on["loihi1"]["energy_j"] > 0
    assert doc["deploy"]["fit"]["verdict"].startswith("fits")
    md = (tmp_path / "d" / "report.md").read_text()
    assert "| rate-quantized:loihi1 |" in md and "## Hardware estimates" in md
    assert "Davies et al. 2018" in md and "assumed equal to Loihi 1" in md
    assert "## Fit on `loihi1`: fits" in md
