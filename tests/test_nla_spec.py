"""NLA specs: validation messages, round trips, overrides."""

from __future__ import annotations

import copy

import pytest

import neuromorph as nm
from neuromorph import spec

from .conftest import MODELS, load_data

NLA_MODELS = ["nla_digits", "nla_digits_fa", "nla_digits_microcircuit", "nla_teacher", "nla_signals"]


def data(name):
    return load_data(name)


def put(d, dotted, value):
    keys = dotted.split(".")
    node = d
    for k in keys[:-1]:
        node = node.setdefault(k, {})
    node[keys[-1]] = value


CASES = [
    ("nla_teacher", "neuron.rho", "sigmoid", "neuron.rho",
     "unknown value 'sigmoid' (did you mean 'hard_sigmoid'?); should be one of: "
     "hard_sigmoid, logistic, relu, lif, soft_lif"),
    ("nla_teacher", "neuron.tau", -0.01, "neuron.tau", "must be > 0"),
    ("nla_teacher", "learning.lanes", 0, "learning.lanes", "must be > 0"),
    ("nla_teacher", "learning.feedback", "random", "learning.feedback",
     "should be one of: transpose, alignment"),
    ("nla_teacher", "learning.eta", [1.0], "learning.eta", "has 1 rates, but the network has 2 projections"),
    ("nla_teacher", "network.recurrent", {"neurons": 4, "outputs": 2}, "network",
     "give exactly one of 'layers' (feed-forward) or 'recurrent'"),
    ("nla_teacher", "network.layers", [5], "network.layers", "needs at least an input and an output size"),
    ("nla_teacher", "dynamics.dt", 0.02, "dynamics.dt", "too coarse for tau"),
    ("nla_teacher", "task.kind", "mnist", "task", "unknown kind 'mnist'; should be one of: digits, teacher, signals"),
    ("nla_digits", "network.layers", [64, 100, 9], "network.layers", "the digits task needs 64 inputs and 10 outputs"),
    ("nla_digits", "task.presentation", 0.0505, "task.presentation", "not a whole multiple of dynamics.dt"),
    ("nla_digits", "record.variables", ["u_out", "v"], "record.variables[1]",
     "unknown variable 'v'; should be one of: u, u_out, r_bar, e_bar, target, input"),
    ("nla_digits_microcircuit", "microcircuit.interneurons", [3], "microcircuit.interneurons[0]",
     "at least min(n_l, n_l+1) = 10"),
    ("nla_digits_microcircuit", "microcircuit.interneurons", [12], "microcircuit.interneurons[0]",
     "one-to-one nudging needs one interneuron per neuron of the layer above (10), got 12"),
    ("nla_digits_microcircuit", "microcircuit.nudging", "diagonal", "microcircuit.nudging",
     "should be one of: random, one_to_one"),
    ("nla_digits_microcircuit", "microcircuit.beta_I", 1.0, "microcircuit.beta_I", "must be < 1"),
    ("nla_signals", "task.channels", 6, "task.channels", "6 channels but the network has 8 outputs"),
    ("nla_signals", "task.withheld", 8, "task.withheld", "keep at least one nudged"),
    ("nla_signals", "microcircuit", {"beta_I": 0.1}, "microcircuit", "layered networks only"),
    ("nla_teacher", "weights", "missing/weights.npz", "weights", "no such file"),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_bad_nla_spec(cli, spec_file, tmp_path, case):
    base, key, value, path, fragment = case
    d = copy.deepcopy(data(base))
    put(d, key, value)
    file = spec_file(d, "bad.yaml")
    res = cli("simulate", file, "--out", tmp_path / "out")
    assert res.code == 2
    assert any(f": {path}: " in ln and fragment in ln for ln in res.err.splitlines()), res.err
    assert "Traceback" not in res.err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", NLA_MODELS)
def test_nla_round_trip(tmp_path, name):
    model = nm.load(MODELS / f"{name}.yaml")
    for fmt in ("yaml", "json"):
        path = tmp_path / f"{name}.{fmt}"
        again = spec.validate_text(spec.to_yaml(model) if fmt == "yaml" else spec.to_json(model), str(path))[0]
        assert again == model


def test_overrides_go_to_the_nla_sections():
    from neuromorph.run.simulate import with_overrides

    model = nm.load(MODELS / "nla_teacher.yaml")
    new = with_overrides(model, duration=0.5, dt=0.0005, seed=4)
    assert new.task.duration == 0.5 and new.dynamics.dt == 0.0005 and new.seed == 4
