"""The fixed-step rate reference against scipy's adaptive solver, convergence order, populations,
determinism."""

from __future__ import annotations

import numpy as np
import pytest

import neuromorph as nm
from neuromorph import spec
from neuromorph.run.simulate import with_overrides

from .conftest import load_data

KIM_MODELS = ["kim_fig3_solid", "kim_fig3_dotted", "kim_fig5", "kim_fig6"]


def scipy_version_of(model, rtol=1e-8):
    data = spec.to_data(model)
    data["time"].update(integrator="scipy", method="DOP853", rtol=rtol, atol=1e-10)
    return spec.validate_data(data)[0]


@pytest.mark.parametrize("name", KIM_MODELS)
def test_fixed_step_agrees_with_scipy_adaptive(models_dir, name):
    model = nm.load(models_dir / f"{name}.yaml")
    fixed = nm.simulate(model).result
    adaptive = nm.simulate(scipy_version_of(model)).result
    np.testing.assert_allclose(fixed.t, adaptive.t, atol=1e-12)
    for var in fixed.traces:
        assert np.max(np.abs(fixed.traces[var] - adaptive.traces[var])) <= 1e-4, var


def test_euler_converges_first_order_and_rk4_fourth(models_dir):
    model = nm.load(models_dir / "kim_fig3_solid.yaml")
    truth = nm.simulate(scipy_version_of(model, rtol=1e-11), dt=0.01).result.traces["w"]
    errors = {}
    for method in ("euler", "rk4"):
        for dt in (0.01, 0.005):
            data = spec.to_data(model)
            data["time"].update(integrator=method, dt=dt)
            run = nm.simulate(spec.validate_data(data)[0]).result
            stride = round(0.01 / dt)
            errors[method, dt] = np.abs(run.traces["w"][::stride] - truth).max()
    assert errors["euler", 0.01] / errors["euler", 0.005] == pytest.approx(2, rel=0.15)
    assert errors["rk4", 0.01] / errors["rk4", 0.005] == pytest.approx(16, rel=0.25)


def test_population_equals_independent_single_runs(spec_file):
    data = load_data("kim_fig5")
    data["inputs"]["s"] = "5*cos(t) + 0.1*i"
    data["time"]["duration"] = 2.0
    pop = nm.simulate(nm.load(spec_file(data))).result
    assert pop.traces["mu"].shape == (len(pop.t), 3)
    for k, (mu_d, w_d) in enumerate(zip(data["params"]["mu_d"], data["params"]["w_d"])):
        single = load_data("kim_fig5")
        single.pop("population")
        single["params"].update(mu_d=mu_d, w_d=w_d)
        single["inputs"]["s"] = f"5*cos(t) + 0.1*{k}"
        single["time"]["duration"] = 2.0
        one = nm.simulate(nm.load(spec_file(single, f"one{k}.yaml"))).result
        for var in ("mu", "w"):
            np.testing.assert_allclose(pop.traces[var][:, k], one.traces[var], rtol=0, atol=1e-12)


def test_independent_noise_differs_between_synapses_and_shared_does_not(spec_file):
    data = load_data("kim_fig5")
    data["time"]["duration"] = 1.0
    shared = nm.simulate(nm.load(spec_file(data))).result
    data["noise"]["eta"]["shared"] = False
    data["params"]["mu_d"] = data["params"]["w_d"] = 0.0
    indep = nm.simulate(nm.load(spec_file(data, "indep.yaml"))).result
    mu = indep.traces["mu"]
    assert not np.allclose(mu[:, 0], mu[:, 1])
    assert shared.traces["mu"].shape == mu.shape


def test_same_seed_same_result_other_seed_other_noise(models_dir):
    a = nm.simulate(models_dir / "kim_fig6.yaml", duration=2.0).result
    b = nm.simulate(models_dir / "kim_fig6.yaml", duration=2.0).result
    c = nm.simulate(models_dir / "kim_fig6.yaml", duration=2.0, seed=7).result
    assert all(np.array_equal(a.traces[k], b.traces[k]) for k in a.traces)
    assert not np.allclose(a.traces["mu"], c.traces["mu"])


def test_noise_prefix_does_not_depend_on_duration(models_dir):
    short = nm.simulate(models_dir / "kim_fig6.yaml", duration=1.0).result
    long = nm.simulate(models_dir / "kim_fig6.yaml", duration=2.0).result
    n = len(short.t)
    np.testing.assert_array_equal(short.traces["w"], long.traces["w"][:n])


def test_per_synapse_distribution_is_seeded(spec_file):
    data = load_data("kim_fig3_solid")
    data["population"] = {"size": 50}
    data["params"]["gamma_mu"] = {"uniform": [0.5, 1.5]}
    data["time"]["duration"] = 0.5
    a = nm.simulate(nm.load(spec_file(data))).result.traces["mu"]
    b = nm.simulate(nm.load(spec_file(data))).result.traces["mu"]
    data["seed"] = 1
    c = nm.simulate(nm.load(spec_file(data, "other.yaml"))).result.traces["mu"]
    assert np.array_equal(a, b)
    assert a.shape == (501, 50) and np.unique(np.round(a[-1], 12)).size == 50
    assert not np.allclose(a, c)


def test_record_dt_subsamples_the_same_trajectory(models_dir):
    model = nm.load(models_dir / "kim_fig3_solid.yaml")
    full = nm.simulate(model).result
    data = spec.to_data(model)
    data["record"]["dt"] = 0.1
    sparse = nm.simulate(spec.validate_data(data)[0]).result
    assert len(sparse.t) == 101
    np.testing.assert_array_equal(sparse.traces["w"], full.traces["w"][::100])


def test_overrides_are_validated(models_dir):
    model = nm.load(models_dir / "kim_fig3_solid.yaml")
    with pytest.raises(nm.SpecError, match="time.duration"):
        with_overrides(model, duration=-1.0)
    assert with_overrides(model, duration=2.0).time.duration == 2.0
