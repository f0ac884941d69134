"""Every validation rule: a bad spec gets a message naming file, key and what is allowed,
exit status 2, no traceback, and no output."""

from __future__ import annotations

import copy

import pytest

from .conftest import load_data


def set_key(path, value):
    def mutate(data):
        *parents, last = path
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return mutate


def drop_key(path):
    def mutate(data):
        *parents, last = path
        node = data
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


def both(*mutations):
    def mutate(data):
        for m in mutations:
            m(data)

    return mutate


NAN, INF = float("nan"), float("inf")

# (id, base model, mutation, key path in the message, message fragment)
CASES = [
    ("unknown-key-suggests", "kim_fig3_solid", set_key(("params", "gama_mu"), 1.0), "params.gama_mu",
     "unknown key (did you mean 'gamma_mu'?)"),
    ("unknown-top-key", "kim_fig3_solid", set_key(("tiem",), {}), "tiem", "unknown key (did you mean 'time'?)"),
    ("unknown-nested-key", "kim_fig5", set_key(("noise", "eta", "cutof"), 1.0), "noise.eta.cutof",
     "unknown key (did you mean 'cutoff'?)"),
    ("missing-key", "kim_fig3_solid", drop_key(("params", "m_mu")), "params.m_mu", "required key missing"),
    ("type-text-for-number", "kim_fig3_solid", set_key(("params", "m_mu"), "five"), "params.m_mu", "must be a number"),
    ("type-text-duration", "kim_fig3_solid", set_key(("time", "duration"), "10"), "time.duration",
     "must be a number (got '10' (text))"),
    ("type-bool-number", "kim_fig3_solid", set_key(("time", "dt"), True), "time.dt", "must be a number"),
    ("type-list-expected", "kim_fig3_solid", set_key(("record", "variables"), "mu"), "record.variables",
     "must be a list"),
    ("type-fractional-size", "kim_fig5", set_key(("population", "size"), 2.5), "population.size",
     "must be a whole number"),
    ("type-section", "kim_fig3_solid", set_key(("time",), [1, 2]), "time", "must be a mapping of keys"),
    ("negative-time-constant", "kim_fig3_solid", set_key(("params", "gamma_mu"), -1.0), "params.gamma_mu",
     "must be > 0 (got -1.0)"),
    ("zero-mass", "kim_fig3_solid", set_key(("params", "m_w"), 0), "params.m_w", "must be > 0"),
    ("zero-duration", "kim_fig3_solid", set_key(("time", "duration"), 0.0), "time.duration", "must be > 0"),
    ("negative-dt", "kim_fig3_solid", set_key(("time", "dt"), -0.001), "time.dt", "must be > 0"),
    ("zero-population", "kim_fig5", set_key(("population", "size"), 0), "population.size", "must be > 0"),
    ("zero-cutoff", "kim_fig5", set_key(("noise", "eta", "cutoff"), 0.0), "noise.eta.cutoff", "must be > 0"),
    ("negative-seed", "kim_fig3_solid", set_key(("seed",), -3), "seed", "must be >= 0"),
    ("nan-param", "kim_fig3_solid", set_key(("params", "m_w"), NAN), "params.m_w", "must be a finite number"),
    ("inf-duration", "kim_fig3_solid", set_key(("time", "duration"), INF), "time.duration", "finite number"),
    ("inf-input", "kim_fig3_solid", set_key(("inputs", "s"), INF), "inputs.s", "must be a finite number"),
    ("nan-in-list", "kim_fig5", set_key(("params", "mu_d"), [1.0, NAN, 2.0]), "params.mu_d",
     "item 1: must be a finite number"),
    ("shape-mismatch", "kim_fig5", set_key(("params", "mu_d"), [5.0, 10.0]), "params.mu_d",
     "has 2 values, but population.size is 3"),
    ("list-without-population", "kim_fig3_solid", set_key(("initial", "w"), [0.0, 1.0]), "initial.w",
     "needs population.size"),
    ("input-list-mismatch", "kim_fig5", set_key(("inputs", "s"), ["1", "2"]), "inputs.s",
     "has 2 values, but population.size is 3"),
    ("unknown-family", "kim_fig3_solid", set_key(("family",), "bmx"), "family",
     "unknown family 'bmx' (did you mean 'bm'?); should be one of: bm"),
    ("unknown-integrator", "kim_fig3_solid", set_key(("time", "integrator"), "rk5"), "time.integrator",
     "unknown value 'rk5' (did you mean 'rk4'?); should be one of: rk4, euler, scipy"),
    ("unknown-noise-kind", "kim_fig5", set_key(("noise", "eta", "kind"), "pink"), "noise.eta",
     "unknown kind 'pink'; should be one of: smooth, white"),
    ("unknown-record-variable", "kim_fig3_solid", set_key(("record", "variables"), ["mu", "muu"]),
     "record.variables[1]", "unknown variable 'muu' (did you mean 'mu'?); should be one of: mu, w, p_mu, p_w"),
    ("repeated-record-variable", "kim_fig3_solid", set_key(("record", "variables"), ["mu", "mu"]),
     "record.variables[1]", "listed twice"),
    ("unknown-expression-name", "kim_fig5", set_key(("inputs", "s"), "5*cos(t) + etta"), "inputs.s",
     "unknown name 'etta'"),
    ("unknown-expression-function", "kim_fig5", set_key(("inputs", "s"), "5*cosh(t)"), "inputs.s",
     "unknown function 'cosh'; allowed functions: sin, cos"),
    ("expression-syntax", "kim_fig5", set_key(("inputs", "s"), "5*cos(t"), "inputs.s", "ends too early"),
    ("expression-non-finite", "kim_fig3_solid", set_key(("inputs", "s"), "log(t - 5)"), "inputs.s",
     "not a finite number at t = 0 s"),
    ("reserved-noise-name", "kim_fig5", set_key(("noise", "cos"), {"kind": "white"}), "noise.cos", "reserved"),
    ("bad-noise-name", "kim_fig5", set_key(("noise", "2eta"), {"kind": "white"}), "noise.2eta",
     "is not a valid name"),
    ("duration-not-multiple", "kim_fig3_solid", set_key(("time", "duration"), 10.0005), "time.duration",
     "not a whole multiple of time.dt"),
    ("record-dt-not-multiple", "kim_fig3_solid", set_key(("record", "dt"), 0.0015), "record.dt",
     "not a whole multiple"),
    ("bad-distribution", "kim_fig5", set_key(("params", "gamma_w"), {"normal": [0.1, 0.01]}), "params.gamma_w",
     "a positive parameter needs uniform: [low, high] with low > 0"),
    ("bad-sign", "kim_fig3_solid", set_key(("params", "hebbian_sign"), 0), "params.hebbian_sign",
     "must be -1 or 1 (got 0)"),
    ("unsupported-version", "kim_fig3_solid", set_key(("format_version",), 7), "format_version",
     "unsupported format version 7; this neuromorph reads: 1"),
    ("missing-version", "kim_fig3_solid", drop_key(("format_version",)), "", "missing key 'format_version'"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_bad_spec_is_reported_and_nothing_runs(cli, spec_file, tmp_path, case, command):
    _, base, mutate, path, fragment = case
    data = copy.deepcopy(load_data(base))
    mutate(data)
    file = spec_file(data, "bad.yaml")
    out = tmp_path / "out"
    args = [command, file] + (["--out", out] if command == "simulate" else [])
    res = cli(*args)
    assert res.code == 2, res.out + res.err
    lines = [ln for ln in res.err.splitlines() if ln.startswith("error: ")]
    where = f"{file}:" if not path else None
    matching = [ln for ln in lines
                if str(file) in ln and (f": {path}: " in ln if path else where in ln) and fragment in ln]
    assert matching, f"no line names {file} / {path!r} / {fragment!r} in:\n{res.err}"
    assert "Traceback" not in res.err + res.out
    assert not out.exists()


def test_all_problems_are_reported_at_once(cli, spec_file):
    data = load_data("kim_fig3_solid")
    data["params"]["gama_mu"] = 1.0
    data["params"]["m_w"] = -2.0
    data["time"]["integrator"] = "rk5"
    data["seed"] = "x"
    res = cli("validate", spec_file(data))
    assert res.code == 2
    for key in ("params.gama_mu", "params.m_w", "time.integrator", "seed"):
        assert f": {key}: " in res.err
    assert "4 problems" in res.err


def test_malformed_yaml_names_the_line(cli, spec_file):
    text = "format_version: 1\nfamily: bm\nparams:\n  m_mu: [1, 2\n  m_w: 3\n"
    res = cli("validate", spec_file(text, "broken.yaml"))
    assert res.code == 2
    assert "broken.yaml:" in res.err and "malformed YAML" in res.err
    line = int(res.err.split("broken.yaml:")[1].split(":")[0])
    assert line in (4, 5)


def test_duplicate_key_is_an_error(cli, spec_file):
    text = (load_data.__globals__["MODELS"] / "kim_fig3_solid.yaml").read_text() + "seed: 3\n"
    res = cli("validate", spec_file(text, "dup.yaml"))
    assert res.code == 2
    assert "duplicate key 'seed'" in res.err and "dup.yaml:" in res.err


def test_problem_lines_point_at_the_key(cli, spec_file):
    text = (load_data.__globals__["MODELS"] / "kim_fig3_solid.yaml").read_text()
    text = text.replace("  gamma_mu: 1.0", "  gama_mu: 1.0")
    line = text.splitlines().index("  gama_mu: 1.0") + 1
    res = cli("validate", spec_file(text, "typo.yaml"))
    assert f"typo.yaml:{line}: params.gama_mu: unknown key (did you mean 'gamma_mu'?)" in res.err


def test_top_level_must_be_a_mapping(cli, spec_file):
    res = cli("validate", spec_file("- 1\n- 2\n", "list.yaml"))
    assert res.code == 2 and "a model spec is a mapping of keys" in res.err


def test_missing_file(cli, tmp_path):
    res = cli("validate", tmp_path / "nope.yaml")
    assert res.code == 2 and "nope.yaml: no such file" in res.err


def test_coarse_dt_is_a_warning_not_an_error(cli, spec_file, tmp_path):
    data = load_data("kim_fig3_solid")
    data["time"]["dt"] = 0.1
    file = spec_file(data)
    res = cli("validate", file)
    assert res.code == 0
    assert "warning: " in res.err and ": time.dt: 0.1 s is coarse for the fastest time scale" in res.err
    res = cli("simulate", file, "--out", tmp_path / "o")
    assert res.code == 0 and (tmp_path / "o" / "summary.json").exists()


def test_unknown_backend_lists_the_valid_ones(cli, models_dir, tmp_path):
    res = cli("simulate", models_dir / "kim_fig3_solid.yaml", "--backend", "lohi", "--out", tmp_path / "o")
    assert res.code == 2
    assert "unknown backend 'lohi' (did you mean 'loihi'?)" in res.err
    assert "should be one of: brian2, brian2-spiking, loihi, nengo, rate" in res.err
    assert not (tmp_path / "o").exists()


def test_bad_override_is_reported(cli, models_dir, tmp_path):
    res = cli("simulate", models_dir / "kim_fig3_solid.yaml", "--dt", "-1", "--out", tmp_path / "o")
    assert res.code == 2 and "time.dt: must be > 0" in res.err
    assert not (tmp_path / "o").exists()
