"""Turning spec values into arrays."""

from __future__ import annotations

import numpy as np

from ..seeds import rng_for
from ..spec.common import Distribution


def param_values(value, n: int, seed: int, key: str) -> np.ndarray:
    """Values of one parameter for ``n`` synapses, shape (n,).

    A number is repeated, a list is taken as is (the spec layer checked its length), a
    distribution is sampled with a generator derived from ``seed`` and ``key``.
    """
    if isinstance(value, Distribution):
        return value.sample(rng_for(seed, key), n)
    if isinstance(value, tuple):
        return np.asarray(value, dtype=float)
    return np.full(n, float(value))
