"""Seeds: every random part of a model draws from a child seed derived from the model seed
and the part's name, so adding a noise source never changes another source's samples."""

from __future__ import annotations

import zlib

import numpy as np


def derive_seed(seed: int, *names: str) -> int:
    """A child seed for a named part of the model, stable across runs and platforms.

    ``seed`` and the CRC-32 of each name feed a :class:`numpy.random.SeedSequence`; the
    first 32-bit word of its state is the child seed.
    """
    words = [int(seed)] + [zlib.crc32(n.encode()) for n in names]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """A generator for the named part of the model (see :func:`derive_seed`)."""
    return np.random.default_rng(derive_seed(seed, *names))


def spiking_seed(model) -> int:
    """The seed of a model's spiking realization: ``spiking.seed``, else the model's seed."""
    own = model.spiking.seed
    return model.seed if own is None else own
