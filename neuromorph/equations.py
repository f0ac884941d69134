"""A Brian2 program as data: groups, synapses, inputs, monitors, readouts.

Families write their rate equations as a :class:`Program` (the design card's "Brian2 equation
strings"); the spiking Brian2 backend builds one from a network graph. The ``brian2`` backends
run a program in-process and write it out as a standalone script, so what a user reads in the
script is what neuromorph ran. Equation strings contain only text the compilers generated:
numbers, identifiers, and expressions rendered from the validated expression tree; no spec text
is pasted into code.

Model variables are dimensionless (``: 1``); time is in seconds, so derivatives carry
``/second`` and rates ``Hz``. Values in namespaces are ``(value, unit)`` pairs or the name of a
:class:`TimedInput`. This module imports no simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TimedInput:
    """A ``TimedArray`` (dimensionless values, one row per time step of ``dt`` seconds)."""

    name: str
    values: np.ndarray
    dt: float


@dataclass
class Group:
    """A ``NeuronGroup`` (or a ``PoissonGroup`` when ``rates`` is set)."""

    name: str
    n: int
    model: str = ""
    method: str = "euler"
    namespace: dict = field(default_factory=dict)  # name -> (value, unit) or TimedInput name
    init: dict = field(default_factory=dict)  # variable -> float or array
    threshold: str | None = None
    reset: str | None = None
    refractory: float | None = None  # seconds
    rates: str | None = None  # PoissonGroup rate expression (Hz)
    order: int = 0
    regular: list = field(default_factory=list)  # (name, code, order[, when]): run_regularly (default 'groups')


@dataclass
class Syn:
    """``Synapses`` connected by explicit index arrays (pre ``i`` -> post ``j``)."""

    name: str
    source: str
    target: str
    model: str
    i: np.ndarray
    j: np.ndarray
    on_pre: str | None = None
    method: str | None = None
    namespace: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)
    summed_order: dict = field(default_factory=dict)  # summed variable (e.g. 'A_post') -> order
    order: int = 0
    when: str | None = None  # the pre pathway's slot (None: 'synapses'), ordered by ``order``


@dataclass
class Monitor:
    """A ``StateMonitor`` (``variables``) or ``SpikeMonitor`` (``spikes=True``)."""

    name: str
    group: str
    variables: tuple = ()
    dt: float | None = None
    when: str = "start"
    order: int = 0
    spikes: bool = False


@dataclass
class Readout:
    """How a result array is formed from a monitor: values (T, n) [+ final state], then an
    optional linear map ``values @ matrix.T + offset``, then the shape (T,), (T, n) or (T, L, k)."""

    name: str
    monitor: str
    variable: str
    final: bool = True
    matrix: np.ndarray | None = None
    offset: np.ndarray | float = 0.0
    lanes: int = 0  # > 0: reshape columns to (L, n / L)
    squeeze: bool = False
    skip: int = 0  # leading samples to drop (a warm-up before the model's t = 0)


@dataclass
class Program:
    model: str
    backend: str
    dt: float
    duration: float
    seed: int
    groups: list
    synapses: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    monitors: list = field(default_factory=list)
    readouts: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    substitutions: list = field(default_factory=list)
    t_offset: float = 0.0  # simulated seconds before the model's t = 0 (warm-up)
    # plastic synapses whose copies share their weights: (Synapses name, copies, n_pre, n_post)
    shared: list = field(default_factory=list)
