"""`neuromorph compare` and `neuromorph deploy`: metrics.json against its schema and against the
backends' own runs, the report's images, the report in headless Chromium, atomic output."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess

import jsonschema
import numpy as np
import pytest

import neuromorph as nm
from neuromorph.compare import compare_and_report, metrics
from neuromorph.run.simulate import with_overrides

from .conftest import MODELS, ROOT as REPO

ALL = ["rate", "brian2", "brian2-spiking", "nengo", "loihi"]
PNG = b"\x89PNG\r\n\x1a\n"


def short(name: str, duration: float, neurons: int | None = None):
    """The shipped model, shortened (and with ``neurons`` per dimension in population codes); its
    weights file (if any) named by absolute path."""
    model = with_overrides(nm.load(MODELS / f"{name}.yaml"), duration=duration)
    if getattr(model, "weights", None):
        model = dataclasses.replace(model, weights=str(MODELS / model.weights))
    if neurons is not None:
        model = dataclasses.replace(model, spiking=dataclasses.replace(model.spiking, neurons=neurons))
    return model


# tests that share the kim5 comparison run in one worker; slow: the comparison on every backend takes
# 28 s (the digits comparison checks the same plumbing in the default suite)
KIM5 = pytest.mark.xdist_group("kim5")
DIGITS = pytest.mark.xdist_group("digits")


@pytest.fixture(scope="session")
def kim5(tmp_path_factory):
    out = tmp_path_factory.mktemp("kim5") / "report"
    model = short("kim_fig5", 0.3, neurons=100)  # agreement with own runs, not accuracy: a small code
    comparison, doc = compare_and_report(model, ALL, out=out, spec_file=str(MODELS / "kim_fig5.yaml"))
    return model, comparison, doc, out


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits") / "report"
    model = short("nla_digits", 0.05)  # the first 16 test images, 50 ms each (latency: auto)
    model = dataclasses.replace(model, learning=dataclasses.replace(model.learning, lanes=16))
    comparison, doc = compare_and_report(model, ALL, presentations=[0.05], out=out,
                                         spec_file=str(MODELS / "nla_digits.yaml"))
    return model, comparison, doc, out


@KIM5
@pytest.mark.slow
def test_kim_fig5_metrics_equal_each_backends_own_simulate_run(kim5):
    model, _, doc, _ = kim5
    metrics.validate(doc)
    assert list(doc["backends"]) == ALL and doc["kind"] == "trajectory"
    rate = nm.simulate(model).result
    for name in ("brian2", "loihi"):  # a rate-mode and a spiking backend: the plumbing is shared
        own = nm.simulate(model, backend=name)
        m = doc["backends"][name]
        for var in ("mu", "w"):
            y, r = np.asarray(own.result.traces[var]).ravel(), np.asarray(rate.traces[var]).ravel()
            assert m["rmse_vs_rate"][var] == pytest.approx(float(np.sqrt(np.mean((y - r) ** 2))), rel=1e-12)
            assert m["nrmse_vs_rate"][var] == pytest.approx(m["rmse_vs_rate"][var] / float(np.std(r)), rel=1e-12)
        assert m["nrmse_vs_rate"]["p_mu"] is None  # the momenta stay 0: no spread to normalize by
        spikes = own.summary["backend_info"]["spikes"]
        assert m["spike_count"] == (sum(spikes.values()) if spikes else None)
    assert doc["backends"]["brian2"]["nrmse_vs_rate"]["mu"] < 1e-3
    assert doc["backends"]["loihi"]["hardware"]["runs_on"].startswith("Loihi emulator")
    assert any(s["id"] == "synapse.alpha_on_chip" for s in doc["backends"]["loihi"]["substitutions"])


@DIGITS
def test_digits_accuracy_equals_each_backends_own_simulate_run(digits):
    model, _, doc, _ = digits
    metrics.validate(doc)
    assert doc["kind"] == "classification" and doc["presentation_times"] == [0.05]
    for name in ("rate", "brian2-spiking", "nengo"):  # the reference and two spiking backends
        own = nm.simulate(model, backend=name, presentation=0.05)
        assert doc["backends"][name]["accuracy"]["0.05"] == own.summary["metrics"]["accuracy"]
    assert doc["backends"]["brian2"]["accuracy"]["0.05"] == doc["backends"]["rate"]["accuracy"]["0.05"]


# one test per comparison, each in its comparison's worker group (xdist groups parametrized cases
# by the function's marker, so parameters cannot carry them)
@KIM5
@pytest.mark.slow
def test_every_report_image_is_a_real_png_kim5(kim5):
    report_images_are_real_pngs("kim5", kim5[-1])


@DIGITS
def test_every_report_image_is_a_real_png_digits(digits):
    report_images_are_real_pngs("digits", digits[-1])


def report_images_are_real_pngs(which, out):
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    linked = re.findall(r"\]\((plots/[^)]+\.png)\)", md)
    assert embedded and len(embedded) == len(linked)
    import base64

    for data, path in zip(embedded, linked):
        raw = base64.b64decode(data)
        assert raw.startswith(PNG) and (out / path).read_bytes() == raw
    assert not re.search(r'<img[^>]+src="(?!data:)', html)  # nothing outside the file
    names = {p.split("/")[1] for p in linked}
    expected = {"trajectories.png", "rasters.png", "rates.png", "quantization.png", "wall.png"} if which == "kim5" \
        else {"accuracy.png", "confusion.png", "rasters.png", "rates.png", "quantization.png", "wall.png"}
    assert expected <= names


@DIGITS
def test_metrics_file_validates_and_schema_rejects_a_broken_document(digits):
    *_, out = digits
    doc = json.loads((out / "metrics.json").read_text())
    metrics.validate(doc)
    broken = json.loads(json.dumps(doc))
    broken["backends"]["nengo"]["accuracy"] = "high"
    with pytest.raises(jsonschema.ValidationError):
        metrics.validate(broken)
    del broken["format"]
    with pytest.raises(jsonschema.ValidationError):
        metrics.validate(broken)


def test_several_seeds_give_mean_and_interval(tmp_path):
    model = short("kim_fig3_solid", 0.5, neurons=150)
    _, doc = compare_and_report(model, ["nengo"], seeds=3, out=tmp_path / "r")
    metrics.validate(doc)
    stat = doc["backends"]["nengo"]["nrmse_vs_rate"]["mu"]
    assert len(stat["per_seed"]) == 3 and len(set(stat["per_seed"])) == 3  # the spikes differ per seed
    assert stat["ci95"][0] < stat["mean"] < stat["ci95"][1]
    assert doc["seeds"] == [model.seed, model.seed + 1, model.seed + 2]
    rate = doc["backends"]["rate"]["nrmse_vs_rate"]["mu"]
    assert rate["per_seed"] == [0.0, 0.0, 0.0]  # the rate model does not depend on the spiking seed


def test_interrupted_report_leaves_nothing(tmp_path, monkeypatch):
    from neuromorph.compare import report

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "FIGURES", report.FIGURES[:1] + [("x.png", "x", boom, "metrics")])
    with pytest.raises(KeyboardInterrupt):
        compare_and_report(short("kim_fig3_solid", 0.2), ["nengo"], out=tmp_path / "r")
    assert not (tmp_path / "r").exists()
    assert not list(tmp_path.iterdir())  # no staging directory left behind either


def test_compare_cli_prints_table_and_report_path(cli, tmp_path):
    """kim_fig3_solid's first 2 s (of 10) on nengo: the table's nrmse of mu and w, the report path."""
    import yaml

    data = yaml.safe_load((MODELS / "kim_fig3_solid.yaml").read_text())
    data["time"]["duration"] = 2.0
    path = tmp_path / "kim.yaml"
    path.write_text(yaml.safe_dump(data))
    res = cli("compare", path, "-b", "nengo", "--out", tmp_path / "r")
    assert res.code == 0, res.err
    assert re.search(r"^nengo\s+0\.\d+\s+0\.\d+", res.out, re.M)
    assert f"report: {tmp_path / 'r' / 'report.html'}" in res.out


@pytest.mark.parametrize("args,message", [
    (["-b", "rate,lohi"], "unknown backend 'lohi' (did you mean 'loihi'?); should be one of: brian2, "
                         "brian2-spiking, loihi, nengo, rate"),
    (["--presentation-times", "0.1"], "--presentation-times applies to classification models"),
    (["--presentation-times", "0.1,-2"], "--presentation-times: every value must be > 0"),
])
def test_compare_cli_refuses_bad_options(cli, tmp_path, args, message):
    res = cli("compare", MODELS / "kim_fig3_solid.yaml", *args, "--out", tmp_path / "r")
    assert res.code == 2
    assert message in res.err and "Traceback" not in res.err
    assert not (tmp_path / "r").exists()


def test_deploy_manifest_errors_are_all_reported(cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format_version: 1\nkind: deployment\nname: x\nmodel: nowhere.yaml\ntarget: lohi\n"
                   "compare_with: [rate, nengoo]\nrun: {seeds: 0, input_rat: 3}\n")
    res = cli("deploy", bad, "--out", tmp_path / "d")
    assert res.code == 2 and "Traceback" not in res.err
    assert "run.seeds" in res.err and "run.input_rat: unknown key (did you mean 'input_rate'?)" in res.err
    good_model = tmp_path / "m.yaml"
    shutil.copy(MODELS / "kim_fig3_solid.yaml", good_model)
    bad.write_text("format_version: 1\nkind: deployment\nname: x\nmodel: m.yaml\ntarget: lohi\n"
                   "compare_with: [rate, nengoo]\n")
    res = cli("deploy", bad, "--out", tmp_path / "d")
    assert res.code == 2
    assert f"{bad}:5: target: unknown backend 'lohi'" in res.err
    assert "compare_with[1]: unknown backend 'nengoo'" in res.err
    assert not (tmp_path / "d").exists()


def test_shipped_manifests_are_valid():
    from neuromorph.backends import names as backend_names
    from neuromorph.hardware import profile_names
    from neuromorph.spec import manifest

    for path in sorted((REPO / "deploy").glob("*.yaml")):
        m, model, problems = manifest.validate_file(path, backend_names(), profile_names())
        assert m is not None and model is not None, [str(p) for p in problems]
    names = {p.stem for p in (REPO / "deploy").glob("*.yaml")}
    assert {"digits_on_loihi", "kim_on_loihi", "digits_on_brian2"} <= names


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(html, tmp_path, height: int):
    """Pixels of ``html`` rendered by headless chromium in a 1200 x ``height`` window (the test
    is skipped without chromium)."""
    browser = chromium()
    if browser is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when apt-get can)")
    shot = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--window-size=1200,{height}", f"--screenshot={shot}",
           html.as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    import matplotlib.image

    return matplotlib.image.imread(shot)


@DIGITS
def test_report_renders_in_headless_chromium(digits, tmp_path):
    *_, out = digits
    pixels = screenshot(out / "report.html", tmp_path, 2400)
    assert pixels.shape[:2] == (2400, 1200)
    assert pixels[..., :3].std() > 0.05  # not a blank page: text, tables and figures drawn
    # the figures occupy rows well below the first screen: the page is long and laid out
    assert pixels[1200:, :, :3].std() > 0.05


@pytest.mark.slow
@pytest.mark.parametrize("name", ["kim_fig5", "nla_digits"])
def test_full_compare_across_all_five_backends(cli, tmp_path, name):
    """The whole model (kim_fig5: 10 s; nla_digits: the 449 test images at 5, 10, 20, 50, 100, 200 ms)."""
    res = cli("compare", MODELS / f"{name}.yaml", "--out", tmp_path / "r")
    assert res.code == 0, res.err
    doc = json.loads((tmp_path / "r" / "metrics.json").read_text())
    metrics.validate(doc)
    assert list(doc["backends"]) == ALL
    print(res.out)
    if name == "nla_digits":
        assert doc["presentation_times"] == [0.005, 0.01, 0.02, 0.05, 0.1, 0.2]  # the default sweep
        acc = {b: doc["backends"][b]["accuracy"] for b in ALL}
        assert acc["brian2"]["0.1"] == acc["rate"]["0.1"]
        for b in ("brian2-spiking", "nengo", "loihi"):
            assert acc[b]["0.1"] >= acc["rate"]["0.1"] - 0.02
    else:
        assert doc["backends"]["brian2"]["nrmse_vs_rate"]["mu"] < 1e-3
        assert doc["backends"]["nengo"]["nrmse_vs_rate"]["mu"] < 0.2


def test_missing_weights_are_trained_once_and_cached_by_spec_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROMORPH_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "tiny.yaml"
    spec.write_text("format_version: 1\nfamily: nla\nname: tiny_digits\nnetwork: {layers: [64, 20, 10]}\n"
                    "neuron: {rho: soft_lif, tau_rc: 0.02, tau_ref: 0.002, amplitude: 0.01, sigma: 0.05}\n"
                    "learning: {eta: 300.0, lanes: 64, bias_init: {mean: 1.0, std: 0.1, clip: 0.3}}\n"
                    "task: {kind: digits, presentation: 0.05, epochs: 1, duration: 0.1}\nseed: 0\n")
    model = nm.load(spec)
    _, doc = compare_and_report(model, ["rate"], presentations=[0.05], spec_file=str(spec))
    cached = list((tmp_path / "cache" / "weights").glob("tiny_digits-*.npz"))
    assert len(cached) == 1 and doc["trained"]["trained_by"] == "rate"
    before = doc["backends"]["rate"]["accuracy"]["0.05"]
    untrained = nm.simulate(model).summary["metrics"]["accuracy"]  # the seeded initial weights
    assert before > untrained + 0.1  # the cached weights are learned ones
    stamp = cached[0].stat().st_mtime_ns
    _, again = compare_and_report(model, ["rate"], presentations=[0.05], spec_file=str(spec))
    assert cached[0].stat().st_mtime_ns == stamp  # reused, not retrained
    assert again["backends"]["rate"]["accuracy"]["0.05"] == before


def test_energy_per_inference_beside_accuracy_for_each_presentation_time(tmp_path):
    """With profiles, a classification comparison reports energy per inference at every presentation
    time; at the spec's time it is the hardware estimate itself, and it grows with the time shown."""
    model = short("nla_digits", 0.02)
    _, doc = compare_and_report(model, ["rate", "nengo"], presentations=[0.01, 0.02], out=tmp_path / "r",
                                spec_file=str(MODELS / "nla_digits.yaml"), profiles=["loihi1", "loihi2"])
    metrics.validate(doc)
    hw = doc["backends"]["nengo"]["hardware"]
    by_time = hw["energy_by_presentation"]
    assert set(by_time) == {"0.01", "0.02"} and set(by_time["0.02"]) == {"loihi1", "loihi2"}
    assert by_time["0.02"]["loihi1"] == hw["energy"]["loihi1"]["energy_j"]
    assert by_time["0.01"]["loihi1"] < by_time["0.02"]["loihi1"]
    assert "energy_by_presentation" not in doc["backends"]["rate"]["hardware"]
    text = (tmp_path / "r" / "report.md").read_text()
    assert "## Accuracy, latency and energy per inference" in text
    assert "| nengo | 10 ms |" in text and "| nengo | 20 ms |" in text
