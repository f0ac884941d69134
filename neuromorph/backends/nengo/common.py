"""Pieces every Nengo/NengoLoihi network shares: the simulators, primed synapses, the Bernoulli
input neuron, spike counters."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np

from ...errors import NeuromorphError

#: Nengo's and Loihi's time step (s).
DT = 0.001


class NengoError(NeuromorphError):
    """A model the Nengo/NengoLoihi compiler cannot map."""


@contextmanager
def quiet():
    """Hide NengoLoihi's known, harmless warnings (untested nengo version, the integer cast in the
    emulator's set-up, zero initial voltages on chip, filter time constants merged per block,
    bits lost when tiny weights are discretized (measured in 'quantization'), Nengo's note that
    merged Poisson input populations share one random state, and Nengo's max-rate bookkeeping for
    neurons given by gain and bias that fire at any input)."""
    with warnings.catch_warnings():
        for text in ("This version of nengo_loihi", "invalid value encountered in cast",
                     "NengoLoihi does not support initial values", "progress_bar", "tau_s is",
                     "extra bits in weight rounding", "Extra state has been modified when merging",
                     "encountered in log1p", "Non-finite values detected in `max_rates`"):
            warnings.filterwarnings("ignore", message=f".*{text}.*")
        yield


def import_nengo():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nengo
    return nengo


def import_loihi():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nengo_loihi
    return nengo_loihi


def loihi_target() -> str:
    """NengoLoihi's target: ``"loihi"`` when NxSDK (and so a board) is present, else ``"sim"``."""
    import_loihi()
    from nengo_loihi.hardware import HAS_NXSDK

    return "loihi" if HAS_NXSDK else "sim"


def hardware_name(backend: str, target: str | None) -> str:
    if backend == "nengo":
        return "Nengo reference simulator (CPU)"
    return "Loihi chip (NxSDK)" if target == "loihi" else "Loihi emulator (NengoLoihi target 'sim', CPU)"


def make_primed(base, X0=None):
    """The Nengo synapse ``base`` (Lowpass, Alpha or a LinearFilter) with its state starting at X0
    (the state-space vector of Nengo's discretized filter; None: at rest)."""
    args = (base.tau,) if hasattr(base, "tau") else (base.num, base.den)

    class Primed(type(base)):  # type: ignore[misc]  # base chosen at runtime from nengo
        def make_state(self, shape_in, shape_out, dt, dtype=None, y0=0):
            state = super().make_state(shape_in, shape_out, dt, dtype=dtype, y0=y0)
            if X0 is not None:
                state["X"][...] = X0
            return state

    Primed.__name__ = type(base).__name__
    return Primed(*args)


def filter_state(synapse, inputs: np.ndarray, dt: float = DT) -> np.ndarray:
    """The state of ``synapse`` after it has filtered ``inputs`` ((steps, n), oldest first), in the
    form Nengo's step keeps it: x = A x + B u for filters of several states; for one state without
    passthrough (Lowpass) Nengo keeps the output C x itself."""
    A, B, C, D = synapse._get_ss(dt)
    B = np.asarray(B, dtype=float).reshape(-1, 1)
    X = np.zeros((A.shape[0], inputs.shape[1]))
    for u in inputs:
        X = A @ X + B * u[None, :]
    if A.shape[0] == 1 and not np.any(D):
        X = np.asarray(C, dtype=float).reshape(1, 1) @ X
    return X


def bernoulli_type(rate_type):
    """A neuron type that fires at most once per step, with probability min(rate dt, 1): the same
    mean rate as Poisson spiking for rates up to 1/dt."""
    nengo = import_nengo()

    class BernoulliSpiking(nengo.PoissonSpiking):
        def step(self, dt, J, output, rng, **base_state):
            p = np.clip(J * dt, 0.0, 1.0)
            output[...] = (self.amplitude / dt) * (rng.uniform(size=output.size) < p)

    return BernoulliSpiking(rate_type)


class SpikeCounter:
    """A Nengo node function that counts the spikes of a population (values 1/dt per spike)."""

    def __init__(self, n: int, dt: float = DT):
        self.counts = np.zeros(n)
        self.dt = dt

    def __call__(self, t, x):
        self.counts += x * self.dt


def simulator(net, backend: str, seed: int, target: str | None = None, decode_tau: float | None = None,
              dt: float = DT, pes_wgt_exp: int | None = None):
    """Nengo's reference simulator (step ``dt``, s), or NengoLoihi's on ``target`` ('sim' or
    'loihi', dt = 1 ms); ``decode_tau`` (s) replaces NengoLoihi's filter on decoded on-chip
    connections; ``pes_wgt_exp`` the learned weights' exponent (None: NengoLoihi's)."""
    if backend == "nengo":
        return import_nengo().Simulator(net, dt=dt, seed=seed, progress_bar=False)
    nengo_loihi = import_loihi()
    from .loihi import PES_ERROR_SCALE

    model = nengo_loihi.builder.Model(dt=DT)
    model.pes_error_scale = PES_ERROR_SCALE  # stated here, so error_gain uses the scale the chip gets
    if decode_tau is not None:
        model.decode_tau = decode_tau
    if pes_wgt_exp is not None:
        model.pes_wgt_exp = pes_wgt_exp
    return nengo_loihi.Simulator(net, model=model, dt=DT, seed=seed, target=target, progress_bar=False)


def versions(backend: str) -> dict:
    out = {"nengo": import_nengo().__version__, "numpy": np.__version__}
    if backend == "loihi":
        out["nengo_loihi"] = import_loihi().__version__
    return out
