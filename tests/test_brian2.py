"""Brian2 backends against the rate reference, the standalone script, unit checks, code safety."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import spec
from neuromorph import backends
from neuromorph.families.nla.brian2 import Brian2NLAEngine
from neuromorph.families.nla.rate import NLAEngine
from neuromorph.tasks import Protocol

from .conftest import MODELS, load_data
from .nla_helpers import nla_model, smooth_input

KIM = ["kim_fig3_solid", "kim_fig3_dotted", "kim_fig5", "kim_fig6"]


def nrmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)) / np.std(a))


@pytest.mark.parametrize("name", [n if n == "kim_fig3_solid" else pytest.param(n, marks=pytest.mark.slow)
                                  for n in KIM])
def test_brian2_matches_rate_reference_on_kim(name):
    rate = nm.simulate(MODELS / f"{name}.yaml").result
    b2 = nm.simulate(MODELS / f"{name}.yaml", backend="brian2").result
    np.testing.assert_allclose(b2.t, rate.t)
    for var in ("mu", "w"):
        assert nrmse(rate.traces[var], b2.traces[var]) <= 1e-3


def small_nla(scheme, lanes, learn_eta=5.0, rho="soft_lif", feedback="transpose", beta=0.2):
    return nla_model([5, 8, 6, 3], neuron={"rho": rho, "sigma": 0.1},
                     learning={"beta": beta, "eta": learn_eta, "feedback": feedback, "init": {"std": 0.3, "clip": 0.9},
                               "bias_init": {"mean": 1.0, "std": 0.1, "clip": 0.3}, "lanes": lanes},
                     dynamics={"dt": 1e-3, "scheme": scheme})


def run_both(model, learn, beta, steps=200):
    lanes = model.learning.lanes
    t = np.arange(steps) * 1e-3
    x = smooth_input(5, lanes)(t)
    target = np.tanh(x[..., :3])
    p = Protocol(x=x, target=target, beta=np.full(3, beta), learn=learn, x0=x[0], target0=target[0])
    out = []
    for engine in (NLAEngine(model), Brian2NLAEngine(model, backends.get("brian2").runner())):
        rec, _ = engine.run_protocol(p, record=("u", "e_bar"), every=1)
        out.append((rec, engine.weights))
    return out


@pytest.mark.parametrize("feedback", ["transpose", pytest.param("alignment", marks=pytest.mark.slow)])
def test_brian2_nla_inference_matches_explicit_rate_reference(feedback):
    (rate, _), (b2, _) = run_both(small_nla("explicit", 3, feedback=feedback, beta=0.0), learn=False, beta=0.0,
                                  steps=60)
    assert nrmse(rate["u"], b2["u"]) <= 1e-3


def test_brian2_nla_nudged_run_matches_previous_step_reference():
    (rate, _), (b2, _) = run_both(small_nla("previous_step", 2), learn=False, beta=0.2)
    assert nrmse(rate["u"], b2["u"]) <= 1e-3 and nrmse(rate["e_bar"], b2["e_bar"]) <= 1e-3


def test_brian2_nla_learning_gives_the_same_weights():
    (_, w_rate), (_, w_b2) = run_both(small_nla("previous_step", 1, learn_eta=20.0), learn=True, beta=0.2)
    for key in ("W", "W_in", "b"):
        a, b = getattr(w_rate, key), getattr(w_b2, key)
        assert np.abs(a - b).max() <= 1e-3 * np.abs(a).max()
    assert not np.allclose(w_rate.W, NLAEngine(small_nla("previous_step", 1)).weights.W)  # it did learn


def test_brian2_digits_inference_equals_rate(cli, tmp_path):
    res = {}
    for backend in ("rate", "brian2"):
        run = nm.simulate(MODELS / "nla_digits.yaml", backend=backend, duration=0.1)
        res[backend] = run
    assert nrmse(res["rate"].result.traces["u_out"], res["brian2"].result.traces["u_out"]) <= 1e-3
    assert res["brian2"].summary["metrics"]["accuracy"] == res["rate"].summary["metrics"]["accuracy"]


def test_brian2_train_runs_learning(cli, tmp_path, spec_file):
    d = load_data("nla_teacher")
    d["task"].update(train_duration=0.4, eval_every=0.2, test_duration=0.2)
    d["learning"]["lanes"] = 1
    d["dynamics"]["scheme"] = "previous_step"
    file = spec_file(d, "t.yaml")
    res = cli("train", file, "--backend", "brian2", "--out", tmp_path / "b2")
    assert res.code == 0, res.err
    rate = nm.train(file)
    b2 = np.load(tmp_path / "b2" / "weights.npz")
    assert np.abs(b2["W"] - rate.weights.W).max() <= 1e-3 * np.abs(rate.weights.W).max()


@pytest.mark.slow  # 11 s: a fresh interpreter; test_nla_script_reproduces_simulate covers scripts by default
def test_standalone_script_reproduces_simulate_in_isolated_python(cli, tmp_path):
    script = tmp_path / "kim5.py"
    res = cli("compile", MODELS / "kim_fig5.yaml", "--target", "brian2", "--out", script)
    assert res.code == 0, res.err
    assert "dmu/dt = p_mu/(m_mu*second)" in res.out and "gamma_mu (initial) = 1 Hz" in res.out
    text = script.read_text()
    imports = [ln for ln in text.splitlines() if ln.startswith(("import ", "from "))]
    assert sorted(imports) == ["import argparse", "import brian2 as b2", "import numpy as np", "import os"]
    proc = subprocess.run([sys.executable, "-I", str(script), "--out", str(tmp_path / "o")], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    mine = np.load(tmp_path / "o" / "result.npz")
    ref = nm.simulate(MODELS / "kim_fig5.yaml").result
    for var in ("mu", "w"):
        assert nrmse(ref.traces[var], mine[var]) <= 1e-3


def test_nla_script_reproduces_simulate(cli, tmp_path, spec_file):
    d = load_data("nla_teacher")
    d["task"]["test_duration"] = 0.3
    d["learning"]["lanes"] = 2
    file = spec_file(d, "teacher.yaml")
    script = tmp_path / "teacher.py"
    assert cli("compile", file, "--target", "brian2", "--out", script).code == 0
    proc = subprocess.run([sys.executable, "-I", str(script), "--out", str(tmp_path / "o")], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    mine = np.load(tmp_path / "o" / "result.npz")
    ref = nm.simulate(file).result
    assert mine["u_out"].shape == ref.traces["u_out"].shape
    assert nrmse(ref.traces["u_out"], mine["u_out"]) <= 1e-3


def test_spec_text_never_becomes_code(cli, tmp_path, spec_file):
    marker = tmp_path / "pwned"
    d = load_data("kim_fig6")
    d["description"] = f"'''\"\"\"\nimport os; os.system('touch {marker}')\n"
    d["source"] = "\\n__import__('os').system('x')"
    d["time"]["duration"] = 0.2
    script = tmp_path / "s.py"
    assert cli("compile", spec_file(d, "k.yaml"), "--out", script).code == 0
    assert "os.system" not in script.read_text()
    subprocess.run([sys.executable, "-I", str(script), "--out", str(tmp_path / "o")], check=True, capture_output=True)
    assert not marker.exists()
    d["inputs"]["s"] = "cos(t) + __import__('os').system('x')"
    res = cli("compile", spec_file(d, "k2.yaml"), "--out", tmp_path / "s2.py")
    assert res.code == 2 and ": inputs.s: " in res.err and not (tmp_path / "s2.py").exists()


def test_unit_checks_are_on_and_catch_inconsistent_equations():
    import brian2

    from neuromorph.backends.brian2.program import run
    from neuromorph.families.bm.brian2 import rate_program

    model = nm.load(MODELS / "kim_fig3_solid.yaml")
    program = rate_program(spec.validate_data(dict(spec.to_data(model), time={"duration": 0.01, "dt": 0.001}))[0])
    run(program)  # every generated equation passes Brian2's unit checks
    program.groups[0].model = program.groups[0].model.replace("w*s/second", "w*s")  # 1 instead of Hz
    with pytest.raises(brian2.core.base.BrianObjectException) as info:
        run(program)
    assert isinstance(info.value.__cause__, brian2.units.fundamentalunits.DimensionMismatchError)


def test_unknown_codegen_target_is_refused(cli, tmp_path):
    res = cli("simulate", MODELS / "kim_fig3_solid.yaml", "-b", "brian2", "--codegen", "fortran", "--out",
              tmp_path / "o")
    assert res.code == 2
    assert "unknown code-generation target 'fortran'; should be one of: numpy, cython, cpp_standalone" in res.err


@pytest.mark.slow  # 25 s; nengo's default test covers the shared lowering
def test_spiking_digits_within_two_points_of_rate():
    rate = nm.simulate(MODELS / "nla_digits.yaml").summary["metrics"]["accuracy"]
    run = nm.simulate(MODELS / "nla_digits.yaml", backend="brian2-spiking")
    spiking = run.summary["metrics"]["accuracy"]
    assert run.summary["metrics"]["presentation"] == 0.1
    assert spiking >= rate - 0.02
    info = run.summary["backend_info"]
    assert info["spikes"]["h1"] > 0 and info["substitutions"]


@pytest.mark.parametrize("duration", [pytest.param(2.0, id="2s", marks=pytest.mark.slow),
                                      pytest.param(10.0, id="10s", marks=pytest.mark.slow)])
def test_spiking_kim_fig3_trajectory_within_ten_percent(duration):
    """The first 2 s (the damped oscillation) in the default suite; the whole 10 s as a slow test."""
    rate = nm.simulate(MODELS / "kim_fig3_solid.yaml", duration=duration).result
    run = nm.simulate(MODELS / "kim_fig3_solid.yaml", backend="brian2-spiking", duration=duration)
    spk = run.result
    assert max(nrmse(rate.traces[v], spk.traces[v]) for v in ("mu", "w")) <= 0.10
    assert np.all(spk.traces["p_mu"] == 0)
    assert "bm.momenta" in {s.id for s in spk.info.substitutions}
    assert spk.info.spikes["bm[0]"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("target", ["cython", "cpp_standalone"])
def test_compiled_targets_give_the_numpy_result(tmp_path, monkeypatch, target):
    monkeypatch.setenv("NEUROMORPH_CACHE", str(tmp_path / "cache"))
    from neuromorph.backends.brian2 import Brian2Backend

    model = nm.load(MODELS / "kim_fig5.yaml")
    a = Brian2Backend("numpy").simulate(model).traces
    b = Brian2Backend(target).simulate(model).traces
    for var in a:
        np.testing.assert_allclose(a[var], b[var], rtol=0, atol=1e-10)
    assert (tmp_path / "cache" / "brian2").is_dir()  # compiled code stays in the project's cache
