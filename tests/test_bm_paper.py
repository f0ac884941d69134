"""Kim 2024 (arXiv 2410.02972) reproduced by the rate reference: the published fixed points,
the analytic fixed point of the equations, tr R = 0, and which Hebbian sign the figures need."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.families.bm import maths as bm

# Fig 3 text: "(w_eq, mu_eq) = (-1.0, 0.1) for the solid curve and (-2.0, 0.0) for the dotted".
PUBLISHED = {"kim_fig3_solid": (-1.0, 0.1), "kim_fig3_dotted": (-2.0, 0.0)}


def params(**over):
    base = dict(m_mu=5.0, m_w=0.5, gamma_mu=1.0, gamma_w=0.1, mu_d=5.0, w_d=5.0, hebbian_sign=-1.0)
    base.update(over)
    return bm.BMParams(**base)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_fig3_settles_at_published_fixed_point_at_t10(models_dir, name):
    run = nm.simulate(models_dir / f"{name}.yaml")
    w, mu = run.result.traces["w"][-1], run.result.traces["mu"][-1]
    assert run.result.t[-1] == pytest.approx(10.0)
    # The paper quotes one decimal: the values at t = 10 round to the published ones.
    assert (round(w, 1), round(mu, 1) + 0.0) == PUBLISHED[name]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_long_run_reaches_exact_analytic_fixed_point(cli, models_dir, tmp_path, name):
    out = tmp_path / "long"
    res = cli("simulate", models_dir / f"{name}.yaml", "--duration", 200, "--dt", 0.01, "--out", out)
    assert res.code == 0, res.err
    summary = json.loads((out / "summary.json").read_text())
    fp = summary["analysis"]["fixed_point"]
    for var in ("mu", "w", "p_mu", "p_w"):
        assert abs(summary["final"][var] - fp[var]) < 1e-4, var
    # ... and that fixed point is the published one to the paper's precision.
    assert (round(fp["w"], 1), round(fp["mu"], 1)) == PUBLISHED[name]


def test_fixed_point_formula_solves_the_equations():
    for h in (-1.0, 1.0):
        p = params(hebbian_sign=h)
        fp = bm.fixed_point(5.0, p)
        state = np.array([fp[v] for v in bm.STATE])
        assert np.abs(bm.derivatives(state, 5.0, p)).max() < 1e-12


def test_anti_hebbian_sign_reproduces_the_paper_and_hebbian_diverges():
    s = 5.0
    for h, stable in ((-1.0, True), (1.0, False)):
        block = bm.r_matrix(s, params(hebbian_sign=h))[:2, :2]
        eig = np.linalg.eigvals(block)
        assert (eig.real.max() < 0) == stable
    # h = -1: damped oscillation ("imaginary eigenvalues" in the paper's words).
    eig = np.linalg.eigvals(bm.r_matrix(s, params())[:2, :2])
    assert np.all(np.abs(eig.imag) > 4.9)
    # With h = +1, Eq 31 as printed gives mu_eq = -0.12 for the solid row: the wrong sign.
    assert bm.fixed_point(s, params(hebbian_sign=1.0))["mu"] == pytest.approx(-30 / 249)


@pytest.mark.parametrize("h", [-1.0, 1.0])
@pytest.mark.parametrize("s", [0.0, 5.0, -3.7])
def test_trace_of_R_vanishes(h, s):
    assert np.trace(bm.r_matrix(s, params(hebbian_sign=h))) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("h", [-1.0, 1.0])
def test_equations_are_hamiltons_equations_of_H(h):
    """d(mu, w)/dt = dH/dp and d(p_mu, p_w)/dt = -dH/d(mu, w), by central differences."""
    p = params(hebbian_sign=h)
    rng = np.random.default_rng(1)
    for _ in range(5):
        state, s, eps = rng.normal(size=4), rng.normal() * 3, 1e-6
        grad = np.empty(4)
        for k in range(4):
            step = np.zeros(4)
            step[k] = eps
            grad[k] = (bm.hamiltonian(state + step, s, p) - bm.hamiltonian(state - step, s, p)) / (2 * eps)
        expected = np.array([grad[2], grad[3], -grad[0], -grad[1]])
        assert np.allclose(bm.derivatives(state, s, p), expected, atol=1e-6)


def test_derivatives_equal_R_psi_plus_I():
    p = params()
    rng = np.random.default_rng(2)
    state, s = rng.normal(size=4), 2.3
    assert np.allclose(bm.derivatives(state, s, p), bm.r_matrix(s, p) @ state + bm.drive(p))


def test_momenta_stay_zero_from_zero(models_dir):
    run = nm.simulate(models_dir / "kim_fig6.yaml")
    assert np.all(run.result.traces["p_mu"] == 0) and np.all(run.result.traces["p_w"] == 0)


def test_fig6_spirals_toward_origin(models_dir):
    run = nm.simulate(models_dir / "kim_fig6.yaml", duration=40.0)
    w, mu = run.result.traces["w"], run.result.traces["mu"]
    radius = np.hypot(w, mu)
    assert radius[0] == pytest.approx(np.hypot(5, 5))
    assert radius[-1] < 0.05 * radius[0]
