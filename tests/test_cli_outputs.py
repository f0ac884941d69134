"""`neuromorph simulate` outputs, `info`, the Python API, spec round trips, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import spec

from .conftest import load_data

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_simulate_writes_result_summary_and_plot(cli, models_dir, tmp_path):
    out = tmp_path / "run"
    res = cli("simulate", models_dir / "kim_fig5.yaml", "--backend", "rate", "--seed", 11, "--out", out)
    assert res.code == 0, res.err
    assert sorted(p.name for p in out.iterdir()) == ["result.npz", "summary.json", "traces.png"]
    with np.load(out / "result.npz") as z:
        assert set(z.files) == {"t", "mu", "w", "p_mu", "p_w"}
        assert z["t"].shape == (10001,) and z["mu"].shape == (10001, 3)
        final_mu = z["mu"][-1]
    s = json.loads((out / "summary.json").read_text())
    assert s["backend"] == "rate" and s["seed"] == 11 and s["spec"]["seed"] == 11
    assert s["final"]["mu"] == pytest.approx(final_mu.tolist())
    assert s["spec"]["params"]["mu_d"] == [5.0, 10.0, 0.0]
    assert s["backend_info"]["details"]["seeds"]["noise.eta"] > 0 and s["wall_s"] > 0
    for pkg in ("python", "numpy", "scipy", "neuromorph"):
        assert s["versions"][pkg]
    assert (out / "traces.png").read_bytes()[:8] == PNG_MAGIC
    assert not list(tmp_path.glob(".*partial"))


def test_cli_and_api_give_the_same_numbers(cli, models_dir, tmp_path):
    cli("simulate", models_dir / "kim_fig6.yaml", "--duration", 2, "--out", tmp_path / "a")
    run = nm.simulate(models_dir / "kim_fig6.yaml", duration=2.0)
    with np.load(tmp_path / "a" / "result.npz") as z:
        for k, v in run.result.traces.items():
            np.testing.assert_array_equal(z[k], v)


def test_failed_run_leaves_no_output(models_dir, tmp_path, monkeypatch):
    from neuromorph.run import plots

    def broken(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots, "plot_traces", broken)
    out = tmp_path / "run"
    with pytest.raises(RuntimeError):
        nm.simulate(models_dir / "kim_fig3_solid.yaml", duration=0.1, out=out)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_info_lists_families_backends_profiles(cli):
    res = cli("info")
    assert res.code == 0
    assert "families: bm" in res.out and "rate" in res.out and "hardware profiles:" in res.out
    found = nm.info()
    assert "bm" in found["families"] and "rate" in found["backends"]


def test_validate_says_valid(cli, models_dir):
    res = cli("validate", models_dir / "kim_fig3_solid.yaml")
    assert res.code == 0 and "valid" in res.out and res.err == ""


@pytest.mark.parametrize("name", ["kim_fig3_solid", "kim_fig3_dotted", "kim_fig5", "kim_fig6"])
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_is_lossless(models_dir, tmp_path, name, fmt):
    model = nm.load(models_dir / f"{name}.yaml")
    path = tmp_path / f"copy.{fmt}"
    spec.save(model, path)
    again = nm.load(path)
    assert again == model
    assert spec.to_data(again) == spec.to_data(model)


def test_round_trip_with_distributions_and_lists(spec_file, tmp_path):
    data = load_data("kim_fig5")
    data["params"]["gamma_mu"] = {"uniform": [0.5, 1.5]}
    data["initial"]["w"] = [1.0, 2.0, 3.0]
    data["inputs"]["s"] = ["5", "cos(t)", 2.5]
    data["noise"]["xi"] = {"kind": "white", "std": 0.2, "hold": 0.05, "seed": 9}
    model = nm.load(spec_file(data))
    for fmt in ("yaml", "json"):
        path = tmp_path / f"rt.{fmt}"
        spec.save(model, path)
        assert nm.load(path) == model


def test_module_entry_point_runs(models_dir, tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "neuromorph", "validate", str(models_dir / "kim_fig6.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
