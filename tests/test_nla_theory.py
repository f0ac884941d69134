"""The NLA paper's claims, checked on the rate reference (Senn et al. 2024):
rt-DeEP (Theorem 1, Eqs 24-26), instantaneous propagation (Eq 23) and the look-ahead ablation,
the explicit solve against a dense solve, and the schemes against each other."""

from __future__ import annotations

import numpy as np
import pytest

from neuromorph.families import nla
from neuromorph.families.nla import dynamics as dyn

from .nla_helpers import engine, nla_model, smooth_input


def run_and_compare(model, duration, warmup, every, target_fn=None):
    """Drive an engine with smooth input and a smooth target; yield per-check quantities."""
    eng = engine(model)
    st, s = eng.structure, eng.settings
    lanes = model.learning.lanes
    x_of = smooth_input(st.n_in, lanes)
    target_of = target_fn or (lambda x: np.tanh(x[..., : st.n_out] * 2 - 1))
    eng.reset(x_of(0.0))
    beta = nla.beta_vector(st, model.learning.beta)
    out_mask = np.zeros(st.n, bool)
    out_mask[st.out] = True
    n_steps = int(round(duration / s.dt))
    checks = []
    for k in range(n_steps):
        t = k * s.dt
        x = x_of(t)
        target = nla.full_target(st, target_of(x))
        q = dyn.step(eng.state, x, target, beta, eng.weights, st, s, learn=False)
        if t >= warmup and k % every == 0:
            u_fwd = dyn.forward(eng.weights, st, s.rho, q.xbar)
            delta = dyn.backprop_errors(eng.weights, st, s.rho, u_fwd, target, out_mask)
            checks.append((q, delta, u_fwd))
    return eng, checks


def cosine(a, b):
    return float(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.slow
@pytest.mark.parametrize("rho, std, beta, dt, bias", [
    ("logistic", 0.6, 4e-4, 3e-6, 0.0),
    ("soft_lif", 0.4, 2e-4, 2e-6, 1.5),  # soft-LIF neurons fire above u = 1: bias them into range
])
def test_rt_deep_errors_equal_backprop_errors(rho, std, beta, dt, bias):
    """e_bar_l / beta equals the backprop error of the forward network at every checked step.

    The two error sources scale as beta (nudged vs forward state) and dt / beta (Euler), so a
    small beta needs a fine dt; the 10 tau warm-up lets the start-up transient die out."""
    model = nla_model([6, 12, 10, 4], neuron={"rho": rho, "sigma": 0.2},
                      learning={"beta": beta, "init": {"std": std, "clip": 3 * std},
                                "bias_init": {"mean": bias, "std": 0.3, "clip": 0.9}, "lanes": 2},
                      dynamics={"dt": dt})
    eng, checks = run_and_compare(model, duration=0.13, warmup=0.1, every=500)
    assert len(checks) >= 10
    for q, delta, _ in checks:
        for layer in eng.structure.layers:
            a, b = q.e_bar[:, layer] / beta, delta[:, layer]
            assert cosine(a, b) >= 0.999
            assert np.linalg.norm(a - b) / np.linalg.norm(b) <= 1e-3


@pytest.mark.slow
def test_weight_update_parallel_to_gradient_as_beta_goes_to_zero():
    """dW/dt ~ eta e_bar r_bar^T -> -dC/dW direction as beta -> 0 (Theorem 1 (ii))."""
    cos = {}
    for beta in (3e-2, 1e-3):
        model = nla_model([6, 12, 10, 4], neuron={"rho": "logistic"},
                          learning={"beta": beta, "init": {"std": 0.6, "clip": 1.8}, "lanes": 2},
                          dynamics={"dt": 1e-5})
        eng, checks = run_and_compare(model, duration=0.12, warmup=0.1, every=400)
        worst = 1.0
        for q, delta, u_fwd in checks:
            grads = dyn.plasticity(q, eng.weights, eng.settings)
            r_fwd = eng.settings.rho(u_fwd)[0]
            mask = eng.structure.mask_W
            neg_dC_dW = (delta.T @ r_fwd) / delta.shape[0] * mask  # -dC/dW for the forward network
            neg_dC_dWin = (delta.T @ q.xbar) / delta.shape[0] * eng.structure.mask_in
            step = np.concatenate([grads["W"][mask], grads["W_in"][eng.structure.mask_in]])
            grad = np.concatenate([neg_dC_dW[mask], neg_dC_dWin[eng.structure.mask_in]])
            worst = min(worst, cosine(step, grad))
        cos[beta] = worst
    assert cos[1e-3] >= 0.999
    assert cos[1e-3] > cos[3e-2]


def f_norm(eng, x, target, beta):
    q = dyn.terms(eng.state.u, eng.state.xbar, x, target, np.zeros_like(target), beta, eng.weights, eng.settings)
    return np.linalg.norm(q.f)


def test_explicit_scheme_makes_f_decay_with_tau():
    """(1 + tau d/dt) f = 0 (Eq 7a): from a perturbed state, |f| decays like exp(-t / tau)."""
    model = nla_model([5, 8, 8, 3], neuron={"rho": "logistic"},
                      learning={"beta": 0.1, "init": {"std": 0.5, "clip": 1.5}, "lanes": 3},
                      dynamics={"dt": 1e-5})
    eng = engine(model)
    st = eng.structure
    x = np.full((3, st.n_in), 0.4)
    eng.reset(x)
    eng.state.u = eng.state.u + np.random.default_rng(3).normal(0, 0.2, size=eng.state.u.shape)
    target = nla.full_target(st, np.full((3, st.n_out), 0.5))
    eng.state.target = target
    beta = nla.beta_vector(st, 0.1)
    f0 = f_norm(eng, x, target, beta)
    tau = model.neuron.tau
    eng.run(x, target[:, st.out], 0.1, learn=False, steps=int(round(tau / 1e-5)))
    assert f_norm(eng, x, target, beta) / f0 == pytest.approx(np.exp(-1), rel=0.01)
    eng.run(x, target[:, st.out], 0.1, learn=False, steps=int(round(tau / 1e-5)))
    assert f_norm(eng, x, target, beta) / f0 == pytest.approx(np.exp(-2), rel=0.02)


def linear_deep_network(eng, gain, level=10.0):
    """Scaled orthogonal weights (each layer multiplies the signal by ``gain``) and biases that
    hold every unit near ``level``, so threshold-linear units stay active: a linear deep
    network whose only dynamics is what NLA adds."""
    rng = np.random.default_rng(7)
    st = eng.structure
    w = eng.weights
    w.W[:] = 0.0
    prev_mean = np.full(st.n_in, 0.5)
    for k, (_, post, pre) in enumerate(st.projections()):
        n_post = post.stop - post.start
        q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
        block = gain * q[:n_post, : (pre.stop - pre.start)]
        if k == 0:
            w.W_in[post, :] = block
        else:
            w.W[post, pre] = block
        w.b[post] = level - block @ prev_mean
        prev_mean = np.full(n_post, level)


def lag_and_error(hidden_layers, lookahead, gain=0.2):
    """Lag (s) of u_out behind the forward map of the filtered input, and the tracking nrmse."""
    layers = [4] + [10] * hidden_layers + [2]
    model = nla_model(layers, neuron={"rho": "relu", "lookahead": lookahead},
                      learning={"beta": 0.0, "lanes": 1}, dynamics={"dt": 2e-4})
    eng = engine(model)
    linear_deep_network(eng, gain)
    st, s = eng.structure, eng.settings
    x_of = smooth_input(st.n_in, 1, seed=5, low=0.8, high=1.2)
    t = np.arange(int(round(1.5 / s.dt))) * s.dt
    xs = x_of(t)
    eng.reset(xs[0])
    rec = eng.run(xs, np.zeros((1, st.n_out)), 0.0, learn=False, steps=len(t), record=("u_out", "input"))
    fwd = dyn.forward(eng.weights, st, s.rho, rec["input"][:, 0])[:, st.out]
    out = rec["u_out"][:, 0]
    keep = t > 0.3
    a, b = out[keep] - out[keep].mean(0), fwd[keep] - fwd[keep].mean(0)
    shifts = np.arange(0, int(0.2 / s.dt))
    score = [np.sum(a[k:] * b[: len(b) - k]) / np.sqrt(np.sum(a[k:] ** 2) * np.sum(b[: len(b) - k] ** 2))
             for k in shifts]
    lag = shifts[int(np.argmax(score))] * s.dt
    nrmse = np.mean(np.sqrt(np.mean((out[keep] - fwd[keep]) ** 2, axis=0)) / fwd[keep].std(axis=0))
    return lag, nrmse


def test_lookahead_propagates_instantaneously_and_ablation_lags_tau_per_layer():
    tau = 0.01
    lags = {}
    for hidden in (1, 3, 5):
        lag, err = lag_and_error(hidden, lookahead=True)
        assert lag <= 0.05 * tau, (hidden, lag)
        assert err < 1e-2, (hidden, err)
        lags[hidden], err_off = lag_and_error(hidden, lookahead=False)
        assert err_off > 0.05
    # Without look-ahead every layer adds about one membrane time constant (weakly coupled
    # layers; with strong coupling the error feedback e_bar of the ablation slows it further).
    assert (lags[3] - lags[1]) / 2 == pytest.approx(tau, rel=0.2)
    assert (lags[5] - lags[3]) / 2 == pytest.approx(tau, rel=0.2)
    assert lags[1] == pytest.approx(2 * tau, rel=0.2)  # hidden + output layer


@pytest.mark.parametrize("rho", ["hard_sigmoid", "logistic", "soft_lif"])
@pytest.mark.parametrize("feedback", ["transpose", "alignment"])
def test_layered_solver_equals_dense_solve(rho, feedback):
    model = nla_model([5, 7, 6, 3], neuron={"rho": rho, "sigma": 0.1},
                      learning={"beta": 0.3, "feedback": feedback, "init": {"std": 0.5, "clip": 1.5}, "lanes": 4},
                      dynamics={"dt": 1e-4})
    eng = engine(model, bias_shift=0.8 if rho == "soft_lif" else 0.3)
    rng = np.random.default_rng(1)
    st, s = eng.structure, eng.settings
    x = rng.uniform(size=(4, st.n_in))
    u = rng.normal(0.5, 0.6, size=(4, st.n))
    target = nla.full_target(st, rng.uniform(size=(4, st.n_out)))
    beta = nla.beta_vector(st, 0.3)
    q = dyn.terms(u, x * 0.9, x, target, np.zeros_like(target), beta, eng.weights, s)
    g = rng.normal(size=(4, st.n))
    fast = dyn.solve_layered(q, beta, eng.weights, st, g)
    C0, C1 = dyn.coupling(eng.weights, s)
    H = dyn.hessian(q, beta, eng.weights, C0, C1)
    dense = np.linalg.solve(H, g[..., None])[..., 0]
    if rho != "soft_lif":  # rho'' = 0 or small: the layered solve needs no dense fallback
        np.testing.assert_allclose(fast, dense, rtol=1e-9, atol=1e-10)
    eng.reset(x)
    explicit = dyn.explicit_udot(q, beta, eng.weights, st, s, eng.state)
    np.testing.assert_allclose(explicit, np.linalg.solve(H, (-q.f / s.tau - q.f_t)[..., None])[..., 0],
                               rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(dyn.hessian_times(g, q, beta, eng.weights, C0, C1), (H @ g[..., None])[..., 0],
                               rtol=1e-12, atol=1e-12)


def test_hessian_equals_numerical_jacobian_of_f():
    """H = df/du, checked by central differences (microcircuit and plain)."""
    for micro in (None, {"beta_I": 0.2}):
        model = nla_model([5, 6, 4, 3], neuron={"rho": "logistic"}, microcircuit=micro,
                          learning={"beta": 0.2, "init": {"std": 0.5, "clip": 1.5}, "lanes": 1},
                          dynamics={"dt": 1e-4})
        eng = engine(model)
        rng = np.random.default_rng(2)
        st, s = eng.structure, eng.settings
        x = rng.uniform(size=(1, st.n_in))
        u = rng.normal(0.3, 0.5, size=(1, st.n))
        target = nla.full_target(st, rng.uniform(size=(1, st.n_out)))
        beta = nla.beta_vector(st, 0.2)

        def f(uu, x=x, target=target, beta=beta, weights=eng.weights, s=s):
            return dyn.terms(uu, x, x, target, np.zeros_like(target), beta, weights, s).f

        q = dyn.terms(u, x, x, target, np.zeros_like(target), beta, eng.weights, s)
        H = dyn.hessian(q, beta, eng.weights, *dyn.coupling(eng.weights, s))[0]
        eps = 1e-6
        num = np.stack([(f(u + eps * np.eye(st.n)[k]) - f(u - eps * np.eye(st.n)[k]))[0] / (2 * eps)
                        for k in range(st.n)], axis=1)
        np.testing.assert_allclose(H, num, atol=1e-7)


def test_not_positive_definite_hessian_is_detected_and_solved_by_lu():
    state = dyn.State(u=np.zeros((1, 2)), udot=np.zeros((1, 2)), xbar=np.zeros((1, 0)), target=np.zeros((1, 2)))
    H = np.array([[[1.0, 2.0], [2.0, 1.0]]])  # symmetric, eigenvalues 3 and -1
    g = np.array([[1.0, 0.5]])
    x = dyn.solve_dense(H, g, symmetric=True, state=state)
    np.testing.assert_allclose(H[0] @ x[0], g[0])
    assert state.stats["not_positive_definite_steps"] == 1


def test_previous_step_scheme_agrees_with_explicit_for_small_weights():
    runs = {}
    for scheme in ("explicit", "previous_step"):
        model = nla_model([5, 8, 3], neuron={"rho": "logistic"},
                          learning={"beta": 0.1, "eta": 0.1, "init": {"std": 0.1, "clip": 0.3}, "lanes": 2},
                          dynamics={"dt": 1e-4, "scheme": scheme})
        eng = engine(model)
        x_of = smooth_input(5, 2)
        t = np.arange(3000) * 1e-4
        xs = x_of(t)
        eng.reset(xs[0])
        target = np.tanh(xs[..., :3])
        eng.reset(xs[0], target[0])
        runs[scheme] = eng.run(xs, target, 0.1, learn=True, steps=len(t), record=("u",))["u"]
    diff = np.abs(runs["explicit"] - runs["previous_step"]).max()
    assert diff < 1e-3 * np.abs(runs["explicit"]).max()


@pytest.mark.parametrize("nudging", ["random", "one_to_one"])
def test_self_predicting_microcircuit_cancels_top_down_input(nudging):
    """Loop consistency (Senn et al. 2024, Eqs 36 and 39): with W_IP = B_IP W_{l+1} and
    W_PI = B B_IP^-1 the interneurons explain the top-down input away, so without output nudging
    the apical voltages v vanish; one-to-one nudging makes B_IP = I, i.e. W_IP = W_{l+1}, W_PI = B."""
    model = nla_model([5, 6, 4, 3], neuron={"rho": "logistic"}, microcircuit={"beta_I": 0.2, "nudging": nudging},
                      learning={"init": {"std": 0.5, "clip": 1.5}, "bias": False, "lanes": 2})
    eng = engine(model)
    w, st = eng.weights, eng.structure
    for k, inter in enumerate(st.inter_slices()):
        lower, upper = st.layers[k], st.layers[k + 1]
        B_IP = w.B_IP[inter, upper]
        if nudging == "one_to_one":
            np.testing.assert_array_equal(B_IP, np.eye(len(B_IP)))
        w.W_IP[inter, lower] = B_IP @ w.W[upper, lower]
        w.W_PI[lower, inter] = w.B[lower, upper] @ np.linalg.inv(B_IP)
    x = np.random.default_rng(0).uniform(size=(2, st.n_in))
    u = dyn.forward(w, st, eng.settings.rho, x)
    q = dyn.terms(u, x, x, np.zeros_like(u), np.zeros_like(u), np.zeros(st.n), w, eng.settings)
    assert np.abs(q.v).max() < 1e-10
    np.testing.assert_allclose(nla.alignment_angles(w, st), 0.0, atol=1e-5)
