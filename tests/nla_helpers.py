"""Helpers for NLA tests: build models from plain data, drive the engine with smooth inputs."""

from __future__ import annotations

import numpy as np

from neuromorph import spec
from neuromorph.families.nla.rate import NLAEngine


def nla_model(layers=None, recurrent=None, task=None, **sections):
    """A validated NLA model; ``sections`` maps section name -> dict of keys to set."""
    data = {"format_version": 1, "family": "nla", "name": "test",
            "network": {"layers": layers} if layers is not None else {"recurrent": recurrent},
            "task": task or {"kind": "teacher"}}
    for key, value in sections.items():
        data[key] = value
    model, problems = spec.validate_data(data)
    assert model is not None, problems
    return model


def smooth_input(n_in, lanes, seed=0, low=0.5, high=2.0):
    """x(t) = 0.5 + 0.3 sin(2 pi f t + phase), f in [low, high] Hz: (steps, lanes, n_in) for times t."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(low, high, size=(lanes, n_in))
    phase = rng.uniform(0, 2 * np.pi, size=(lanes, n_in))
    return lambda t: 0.5 + 0.3 * np.sin(2 * np.pi * f * np.asarray(t)[..., None, None] + phase)


def engine(model, bias_shift=0.0):
    eng = NLAEngine(model)
    eng.weights.b += bias_shift
    return eng
