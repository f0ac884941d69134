"""Input signals: seeded noise sources and spec expressions evaluated on time points.

Every source here is a deterministic function of (seed, t), so all backends see exactly the
same input whatever their step, and changing the duration does not change the signal's
beginning.
"""

from __future__ import annotations

import numpy as np

from . import expr
from .seeds import derive_seed
from .spec.common import SmoothNoise, WhiteNoise


class NoiseSource:
    """A noise source evaluated at arbitrary times.

    Parameters
    ----------
    spec : SmoothNoise or WhiteNoise
    seed : int
        The model seed; the source's own ``seed`` key overrides it.
    name : str
        The source's name (feeds the derived seed).
    n : int
        Number of synapses; ``streams`` is 1 when the source is shared or ``n == 1``.
    duration : float
        Longest time (s) the source will be asked for (white noise draws its samples up front).
    """

    def __init__(self, spec, seed: int, name: str, n: int, duration: float):
        self.spec = spec
        self.name = name
        self.seed = spec.seed if spec.seed is not None else derive_seed(seed, "noise", name)
        self.streams = 1 if (spec.shared or n == 1) else n
        rng = np.random.default_rng(self.seed)
        if isinstance(spec, SmoothNoise):
            k = spec.components
            self._freq = rng.uniform(0.0, spec.cutoff, size=(k, self.streams))
            self._phase = rng.uniform(0.0, 2 * np.pi, size=(k, self.streams))
            self._amp = spec.std * np.sqrt(2.0 / k)
        elif isinstance(spec, WhiteNoise):
            count = int(np.floor(duration / spec.hold)) + 2
            self._samples = spec.std * rng.standard_normal((count, self.streams))
        else:  # pragma: no cover - the spec layer admits only the kinds above
            raise TypeError(f"unknown noise spec {spec!r}")

    def __call__(self, t) -> np.ndarray:
        """Values at times ``t`` (scalar or 1-D array): shape ``t.shape + (streams,)``."""
        t = np.asarray(t, dtype=float)
        if isinstance(self.spec, WhiteNoise):
            idx = np.floor(t / self.spec.hold + 1e-9).astype(int)
            return self._samples[np.clip(idx, 0, len(self._samples) - 1)]
        out = np.empty(t.shape + (self.streams,))
        flat_t, flat_out = t.reshape(-1), out.reshape(-1, self.streams)
        chunk = max(1, 2_000_000 // (self._freq.size or 1))
        for a in range(0, flat_t.size, chunk):
            ts = flat_t[a : a + chunk, None, None]
            waves = np.cos(2 * np.pi * self._freq[None] * ts + self._phase[None])
            flat_out[a : a + chunk] = self._amp * waves.sum(axis=1)
        return out


class InputSignal:
    """A spec input (number, expression, or one per synapse) as a function of time.

    Parameters
    ----------
    value : float, str or tuple of these
        As validated by the spec layer.
    noises : dict of str -> NoiseSource
    n : int
        Number of synapses.

    Calling it with a scalar ``t`` gives shape ``(n,)``; with a 1-D array, ``(len(t), n)``.
    """

    def __init__(self, value, noises: dict, n: int):
        self.n = n
        self.noises = noises
        items = value if isinstance(value, tuple) else (value,)
        self.per_synapse = isinstance(value, tuple)
        self.trees = [expr.parse(v) if isinstance(v, str) else expr.Num(float(v)) for v in items]
        used = set().union(*(expr.names(tree) for tree in self.trees))
        self.constant = not used

    def __call__(self, t) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        shape = t.shape + (self.n,)
        if self.constant and not self.per_synapse:
            return np.full(shape, self.trees[0].value)
        tt = t[..., None]
        if not self.per_synapse:
            env = {"t": tt, "i": np.arange(self.n)}
            env.update({name: src(t) for name, src in self.noises.items()})
            return np.broadcast_to(expr.evaluate(self.trees[0], env), shape).astype(float)
        out = np.empty(shape)
        noise_values = {name: src(t) for name, src in self.noises.items()}
        for k, tree in enumerate(self.trees):
            env = {"t": t, "i": k}
            env.update({name: v[..., k if v.shape[-1] > 1 else 0] for name, v in noise_values.items()})
            out[..., k] = expr.evaluate(tree, env)
        return out


def make_noises(noise_specs: dict, seed: int, n: int, duration: float) -> dict:
    """Instantiate every named noise source of a model."""
    return {name: NoiseSource(spec, seed, name, n, duration) for name, spec in noise_specs.items()}
