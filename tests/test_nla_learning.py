"""Learning with NLA, on the shipped task models (slow: `make test-slow`).

Each model is trained once from its seed (module fixtures); the tests check the accuracy or
cost the issue asks for, the microcircuit's alignment, and that shipped weights are exactly
what `neuromorph train` regenerates."""

from __future__ import annotations

import numpy as np
import pytest

import neuromorph as nm
from neuromorph.families.nla import weights_path
from neuromorph.families.nla.network import load_weights, structure

from .conftest import MODELS

pytestmark = pytest.mark.slow

_RUNS: dict = {}


def trained(name):
    if name not in _RUNS:
        _RUNS[name] = nm.train(MODELS / f"{name}.yaml")
    return _RUNS[name]


def test_digits_transpose_feedback_reaches_97_percent():
    run = trained("nla_digits")
    assert run.summary["metrics"]["accuracy"] >= 0.97
    assert run.summary["metrics"]["accuracy_before_training"] < 0.2


def test_digits_feedback_alignment_reaches_95_percent():
    assert trained("nla_digits_fa").summary["metrics"]["accuracy"] >= 0.95


def test_digits_microcircuit_reaches_95_percent_and_aligns():
    run = trained("nla_digits_microcircuit")
    assert run.summary["metrics"]["accuracy"] >= 0.95
    angles = [c["alignment_angle_deg"][0] for c in run.curve]
    assert angles[-1] < angles[0] - 20  # W_PI W_IP turns towards B W
    assert angles[-1] < 45


def test_teacher_student_cost_falls_by_95_percent():
    metrics = trained("nla_teacher").summary["metrics"]
    assert metrics["cost_reduction"] >= 0.95
    assert metrics["cost_relative_to_mean_predictor"] < 0.1  # better than knowing the mean


def test_signals_reproduce_withheld_channels():
    metrics = trained("nla_signals").summary["metrics"]
    assert metrics["nrmse"] < 0.3 < metrics["nrmse_before_training"]


#: How far regenerated weights may differ from the shipped ones on another machine: BLAS kernels
#: differ between CPUs in the last bits (measured on one other machine: 999 of 12,100 weights of
#: nla_digits off by up to 1.1e-12, relative 5e-10, after 15 epochs). On the machine and thread
#: count that trained them the weights are bitwise equal (test_nla_runs checks two runs).
REGENERATION_TOLERANCE = 1e-8


@pytest.mark.parametrize("name", ["nla_digits", "nla_digits_fa", "nla_digits_microcircuit", "nla_teacher",
                                  "nla_signals"])
def test_shipped_weights_are_regenerated_within_the_cross_machine_tolerance(name):
    """Training from the spec's seed gives the shipped weights to REGENERATION_TOLERANCE (relative
    to the largest weight) and the same score."""
    model = nm.load(MODELS / f"{name}.yaml")
    if model.weights is None:
        pytest.skip(f"{name} ships no weights")
    shipped = load_weights(weights_path(model, MODELS), structure(model))
    run = trained(name)
    for key, value in shipped.arrays().items():
        assert run.weights.arrays()[key].shape == value.shape, key
        if value.size == 0:  # e.g. nla_signals' input weights: a recurrent network without external inputs
            continue
        scale = np.abs(value).max()
        np.testing.assert_allclose(run.weights.arrays()[key], value, rtol=0, atol=REGENERATION_TOLERANCE * scale,
                                   err_msg=key)
    score = {k: v for k, v in nm.simulate(MODELS / f"{name}.yaml").summary["metrics"].items()
             if isinstance(v, float) and k in run.summary["metrics"]}  # the scores, not settings (presentation)
    assert score
    for key, value in score.items():
        assert run.summary["metrics"][key] == pytest.approx(value, rel=1e-6), key


def test_teacher_angle_matches_hidden_units_before_measuring():
    """A student that is the teacher with its hidden units shuffled (and scaled) is at 0 degrees;
    the seeded student, unrelated to the teacher, far from it (matching 20 units on 5 inputs finds
    some alignment by chance: 51 degrees for the input weights, so runs report the angle before
    training too)."""
    from neuromorph import api, families
    from neuromorph.tasks.teacher import Teacher

    model = api.load("models/nla_teacher.yaml")
    task = Teacher(model)
    st, teacher = task.structure, task.weights
    order = np.arange(st.n)
    order[st.layers[0]] = np.random.default_rng(0).permutation(np.arange(st.n)[st.layers[0]])
    student = teacher.copy()
    student.W_in, student.W, student.b = 2 * teacher.W_in[order], 2 * teacher.W[order][:, order], teacher.b[order]
    assert task.angles(student) == pytest.approx({"teacher_angle_in_deg": 0.0, "teacher_angle_deg": 0.0}, abs=1e-5)
    unrelated = task.angles(families.of(model).initial_weights(model))
    assert unrelated["teacher_angle_in_deg"] > 40 and unrelated["teacher_angle_deg"] > 40, unrelated
