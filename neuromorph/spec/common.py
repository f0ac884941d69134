"""IR pieces shared by every model family: time grid, recording, noise sources, parameters.

Times are in seconds. Every class is a frozen (pydantic) dataclass whose constraints are
declared on its fields, so a bad value is reported with the key that holds it.
"""

from __future__ import annotations

import math
from dataclasses import field
from typing import Annotated, Literal, Optional, Union

import numpy as np
from pydantic import ConfigDict, Field, PlainSerializer, PlainValidator, Strict, StrictBool
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from .. import expr

CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)

Real = Annotated[float, Strict()]
PositiveReal = Annotated[float, Strict(), Field(gt=0)]
NonNegativeReal = Annotated[float, Strict(), Field(ge=0)]
Int = Annotated[int, Strict()]
PositiveInt = Annotated[int, Strict(), Field(gt=0)]
Seed = Annotated[int, Strict(), Field(ge=0, lt=2**32)]
Identifier = Annotated[str, Strict(), Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]
ModelName = Annotated[str, Strict(), Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]


def describe(value) -> str:
    """Short description of a found value for error messages: ``'abc' (text)``."""
    kinds = {bool: "true/false", str: "text", list: "list", dict: "mapping", type(None): "nothing"}
    kind = kinds.get(type(value))
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{shown} ({kind})" if kind else shown


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value, positive: bool, what: str = "") -> float:
    if not is_number(value):
        raise PydanticCustomError(
            "nm_number_type", "{what}must be a number (got {found})", {"what": what, "found": describe(value)}
        )
    if not math.isfinite(value):
        raise PydanticCustomError(
            "nm_finite_number", "{what}must be a finite number (got {found})", {"what": what, "found": value}
        )
    if positive and value <= 0:
        raise PydanticCustomError(
            "nm_greater_than", "{what}must be > 0 (got {found})", {"what": what, "found": float(value)}
        )
    return float(value)


@dataclass(frozen=True)
class Distribution:
    """Per-synapse values drawn at random (seeded): ``uniform: [low, high]`` or ``normal: [mean, std]``."""

    kind: str
    a: float
    b: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, size=n)
        return rng.normal(self.a, self.b, size=n)

    def to_data(self) -> dict:
        return {self.kind: [self.a, self.b]}


def _distribution(value: dict, positive: bool) -> Distribution:
    kinds = ("uniform", "normal")
    if len(value) != 1 or next(iter(value)) not in kinds:
        raise PydanticCustomError(
            "nm_distribution",
            "a distribution is 'uniform: [low, high]' or 'normal: [mean, std]' (got {found})",
            {"found": describe(value)},
        )
    kind, pair = next(iter(value.items()))
    if not isinstance(pair, list) or len(pair) != 2:
        raise PydanticCustomError(
            "nm_distribution", "{kind} takes a list of two numbers (got {found})", {"kind": kind,
                                                                                    "found": describe(pair)}
        )
    a, b = (_number(v, False, f"{kind}: ") for v in pair)
    if kind == "uniform" and not a < b:
        raise PydanticCustomError("nm_distribution", "uniform: low must be < high (got [{a}, {b}])", {"a": a, "b": b})
    if kind == "normal" and b < 0:
        raise PydanticCustomError("nm_distribution", "normal: std must be >= 0 (got {b})", {"b": b})
    if positive and (kind == "normal" or a <= 0):
        raise PydanticCustomError(
            "nm_distribution",
            "a positive parameter needs uniform: [low, high] with low > 0 (got {found})",
            {"found": describe(value)},
        )
    return Distribution(kind, a, b)


def _param_validator(positive: bool):
    def check(value):
        if isinstance(value, (Distribution, tuple)):
            return value
        if isinstance(value, list):
            if not value:
                raise PydanticCustomError("nm_param_list", "a list needs one value per synapse (got an empty list)")
            return tuple(_number(v, positive, f"item {i}: ") for i, v in enumerate(value))
        if isinstance(value, dict):
            return _distribution(value, positive)
        if is_number(value):
            return _number(value, positive)
        raise PydanticCustomError(
            "nm_param_type",
            "must be a number, a list of numbers (one per synapse) or a distribution "
            "('uniform: [low, high]' or 'normal: [mean, std]') (got {found})",
            {"found": describe(value)},
        )

    return check


def _param_data(value):
    if isinstance(value, Distribution):
        return value.to_data()
    if isinstance(value, tuple):
        return list(value)
    return value


#: A parameter: one number, a list with one number per synapse, or a seeded distribution.
Param = Annotated[object, PlainValidator(_param_validator(False)), PlainSerializer(_param_data)]
#: The same, every value required to be > 0.
PositiveParam = Annotated[object, PlainValidator(_param_validator(True)), PlainSerializer(_param_data)]


def _input_item(value, index=None):
    what = "" if index is None else f"item {index}: "
    if is_number(value):
        return _number(value, False, what)
    if isinstance(value, str):
        try:
            expr.parse(value)
        except expr.ExprError as e:
            raise PydanticCustomError("nm_expression", "{what}{msg}", {"what": what, "msg": str(e)}) from None
        return value
    raise PydanticCustomError(
        "nm_input_type",
        "{what}must be a number or an expression such as '5*cos(t) + eta' (got {found})",
        {"what": what, "found": describe(value)},
    )


def _input_validator(value):
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        if not value:
            raise PydanticCustomError("nm_input_list", "a list needs one input per synapse (got an empty list)")
        return tuple(_input_item(v, i) for i, v in enumerate(value))
    return _input_item(value)


#: An input signal: a number, an expression of t, or a list of these (one per synapse).
InputSignal = Annotated[object, PlainValidator(_input_validator), PlainSerializer(_param_data)]


@dataclass(config=CONFIG, frozen=True)
class Time:
    """Time grid and integrator.

    Attributes
    ----------
    duration : float
        Simulated time T in seconds; the run covers t in [0, T].
    dt : float
        Fixed step in seconds (the rate reference; spiking backends choose their own where
        hardware fixes it, and record that).
    integrator : {'rk4', 'euler', 'scipy'}
        Fixed-step classical Runge-Kutta 4, forward Euler, or scipy's adaptive ``solve_ivp``
        (with ``method``, ``rtol``, ``atol``), which is meant for checks.
    """

    duration: PositiveReal
    dt: PositiveReal
    integrator: Literal["rk4", "euler", "scipy"] = "rk4"
    method: Literal["DOP853", "RK45", "Radau", "LSODA"] = "DOP853"
    rtol: PositiveReal = 1e-8
    atol: PositiveReal = 1e-10


@dataclass(config=CONFIG, frozen=True)
class Record:
    """What to keep: variable names (the family lists the valid ones) and the sampling step.

    ``dt`` (seconds) must be a multiple of ``time.dt``; by default every step is kept.
    """

    variables: tuple[Identifier, ...]
    dt: Optional[PositiveReal] = None


@dataclass(config=CONFIG, frozen=True)
class SmoothNoise:
    """Band-limited Gaussian noise: a sum of random cosines.

    eta(t) = std * sqrt(2/K) * sum_k cos(2*pi*f_k*t + phi_k),  f_k ~ U(0, cutoff),
    phi_k ~ U(0, 2*pi), K = ``components``. Smooth in t, so adaptive solvers see the same
    function as fixed-step ones; variance std**2 on average over draws.
    ``cutoff`` is in hertz. ``shared``: one stream for all synapses of a population.
    """

    kind: Literal["smooth"]
    std: NonNegativeReal = 1.0
    cutoff: PositiveReal = 5.0
    components: Annotated[int, Strict(), Field(ge=1, le=4096)] = 64
    shared: bool = False
    seed: Optional[Seed] = None


@dataclass(config=CONFIG, frozen=True)
class WhiteNoise:
    """Gaussian samples N(0, std**2) drawn every ``hold`` seconds and held in between."""

    kind: Literal["white"]
    std: NonNegativeReal = 1.0
    hold: PositiveReal = 0.01
    shared: bool = False
    seed: Optional[Seed] = None


Noise = Annotated[Union[SmoothNoise, WhiteNoise], Field(discriminator="kind")]


@dataclass(config=CONFIG, frozen=True)
class PopulationSize:
    """N independent copies of the model, simulated together (vectorized)."""

    size: Annotated[int, Strict(), Field(gt=0, le=1_000_000)]


@dataclass(config=CONFIG, frozen=True)
class Calibration:
    """Fine-tuning on the realized neuron (``spiking.calibrate``): ``epochs`` passes over the
    training split in minibatches of ``batch``, gradient steps from ``eta`` (s^0: on a squared
    error of output voltages) falling linearly to zero over the fit."""

    epochs: Annotated[int, Strict(), Field(ge=1, le=100)] = 10
    eta: PositiveReal = 0.02
    batch: Annotated[int, Strict(), Field(ge=1, le=4096)] = 16


@dataclass(config=CONFIG, frozen=True)
class Spiking:
    """How spiking backends realize the model (defaults apply when the key is absent).

    ``dt`` (s): step of the spiking simulation (NengoLoihi fixes 1 ms and records that);
    ``tau_syn`` (s): time constant of the alpha synapses, kernel (t / tau^2) exp(-t / tau);
    ``tau_recurrent`` (s): population-coded recurrent dynamics off chip use two first-order
    stages, 20 ms then 2 tau - 20 ms: an alpha synapse's mean delay 2 tau (long, because decoding
    errors enter the dynamics divided by it) with a short first stage (a smaller mapping error);
    ``input_rate`` (Hz): Poisson rate of an input at rate 1 (rate coding);
    ``unit_rate`` (Hz): the rate of a threshold-linear unit (hard sigmoid, relu) at rho = 1, as an
    integrate-and-fire neuron;
    ``neurons``: LIF neurons per represented dimension (population coding);
    ``max_rates`` (Hz) and ``intercepts``: ranges the population's tuning curves are drawn from;
    ``radius_margin``: representation ranges are the rate reference's ranges times this;
    ``tau_rc``, ``tau_ref`` (s): LIF constants of population-coding neurons;
    ``seed``: seed of the spiking realization (tuning curves, Poisson spikes, initial voltages);
    absent: the model's seed. Varying it varies the spikes, not the data or the rate model;
    ``nir_exact`` (NLA): lower to primitives NIR states exactly, so ``neuromorph export`` writes
    the network as it runs: current-based LIF neurons (first-order synapses of ``tau_syn``
    instead of alpha, biases through the synaptic current), leaky-integrator read-outs, no
    voltage floor, neurons starting at v = 0; needs LIF neurons without a refractory period
    (``rho: lif`` or ``soft_lif`` with ``tau_ref: 0``).

    Latency (NLA, neuron-level mapping; ``docs/latency.md``):
    ``encoding``: input spikes as Poisson trains (``poisson``) or deterministic integrate-and-fire
    trains (``regular``: over a window T at rate r, floor(phi0 + r T) spikes, count error < 1
    instead of sqrt(r T));
    ``synapse``: the filter of every edge: ``alpha`` (tau_syn), ``lowpass`` (first-order,
    tau_syn) or ``none`` (each spike moves the membrane at once);
    ``readout``: the output at the end of each presentation (``end``: the read-out's value then,
    from filtered spikes), or the mean over the last ``readout_window`` of it (``count``: spike
    counts of the last hidden layer times the output weights, divided by the window);
    ``readout_window`` (fraction of the presentation, (0, 1]): how much of its end a ``count``
    read-out averages;
    ``between``: what happens between images: ``continuous`` (one stream, as in the rate model),
    ``reset`` (every image starts from the network's initial state) or ``gap`` (a blank of
    ``gap`` seconds, inputs at 0, before each image; the time per inference is then
    presentation + gap);
    ``initial``: the membranes' initial state: ``random`` (uniform in [0, 1) of threshold, the
    stationary spread of a firing population) or ``rest`` (v = 0);
    ``prospective``: the look-ahead kick at input changes: the host adds the current
    tau_rc dJ/dt to the first layer's neurons (and tau_syn dJ/dt through a first-order synapse),
    J = W x the expected input current, so a new image moves their membranes by Delta J at once
    (NLA's prospective tau du/dt, integrated over the jump);
    ``rate_scale`` (>= 1): the spiking units fire this many times faster than the model's curve
    (LIF: tau_rc and tau_ref divided by it; IF: unit_rate times it) and their outgoing weights
    are divided by it, so the rate function is the same and a window holds rate_scale times the
    spikes: the count's quantization error per unit, amplitude / window, shrinks by that factor
    (on Loihi, a rate_scale whose tau_ref / rate_scale the chip would round up to a whole step
    runs at 2 tau_ref / dt, recorded: ``families/nla/lower.py:rate_scale_on_grid``);
    ``latency``: ``fixed`` (compile the section as written) or ``auto`` (for a classification
    model shown for less than the design mapping's delay 2 tau_syn per stage + tau_rc, the compiler
    chooses the read-out, tau_syn, the Poisson input rate and rate_scale for the presentation time,
    each recorded; ``families/nla/latency.py``);
    ``calibrate``: fine-tune the trained weights, before they are compiled for a target, on what
    the target computes: its LIF rate curve (Loihi: whole-step periods) and the spike-count read-out
    at the chosen window (counts floor(r T + phase) with random phases), training split only,
    seeded by the spiking seed (``families/nla/calibrate.py``);
    ``learning_eta`` (0, 1]: the factor on the model's learning rates when it learns in spikes
    (``train -b`` a spiking backend). The spike trains' noise adds to the presynaptic trace's
    power, so the update's loop gain is larger than the rate model's: the digits model's
    eta = 300 on 32 lanes diverges in spikes (weights past 30 within three presentations), 0.2 of
    it learns stably.
    """

    dt: PositiveReal = 0.0001
    tau_syn: PositiveReal = 0.005
    tau_recurrent: PositiveReal = 0.1
    input_rate: PositiveReal = 200.0
    unit_rate: PositiveReal = 500.0
    neurons: Annotated[int, Strict(), Field(gt=0, le=20000)] = 600
    max_rates: tuple[PositiveReal, PositiveReal] = (200.0, 400.0)
    intercepts: tuple[Real, Real] = (-0.9, 0.9)
    radius_margin: Annotated[float, Strict(), Field(ge=1.0, le=10.0)] = 1.2
    tau_rc: PositiveReal = 0.02
    tau_ref: NonNegativeReal = 0.002
    seed: Optional[Seed] = None
    nir_exact: StrictBool = False
    encoding: Literal["poisson", "regular"] = "poisson"
    synapse: Literal["alpha", "lowpass", "none"] = "alpha"
    readout: Literal["end", "count"] = "end"
    readout_window: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 1.0
    between: Literal["continuous", "reset", "gap"] = "continuous"
    gap: NonNegativeReal = 0.0
    initial: Literal["random", "rest"] = "random"
    prospective: StrictBool = False
    rate_scale: Annotated[float, Strict(), Field(ge=1.0, le=100.0)] = 1.0
    latency: Literal["fixed", "auto"] = "fixed"
    calibrate: Optional[Calibration] = None
    learning_eta: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 1.0


def _sign(value):
    if isinstance(value, int) and not isinstance(value, bool) and value in (-1, 1):
        return value
    raise PydanticCustomError("nm_sign", "must be -1 or 1 (got {found})", {"found": describe(value)})


#: A sign, -1 or +1 (an integer; true/false and 1.0 are refused).
Sign = Annotated[int, PlainValidator(_sign)]


def default_record(variables):
    """A ``default_factory`` that records ``variables`` at every step."""
    return field(default_factory=lambda: Record(variables=tuple(variables)))
