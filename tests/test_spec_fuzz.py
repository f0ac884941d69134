"""Property-based: mutated specs never make the loader (or the CLI) raise anything but a
clear SpecError; every problem names a key path or the file."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuromorph import spec

from .conftest import load_data

BASES = [load_data(n) for n in ("kim_fig3_solid", "kim_fig3_dotted", "kim_fig5", "kim_fig6")]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e-300, 1e300, 0.5, 3]),
    st.text(max_size=12),
    st.sampled_from(["5*cos(t)", "eta", "t**t**t", "log(-t)", "1/0", "sin(", "exp(1000*t)", "i", "__class__",
                     "rk4", "scipy", "bm", "nla", "smooth", "white", "mu", "uniform"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["kind", "uniform", "normal", "size", "x", "std", "hold"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths(v, prefix + (i,))


def get_parent(data, path):
    node = data
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def mutated_specs(draw):
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        all_paths = [p for p in paths(data) if p]
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent = get_parent(data, path)
        op = draw(st.sampled_from(["replace", "delete", "add", "rename"]))
        key = path[-1]
        if op == "replace":
            parent[key] = draw(values)
        elif op == "delete":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(values)
        elif op == "rename" and isinstance(parent, dict):
            parent[str(key)[:-1] or "x"] = parent.pop(key)
    return data


@st.composite
def corrupted_text(draw):
    text = yaml.safe_dump(draw(st.sampled_from(BASES)), sort_keys=False)
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.sampled_from(["", ":", "- ", "{", "]", "\n  ", "'", "&a", "*a",
                                                  "!!python/object:os.system "])) + text[pos + draw(st.integers(0, 3)):]
    return text


def assert_clean(model, problems):
    assert model is not None or any(p.severity == "error" for p in problems)
    for p in problems:
        assert isinstance(p.message, str) and p.message
        assert p.severity in ("error", "warning")


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_specs())
def test_mutated_specs_never_escape_as_tracebacks(data):
    assert_clean(*spec.validate_data(data, file="fuzz.yaml"))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(corrupted_text())
def test_corrupted_yaml_never_escapes(text):
    assert_clean(*spec.validate_text(text, file="fuzz.yaml"))


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_specs())
def test_cli_validate_exits_0_or_2(tmp_path_factory, data):
    from click.testing import CliRunner

    from neuromorph.cli import main

    path = tmp_path_factory.mktemp("fuzz") / "m.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
