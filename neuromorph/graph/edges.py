r"""Edges of the network graph: projections with their synapse filters.

A :class:`Connection` from node a to node b adds :math:`I_b(t) = W\,(h * s_a)(t)` to b's input,
with W (size_b x size_a) its ``weights`` and h the synapse's impulse response (unit area):

- ``None``: no filter and no delay: a value passes unchanged, and a spike is the pulse 1/dt held
  over its step (area 1, a Dirac impulse as dt -> 0), reaching the target in the same step: a
  weight w raises an LIF voltage by w (1 - e^(-dt/tau_rc)) / dt (about w / tau_rc) before the
  target's threshold is checked;
- :class:`Lowpass`: :math:`h(t) = e^{-t/\tau}/\tau`;
- :class:`Alpha`: :math:`h(t) = (t/\tau^2)\,e^{-t/\tau}` (two Lowpass(tau) stages in series);
- :class:`DoubleExp`: Lowpass(tau) then Lowpass(tau2), :math:`h(t) = (e^{-t/\tau} - e^{-t/\tau_2})/(\tau - \tau_2)`.

Spike trains are sums of Dirac impulses (units 1/s), so a filtered spike train is a rate in Hz.

A :class:`Decoded` edge (NEF) decodes the d-vector :math:`y = D^T (h * s_a)` from an ensemble's
spikes and adds :math:`g_i\,e_i \cdot T y` to each neuron i of the post ensemble (or T y to a
value node): the same as a full weight matrix :math:`g\,E\,T\,D^T`, kept in factored form
because targets build it that way (NengoLoihi routes it through decode neurons).

A Connection may learn (:class:`PES` into a value node, :class:`Dendritic` into spiking neurons):
its weights then change during a run by an error that a value node supplies (fed back to the
neurons for Dendritic), and targets report the weights it ended with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np

from .nodes import GraphError, as_array


@dataclass(frozen=True, eq=False)
class Lowpass:
    r"""First-order synapse, :math:`h(t) = e^{-t/\tau}/\tau` (s)."""

    tau: float

    def check(self, where: str) -> None:
        if not (isinstance(self.tau, (int, float)) and math.isfinite(self.tau) and self.tau > 0):
            raise GraphError(f"{where}: synapse tau must be > 0 s (got {self.tau!r})")

    def __str__(self) -> str:
        return f"Lowpass({self.tau * 1e3:g} ms)"


@dataclass(frozen=True, eq=False)
class Alpha:
    r"""Alpha synapse, :math:`h(t) = (t/\tau^2)\,e^{-t/\tau}`: two Lowpass(tau) in series;
    mean delay 2 tau, :math:`\int h^2 = 1/(4\tau)`."""

    tau: float

    def check(self, where: str) -> None:
        if not (isinstance(self.tau, (int, float)) and math.isfinite(self.tau) and self.tau > 0):
            raise GraphError(f"{where}: synapse tau must be > 0 s (got {self.tau!r})")

    def __str__(self) -> str:
        return f"Alpha({self.tau * 1e3:g} ms)"


@dataclass(frozen=True, eq=False)
class DoubleExp:
    r"""Two first-order stages in series, Lowpass(tau) then Lowpass(tau2) (s): transfer function
    :math:`1/((\tau s + 1)(\tau_2 s + 1))`, mean delay tau + tau2; Alpha(tau) when tau2 = tau.
    Spikes enter the first stage."""

    tau: float
    tau2: float

    def check(self, where: str) -> None:
        for tau in (self.tau, self.tau2):
            if not (isinstance(tau, (int, float)) and math.isfinite(tau) and tau > 0):
                raise GraphError(f"{where}: synapse time constants must be > 0 s (got {tau!r})")

    def __str__(self) -> str:
        return f"DoubleExp({self.tau * 1e3:g} ms, {self.tau2 * 1e3:g} ms)"


Synapse = Lowpass | Alpha | DoubleExp | None
SYNAPSE_TYPES = {"Lowpass": Lowpass, "Alpha": Alpha, "DoubleExp": DoubleExp}


def stages(syn: Synapse) -> tuple[float, ...]:
    """The time constants (s) of a synapse's first-order stages, in the order a signal passes them."""
    if syn is None:
        return ()
    if isinstance(syn, DoubleExp):
        return (syn.tau, syn.tau2)
    return (syn.tau, syn.tau) if isinstance(syn, Alpha) else (syn.tau,)


def scaled(syn: Synapse, k: float) -> Synapse:
    """``syn`` with every time constant times k."""
    if syn is None:
        return None
    if isinstance(syn, DoubleExp):
        return DoubleExp(syn.tau * k, syn.tau2 * k)
    return type(syn)(syn.tau * k)


def synapse_name(syn: Synapse) -> str:
    return "none" if syn is None else str(syn)


@dataclass(frozen=True, eq=False)
class PES:
    r"""Online learning of a connection's weights from an error (prescribed error sensitivity):

    .. math:: \frac{dW}{dt} = \text{rate}\; e(t)\, a(t)^T,\qquad a = h_{pre} * s_{pre},

    e (target size) the value of node ``error``, in the direction that lowers the error (target
    minus actual), a the source's output through :math:`h_{pre}(t) = e^{-t/\tau}/\tau` with
    tau = ``pre_tau`` (s; a rate in Hz for spikes), ``rate`` in units of W per (error x Hz x s).
    The rule of Nengo's ``PES`` (with E = -e, learning rate = rate x source size) and of
    NengoLoihi's on-chip learning. ``error_max``: the largest |e| expected (None: unknown); a
    chip that receives the error as small integers scales it so that this fills their range.
    ``gate``: a value node of size 1 whose value g multiplies the update (dW/dt = rate g e a^T;
    None: g = 1), e.g. 0 while a network settles into a new input and 1 once it has. ``decay``
    (0 < decay <= 1): how far ``rate`` has decayed from the model's own over training (``rate``
    includes it); the change a run learns shrinks with it, and a chip that learns the change in
    fixed point may make its weights' step finer by as much."""

    error: str
    rate: float
    pre_tau: float
    error_max: float | None = None
    gate: str | None = None
    decay: float = 1.0

    def check(self, where: str) -> None:
        _check_rate_and_trace(where, self.rate, self.pre_tau)
        if self.error_max is not None and not (math.isfinite(self.error_max) and self.error_max > 0):
            raise GraphError(f"{where}: learning error_max must be > 0 (got {self.error_max!r})")
        if not (isinstance(self.decay, (int, float)) and 0 < self.decay <= 1):
            raise GraphError(f"{where}: learning decay must be in (0, 1] (got {self.decay!r})")

    def __str__(self) -> str:
        gate = f", gate {self.gate!r}" if self.gate is not None else ""
        return f"PES(rate {self.rate:.4g}, error {self.error!r}, trace {self.pre_tau * 1e3:g} ms{gate})"


def _check_rate_and_trace(where: str, rate, pre_tau) -> None:
    """A learning rule's rate (>= 0) and presynaptic trace time constant (> 0 s)."""
    if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate >= 0):
        raise GraphError(f"{where}: learning rate must be >= 0 and finite (got {rate!r})")
    if not (isinstance(pre_tau, (int, float)) and math.isfinite(pre_tau) and pre_tau > 0):
        raise GraphError(f"{where}: learning pre_tau must be > 0 s (got {pre_tau!r})")


@dataclass(frozen=True, eq=False)
class Dendritic:
    r"""Online learning of a connection into LIF or IF neurons from an error fed back to them (a
    dendritic error, NLA's Eq 8 for a hidden layer):

    .. math:: \frac{dW}{dt} = \text{rate}\; g\,\big(r'(J) \odot F e\big)\, a^T,

    e (size m) the value of node ``error``, F (target size x m) the feedback pathway, r'(J) (Hz per
    unit current) the slope of the target neurons' rate curve at their input current J, a the
    source's spikes through :math:`e^{-t/\tau}/\tau` with tau = ``pre_tau`` (s), g the value of
    ``gate`` (None: 1).

    ``feedback``: a fixed matrix F (feedback alignment) or the name of an edge whose current
    weights, transposed and times ``feedback_gain``, are F (the errors return through the forward
    weights, which may themselves learn). ``sigma``: the LIF rate curve's smoothing (the soft-LIF
    curve with J - threshold replaced by sigma log(1 + e^((J - threshold)/sigma)); 0: the LIF
    curve). IF neurons' curve is threshold-linear: r' = 1 / (tau threshold) up to their cap."""

    error: str
    rate: float
    pre_tau: float
    feedback: str | np.ndarray
    feedback_gain: float = 1.0
    sigma: float = 0.0
    gate: str | None = None

    def __post_init__(self):
        if not isinstance(self.feedback, str):
            object.__setattr__(self, "feedback", as_array(self.feedback))

    def check(self, where: str) -> None:
        _check_rate_and_trace(where, self.rate, self.pre_tau)
        if not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise GraphError(f"{where}: learning sigma must be >= 0 (got {self.sigma!r})")
        if not math.isfinite(self.feedback_gain):
            raise GraphError(f"{where}: learning feedback_gain must be finite (got {self.feedback_gain!r})")
        if isinstance(self.feedback, np.ndarray) and not np.all(np.isfinite(self.feedback)):
            raise GraphError(f"{where}: the feedback matrix is not all finite")

    def __str__(self) -> str:
        fb = (f"edge {self.feedback!r} transposed x {self.feedback_gain:.4g}" if isinstance(self.feedback, str)
              else f"fixed {self.feedback.shape[0]}x{self.feedback.shape[1]}")
        gate = f", gate {self.gate!r}" if self.gate is not None else ""
        return (f"Dendritic(rate {self.rate:.4g}, error {self.error!r} fed back through {fb}, trace "
                f"{self.pre_tau * 1e3:g} ms{gate})")


LEARNING_TYPES: dict[str, type] = {"PES": PES, "Dendritic": Dendritic}
Rule = PES | Dendritic


def _history(where: str, history, width: int, history_dt) -> None:
    if history is None:
        return
    if history.ndim != 2 or history.shape[1] != width:
        raise GraphError(f"{where}: history must have shape (steps, {width}) (got {history.shape})")
    if not (history_dt and history_dt > 0):
        raise GraphError(f"{where}: a history needs history_dt > 0 s")


@dataclass(frozen=True, eq=False)
class Connection:
    """A projection ``source`` -> ``target``: weights (target size x source size), or a number
    (identity times that number, sizes equal), through ``synapse``.

    ``into``: ``neurons`` (the result is a current into each target neuron) or ``ensemble`` (the
    result is a vector in the target ensemble's represented space, encoded as gain_i e_i . y).

    ``history`` (steps, width), oldest first, every ``history_dt`` seconds: what entered the
    synapse (W s) before t = 0, so targets can start its filter as if the run had been under way
    (None: the filter starts at rest).

    ``learning``: a :class:`PES` or :class:`Dendritic` rule that changes the weights during a run
    (None: fixed)."""

    source: str
    target: str
    weights: np.ndarray | float = 1.0
    synapse: Synapse = None
    into: Literal["neurons", "ensemble"] = "neurons"
    history: np.ndarray | None = None
    history_dt: float | None = None
    learning: Rule | None = None

    def __post_init__(self):
        object.__setattr__(self, "weights", as_array(self.weights))
        if self.history is not None:
            object.__setattr__(self, "history", as_array(self.history))

    @property
    def name(self) -> str:
        return f"{self.source} -> {self.target}"

    def matrix(self, n_post: int, n_pre: int) -> np.ndarray:
        """The weights as a (n_post, n_pre) matrix."""
        weights = cast(np.ndarray, self.weights)  # an array after __post_init__
        return weights if weights.ndim == 2 else float(weights) * np.eye(n_post, n_pre)

    def check(self, n_post: int, n_pre: int) -> None:
        where = f"edge {self.name!r}"
        w = cast(np.ndarray, self.weights)  # an array after __post_init__
        if w.ndim == 0:
            if n_post != n_pre:
                raise GraphError(f"{where}: a scalar weight needs equal sizes (source {n_pre}, target {n_post})")
        elif w.shape != (n_post, n_pre):
            raise GraphError(f"{where}: weights have shape {w.shape}; expected (target size, source size) = "
                             f"({n_post}, {n_pre})")
        if not np.all(np.isfinite(w)):
            raise GraphError(f"{where}: weights are not all finite")
        if self.synapse is not None:
            self.synapse.check(where)
        if self.into not in ("neurons", "ensemble"):
            raise GraphError(f"{where}: into must be 'neurons' or 'ensemble' (got {self.into!r})")
        _history(where, self.history, n_post, self.history_dt)
        if self.learning is not None:
            self.learning.check(where)


@dataclass(frozen=True, eq=False)
class Decoded:
    r"""A decoded (NEF) projection from an ensemble: y = decoders^T (h * spikes), shape (d,),
    then ``transform`` (d_post x d; None: identity) into the target's represented space.

    ``history`` (steps, d), oldest first, every ``history_dt`` s: the decoded value y before t = 0
    (primes the synapse as for :class:`Connection`)."""

    source: str
    target: str
    decoders: np.ndarray
    transform: np.ndarray | None = None
    synapse: Synapse = None
    history: np.ndarray | None = None
    history_dt: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "decoders", as_array(self.decoders))
        for key in ("transform", "history"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, as_array(getattr(self, key)))

    @property
    def name(self) -> str:
        return f"{self.source} => {self.target}"

    @property
    def dimensions(self) -> int:
        return int(self.decoders.shape[1])

    def out_dimensions(self) -> int:
        return self.dimensions if self.transform is None else int(self.transform.shape[0])

    def full_transform(self) -> np.ndarray:
        return np.eye(self.dimensions) if self.transform is None else self.transform

    def check(self, n_pre: int, d_post: int) -> None:
        where = f"edge {self.name!r}"
        if self.decoders.ndim != 2 or self.decoders.shape[0] != n_pre:
            raise GraphError(f"{where}: decoders must have shape ({n_pre}, d) (got {self.decoders.shape})")
        if self.transform is not None and self.transform.shape != (d_post, self.dimensions):
            raise GraphError(f"{where}: transform has shape {self.transform.shape}; expected ({d_post}, "
                             f"{self.dimensions})")
        if self.transform is None and d_post != self.dimensions:
            raise GraphError(f"{where}: decodes {self.dimensions} dimensions into a target of {d_post}; "
                             "give a transform")
        for key in ("decoders", "transform"):
            value = getattr(self, key)
            if value is not None and not np.all(np.isfinite(value)):
                raise GraphError(f"{where}: {key} are not all finite")
        if self.synapse is not None:
            self.synapse.check(where)
        _history(where, self.history, self.dimensions, self.history_dt)


Edge = Connection | Decoded
EDGE_TYPES = {"Connection": Connection, "Decoded": Decoded}
