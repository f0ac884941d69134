r"""Network-graph primitives: one frozen dataclass per kind of node.

Times are in seconds, rates in hertz. Neuron voltages and currents are in units of the firing
threshold's scale (dimensionless), as in Nengo and NIR. Every node has a ``size`` (neurons or
dimensions of one copy of the network; see :class:`~neuromorph.graph.network.Graph`) and a
``check(name)`` that raises :class:`GraphError` naming the node; nothing here uses ``assert``.

What enters a node is the sum of its incoming edges (:mod:`.edges`): a current J(t) for neurons,
a value for read-outs and host nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal

import numpy as np

from ..errors import NeuromorphError


class GraphError(NeuromorphError):
    """A graph that is not well formed; the message names the node or edge."""


def as_array(value, name: str = "") -> np.ndarray:
    """A float array (a copy, read-only) from a number or a sequence."""
    out = np.array(value, dtype=float)
    out.setflags(write=False)
    return out


def _check_reset(name: str, node) -> None:
    """A spiking node's threshold, reset value and reset mode."""
    if not (math.isfinite(node.threshold) and node.threshold > node.reset):
        raise GraphError(f"node {name!r}: threshold ({node.threshold!r}) must be finite and above reset "
                         f"({node.reset!r})")
    if node.reset_mode not in ("zero", "subtract"):
        raise GraphError(f"node {name!r}: reset_mode must be 'zero' or 'subtract' (got {node.reset_mode!r})")


def _positive(node: str, key: str, value: float, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not (isinstance(value, (int, float)) and math.isfinite(value) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise GraphError(f"node {node!r}: {key} must be a finite number {bound} (got {value!r})")


def _vector(node: str, key: str, value, size: int, copies: int | None = None) -> None:
    """``value`` must be finite and a scalar, shape (size,) or, with ``copies``, (copies, size)."""
    arr = np.asarray(value)
    shapes = [(), (size,)] + ([(copies, size)] if copies else [])
    if arr.shape not in shapes:
        raise GraphError(f"node {node!r}: {key} has shape {arr.shape}; allowed: a number, ({size},)"
                         + (f" or ({copies}, {size})" if copies else ""))
    if not np.all(np.isfinite(arr)):
        raise GraphError(f"node {node!r}: {key} has non-finite values")


def _size(node: str, size) -> None:
    if not (isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0):
        raise GraphError(f"node {node!r}: size must be a positive integer (got {size!r})")


class Node:
    """Base of every primitive. ``spiking``: the node emits spikes (events), not values."""

    spiking = False
    has_state = False

    size: int
    __dataclass_fields__: ClassVar[dict[str, Any]]  # every node kind is a dataclass

    def check(self, name: str, copies: int = 1) -> None:
        _size(name, self.size)

    def arrays(self) -> dict:
        """The node's array fields (for serialization)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), np.ndarray)}


# -- sources -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Input(Node):
    """An external input port: values supplied with each run, held over steps of the run's
    input step (``inputs[name]``: array (steps, copies, size) or (steps, size)).

    ``kind``: ``value`` (a continuous value, e.g. rates in [0, 1] or a current), or ``spikes``
    (spike counts per step; a count c in a step of length dt is c / dt events per second,
    delivered as c events).
    """

    size: int
    kind: Literal["value", "spikes"] = "value"

    @property
    def spiking(self) -> bool:  # type: ignore[override]
        return self.kind == "spikes"

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        if self.kind not in ("value", "spikes"):
            raise GraphError(f"node {name!r}: kind must be 'value' or 'spikes' (got {self.kind!r})")


@dataclass(frozen=True, eq=False)
class Signal(Node):
    r"""A tabulated host signal: during [k dt, (k + 1) dt) it outputs ``values[k]`` (the last row
    after the table ends). ``values``: (steps, size), or (steps, copies, size) per copy."""

    values: np.ndarray
    dt: float

    def __post_init__(self):
        object.__setattr__(self, "values", as_array(self.values))

    @property
    def size(self) -> int:  # type: ignore[override]
        return int(self.values.shape[-1]) if self.values.ndim >= 2 else 0

    def check(self, name: str, copies: int = 1) -> None:
        if self.values.ndim not in (2, 3) or self.values.shape[0] < 1:
            raise GraphError(f"node {name!r}: values must have shape (steps, size) or (steps, copies, size) "
                             f"(got {self.values.shape})")
        if self.values.ndim == 3 and self.values.shape[1] != copies:
            raise GraphError(f"node {name!r}: values have {self.values.shape[1]} copies; the graph has {copies}")
        if not np.all(np.isfinite(self.values)):
            raise GraphError(f"node {name!r}: values are not all finite")
        _positive(name, "dt", self.dt)
        super().check(name, copies)


# -- input encoders: values in, spikes out -------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PoissonEncoder(Node):
    r"""Poisson spike trains at rate ``max_rate`` x max(x, 0) Hz for input values x (rate
    coding; x = 1 fires at ``max_rate``)."""

    size: int
    max_rate: float

    spiking = True

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        _positive(name, "max_rate", self.max_rate)


@dataclass(frozen=True, eq=False)
class BernoulliEncoder(Node):
    r"""At most one spike per step dt, with probability min(``max_rate`` max(x, 0) dt, 1): the
    Poisson rate for rates up to 1/dt (what a target that passes one spike per step can carry)."""

    size: int
    max_rate: float

    spiking = True

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        _positive(name, "max_rate", self.max_rate)


@dataclass(frozen=True, eq=False)
class RegularEncoder(Node):
    r"""Deterministic integrate-and-fire encoding: a phase :math:`\phi` grows at
    r = ``max_rate`` max(x, 0) per second and each whole unit it passes is a spike
    (:math:`\phi \to \phi - 1`). Over a window T at constant x the count is exactly
    floor(:math:`\phi_0` + r T) - floor(:math:`\phi_0`). ``phase``: :math:`\phi_0` in [0, 1)."""

    size: int
    max_rate: float
    phase: np.ndarray | float = 0.0

    spiking = True
    has_state = True

    def __post_init__(self):
        object.__setattr__(self, "phase", as_array(self.phase))

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        _positive(name, "max_rate", self.max_rate)
        _vector(name, "phase", self.phase, self.size, copies)
        if np.any((self.phase < 0) | (self.phase >= 1)):
            raise GraphError(f"node {name!r}: phase must lie in [0, 1)")


@dataclass(frozen=True, eq=False)
class AnalogEncoder(Node):
    r"""No encoding: the value x itself, scaled by ``gain``, passes on as an analog current
    (what a rate-coded input becomes on a target that accepts currents)."""

    size: int
    gain: float = 1.0

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        if not math.isfinite(self.gain):
            raise GraphError(f"node {name!r}: gain must be finite (got {self.gain!r})")


class BiasAndState:
    """Shared by nodes with a ``bias`` and an optional initial state ``v0``: both stored as
    read-only arrays, both checked against the node's size and copies."""

    bias: np.ndarray | float
    v0: np.ndarray | None
    size: int

    def __post_init__(self):
        object.__setattr__(self, "bias", as_array(self.bias))
        if self.v0 is not None:
            object.__setattr__(self, "v0", as_array(self.v0))

    def check_bias_and_state(self, name: str, copies: int) -> None:
        _vector(name, "bias", self.bias, self.size, copies)
        if self.v0 is not None:
            _vector(name, "v0", self.v0, self.size, copies)


# -- neurons -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LIF(Node):
    r"""Leaky integrate-and-fire neurons.

    .. math::

        \tau_{rc}\,\dot v = J - v, \qquad J = \text{bias} + \sum_\text{edges} I_e(t),

    a spike when v reaches ``threshold``; then v is set to ``reset`` (``reset_mode: zero``) or
    lowered by ``threshold`` (``subtract``), and held for ``tau_ref`` seconds. Below ``v_min``
    (if set) v is clipped. For constant J, threshold 1 and reset 0 the rate is
    :math:`r(J) = 1 / (\tau_{ref} - \tau_{rc} \log(1 - 1/J))` for J > 1 (Hunsberger & Eliasmith 2015).

    ``encoders`` (size, d) and ``gain`` (size,): NEF tuning, needed only by decoded edges into
    the node, which add gain_i e_i . y to J_i for their decoded d-vector y (an ensemble).
    ``v0``: initial voltages, (size,) or (copies, size); None means 0.
    """

    size: int
    tau_rc: float = 0.02
    tau_ref: float = 0.002
    threshold: float = 1.0
    reset: float = 0.0
    reset_mode: Literal["zero", "subtract"] = "zero"
    bias: np.ndarray | float = 0.0
    v0: np.ndarray | None = None
    v_min: float | None = None
    encoders: np.ndarray | None = None
    gain: np.ndarray | None = None

    spiking = True
    has_state = True

    def __post_init__(self):
        for key in ("bias", "v0", "encoders", "gain"):
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, as_array(value))

    @property
    def dimensions(self) -> int:
        return 0 if self.encoders is None else int(self.encoders.shape[1])

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        _positive(name, "tau_rc", self.tau_rc)
        _positive(name, "tau_ref", self.tau_ref, allow_zero=True)
        _check_reset(name, self)
        _vector(name, "bias", self.bias, self.size, copies)
        if self.v0 is not None:
            _vector(name, "v0", self.v0, self.size, copies)
        if (self.encoders is None) != (self.gain is None):
            raise GraphError(f"node {name!r}: give both encoders and gain (NEF tuning), or neither")
        if self.encoders is not None:
            if self.encoders.ndim != 2 or self.encoders.shape[0] != self.size:
                raise GraphError(f"node {name!r}: encoders must have shape ({self.size}, d) "
                                 f"(got {self.encoders.shape})")
            _vector(name, "gain", self.gain, self.size)


@dataclass(frozen=True, eq=False)
class IF(BiasAndState, Node):
    r"""Non-leaky integrate-and-fire neurons: :math:`\tau\,\dot v = J` at all times, a spike when
    v exceeds ``threshold`` and at least ``tau_ref`` has passed since the last one, then reset as
    for :class:`LIF`; v is kept within [``v_min``, ``v_max``] when those are set. With reset by
    subtraction the rate for constant J is min(max(J, 0) / (tau threshold), 1 / tau_ref) on
    average: threshold-linear up to a cap (the hard sigmoid's spiking counterpart); without
    tau_ref it is capped by one spike per step.
    """

    size: int
    tau: float = 1.0
    tau_ref: float = 0.0
    threshold: float = 1.0
    reset: float = 0.0
    reset_mode: Literal["zero", "subtract"] = "subtract"
    bias: np.ndarray | float = 0.0
    v0: np.ndarray | None = None
    v_min: float | None = None
    v_max: float | None = None

    spiking = True
    has_state = True

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        _positive(name, "tau", self.tau)
        _positive(name, "tau_ref", self.tau_ref, allow_zero=True)
        _check_reset(name, self)
        self.check_bias_and_state(name, copies)
        if self.v_min is not None and self.v_max is not None and not self.v_min < self.v_max:
            raise GraphError(f"node {name!r}: v_min ({self.v_min!r}) must be below v_max ({self.v_max!r})")


@dataclass(frozen=True, eq=False)
class CubaLIF(Node):
    r"""Current-based LIF neurons: the input x (the sum of the incoming edges, without a synapse
    of their own) charges a synaptic current that drives the voltage,

    .. math::

        \tau_{syn}\,\dot I = x + \text{syn\_bias} - I, \qquad
        \tau_{rc}\,\dot v = \text{bias} + I - v,

    a spike when v exceeds ``threshold``, then v is set to ``reset`` (``zero``) or lowered by
    ``threshold`` (``subtract``); no refractory period (NIR's CubaLIF). Per step dt, with
    :math:`a = e^{-dt/\tau}` and the step's input held: :math:`I_k = a_{syn} I_{k-1} + (1 - a_{syn}) x_k`,
    then :math:`v_k = a_{rc} v_{k-1} + (1 - a_{rc})(\text{bias} + I_k)`. ``v0``, ``i0``: initial
    states, (size,) or (copies, size); None means 0.
    """

    size: int
    tau_syn: float = 0.005
    tau_rc: float = 0.02
    threshold: float = 1.0
    reset: float = 0.0
    reset_mode: Literal["zero", "subtract"] = "zero"
    bias: np.ndarray | float = 0.0
    syn_bias: np.ndarray | float = 0.0
    v0: np.ndarray | None = None
    i0: np.ndarray | None = None

    spiking = True
    has_state = True

    def __post_init__(self):
        for key in ("bias", "syn_bias", "v0", "i0"):
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, as_array(value))

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        _positive(name, "tau_syn", self.tau_syn)
        _positive(name, "tau_rc", self.tau_rc)
        _check_reset(name, self)
        for key in ("bias", "syn_bias", "v0", "i0"):
            if getattr(self, key) is not None:
                _vector(name, key, getattr(self, key), self.size, copies)


# -- read-outs and host computation --------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LI(BiasAndState, Node):
    r"""Leaky integrator read-out (no spikes): :math:`\tau\,\dot v = \text{bias} + J - v`;
    with ``tau = 0`` it follows its input at once, v = bias + J."""

    size: int
    tau: float = 0.0
    bias: np.ndarray | float = 0.0
    v0: np.ndarray | None = None

    has_state = True

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        _positive(name, "tau", self.tau, allow_zero=True)
        self.check_bias_and_state(name, copies)


@dataclass(frozen=True, eq=False)
class Integrator(BiasAndState, Node):
    r"""Integrating read-out (no spikes, no leak): :math:`\dot v = \text{bias} + \text{gain}\,J`.

    A spike of weight w arriving through no synapse adds gain w to v (the integral of its
    pulse), so over a window T, :math:`(v(t) - v(t - T)) / T` = bias + gain (weighted spike
    count) / T: a spike-count read-out. NIR's ``I`` node (r = gain) with bias 0."""

    size: int
    bias: np.ndarray | float = 0.0
    gain: float = 1.0
    v0: np.ndarray | None = None

    has_state = True

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        if not (isinstance(self.gain, (int, float)) and math.isfinite(self.gain)):
            raise GraphError(f"node {name!r}: gain must be a finite number (got {self.gain!r})")
        self.check_bias_and_state(name, copies)


#: Host functions a :class:`Host` node may apply (name -> (description, function of (x, params))).
HOST_FUNCTIONS = {
    "identity": ("y = x", lambda x, p: x),
    "clip": ("y = clip(x, low, high)", lambda x, p: np.clip(x, p.get("low", -np.inf), p.get("high", np.inf))),
    "relu": ("y = max(x, 0)", lambda x, p: np.maximum(x, 0.0)),
}


@dataclass(frozen=True, eq=False)
class Host(Node):
    """An off-chip function of the node's input, applied every step: one of :data:`HOST_FUNCTIONS`
    by name with its parameters (so a graph stays data, and serializable)."""

    size: int
    function: str = "identity"
    params: dict = field(default_factory=dict)

    def check(self, name: str, copies: int = 1) -> None:
        super().check(name, copies)
        if self.function not in HOST_FUNCTIONS:
            from ..errors import unknown_name

            raise GraphError(f"node {name!r}: " + unknown_name("host function", self.function, list(HOST_FUNCTIONS)))

    def apply(self, x: np.ndarray) -> np.ndarray:
        return HOST_FUNCTIONS[self.function][1](x, self.params)


#: Node classes by type name (serialization, descriptions).
NODE_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    Input, Signal, PoissonEncoder, BernoulliEncoder, RegularEncoder, AnalogEncoder, LIF, IF, CubaLIF, LI, Integrator,
    Host)}


@dataclass(frozen=True)
class Probe:
    """What a run records: ``variable`` of ``node`` every ``every`` steps of the run's sampling
    step: ``spikes`` (counts per step), ``value`` (a read-out's or host node's output, or a
    neuron population's summed input current), ``voltage`` (neurons, LI)."""

    node: str
    variable: Literal["spikes", "value", "voltage"] = "value"

    def check(self, name: str, nodes: dict) -> None:
        if self.node not in nodes:
            from ..errors import unknown_name

            raise GraphError(f"probe {name!r}: " + unknown_name("node", self.node, sorted(nodes)))
        node = nodes[self.node]
        if self.variable == "spikes" and not node.spiking:
            raise GraphError(f"probe {name!r}: node {self.node!r} ({type(node).__name__}) does not spike")
        if self.variable == "voltage" and not isinstance(node, (LIF, IF, CubaLIF, LI, Integrator)):
            raise GraphError(f"probe {name!r}: node {self.node!r} ({type(node).__name__}) has no voltage")
        if self.variable not in ("spikes", "value", "voltage"):
            raise GraphError(f"probe {name!r}: variable must be spikes, value or voltage (got {self.variable!r})")
