"""The safe expression parser: arithmetic, whitelisted functions, named noise; nothing else runs."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from neuromorph import expr

from .conftest import load_data

T = np.linspace(0, 3, 7)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5*cos(t)", 5 * np.cos(T)),
        ("5*exp(-t/5)*cos(t)", 5 * np.exp(-T / 5) * np.cos(T)),
        ("2**-1 + -t**2", 0.5 - T**2),
        ("1 - 2 - 3", np.full_like(T, -4.0)),
        ("8 / 2 / 2", np.full_like(T, 2.0)),
        ("2 ** 3 ** 2", np.full_like(T, 512.0)),
        ("min(t, 1) + max(t, 2) + clip(t, 0.5, 1)", np.minimum(T, 1) + np.maximum(T, 2) + np.clip(T, 0.5, 1)),
        ("pi * e", np.full_like(T, math.pi * math.e)),
        ("1e-3 * t + .5", 1e-3 * T + 0.5),
    ],
)
def test_evaluates_like_numpy(text, expected):
    assert np.allclose(expr.evaluate(expr.parse(text), {"t": T}) + 0 * T, expected)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os').system('echo x')", "unexpected character"),
        ("().__class__.__bases__[0]", "unexpected"),
        ("t.real", "unexpected character '.'"),
        ("open('f')", "unexpected character"),
        ("eval(1)", "unknown function 'eval'"),
        ("exec(t)", "unknown function 'exec'"),
        ("lambda: 0", "unexpected"),
        ("t if t else 0", "unexpected"),
        ("t; import os", "unexpected character ';'"),
        ("[t for t in t]", "unexpected character '['"),
        ("cos(t, t)", "cos() takes 1 argument(s), got 2"),
        ("x" * 2000, "characters long"),
        ("(" * 50 + "t" + ")" * 50, "nests too deeply"),
        ("-" * 60 + "t", "nests too deeply"),
        ("-" * 995 + "t", "nests too deeply"),
    ],
)
def test_rejects_everything_else(text, fragment):
    with pytest.raises(expr.ExprError, match=None) as info:
        expr.parse(text)
    assert fragment in str(info.value)


def test_unknown_names_are_caught_with_column():
    tree = expr.parse("5*cos(t) + os")
    with pytest.raises(expr.ExprError, match=r"unknown name 'os'.* at column 12"):
        expr.check_names(tree, {"t", "eta"})


def test_render_emits_only_parsed_tokens():
    tree = expr.parse("5*cos(t)+eta")
    assert expr.render(tree, {"t": "t/second"}) == "((5.0 * cos(t/second)) + eta)"


def test_numeric_overflow_gives_inf_not_exception():
    assert np.isinf(expr.evaluate(expr.parse("exp(1000*t)"), {"t": np.array([1.0])}))[0]


INJECTION = "__import__('os').system('touch {marker}')"


@pytest.mark.parametrize("command", ["validate", "simulate"])
def test_injection_in_input_is_rejected_and_nothing_runs(cli, spec_file, tmp_path, command):
    marker = tmp_path / "pwned"
    data = load_data("kim_fig3_solid")
    data["inputs"]["s"] = INJECTION.format(marker=marker)
    out = tmp_path / "out"
    args = [command, spec_file(data)] + (["--out", out] if command == "simulate" else [])
    res = cli(*args)
    assert res.code == 2
    assert ": inputs.s: unexpected character" in res.err
    assert not marker.exists() and not out.exists()


def test_injection_through_the_real_command(spec_file, tmp_path):
    """The installed command, as a user runs it: exit 2, no traceback, no side effect."""
    marker = tmp_path / "pwned2"
    data = load_data("kim_fig5")
    data["inputs"]["s"] = f"5*cos(t) + __import__('os').system('touch {marker}')"
    proc = subprocess.run(
        [sys.executable, "-m", "neuromorph", "simulate", str(spec_file(data)), "--out", str(tmp_path / "o")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "inputs.s" in proc.stderr
    assert not marker.exists() and not (tmp_path / "o").exists()
