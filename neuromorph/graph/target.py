"""What a simulator or chip can do, as data: the :class:`Traits` a backend declares. Families
read them when a mapping depends on the target (population coding solves decoders for the
target's neurons and synapses); :mod:`.legalize` rewrites a graph to fit them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class DecodePath:
    """How a target realizes decoded recurrent edges between on-chip ensembles: through decode
    neurons (NengoLoihi) whose output passes a low-pass of ``tau`` (s; set per graph in
    ``meta['decode_tau']``), ``latency`` (s) of spike delay, and a static ``gain``."""

    tau: float
    latency: float
    gain: float


@dataclass(frozen=True)
class Traits:
    """A target's capabilities.

    Attributes
    ----------
    name : str
        The backend's name (for records).
    dt : float or None
        The simulation step (s), or None if the graph's own step is used.
    fixed_dt : bool
        Whether ``dt`` cannot change (a chip's clock); otherwise a discrete-time graph (one whose
        step is part of its meaning, ``meta['discrete']``, e.g. read from NIR) keeps its own.
    synapses : frozenset
        Synapse kinds (``none``, ``lowpass``, ``alpha``) allowed on edges into on-chip neurons.
    chip : bool
        Whether neurons run on a chip, apart from host-side encoders, signals and read-outs.
    offchip_spikes_per_step : int or None
        Most spikes an off-chip population can send to the chip per step.
    settable_voltage : bool
        Whether initial voltages can be set.
    refractory_on_grid : bool
        Spikes fall on the step grid and refractoriness ends one step early, so the mean
        inter-spike interval is tau_ref + rise - dt/2 when tau_ref is a whole number of steps
        (Brian2's clock-driven LIF; at constant input exactly :func:`grid_lif_rates`).
    reset_modes : frozenset
        LIF and IF reset modes the target supports.
    cuba : bool
        Whether CubaLIF neurons run as such (else as LIF with Lowpass inputs).
    if_refractory : bool
        Whether IF neurons can have a refractory period (a rate cap) of their own.
    lif_rates : callable or None
        ``(J, tau_rc, tau_ref) -> rates (Hz)`` of the target's LIF neurons if not the exact
        curve (Loihi: whole-step refractory and spike periods).
    realized_tau_ref : callable or None
        ``tau_ref -> the refractory period (s) the target's LIF neurons have``, if not tau_ref
        itself (Loihi: the nearest whole number of steps).
    decode : DecodePath or None
        Decoded on-chip recurrence goes through decode neurons.
    realized_tau : callable or None
        ``tau -> the time constant (s) an on-chip low-pass of tau really has`` (Loihi's 12-bit
        decays), if not tau itself.
    weight_bits : int or None
        Bits of an on-chip weight (None: float).
    learning_rules : frozenset
        Learning rules the target runs (names of :data:`~neuromorph.graph.edges.LEARNING_TYPES`).
    shared_learning : bool
        The copies of a learning graph share their weights (each copy's change applies to all);
        without it a learning graph runs one copy.
    learning_interval : float or None
        Time (s) between two updates of a plastic weight (None: every simulation step).
    learning_error_grid : int or None
        The chip receives learning errors in multiples of this many integer levels (rounded
        stochastically on the host), where its learning engine's shift is exact; None: as they are.
    learning_step_follows_rate : bool
        The chip's learned weights get a step as much finer as a rule's rate has decayed (each run
        learns a change on top of fixed starting weights).
    input_axons : int or None
        Input axons of one core (None: no limit). Decode neurons take every presynaptic neuron of
        a decoded edge as one, so larger ensembles are decoded in parts.
    """

    name: str
    dt: float | None = None
    fixed_dt: bool = False
    synapses: frozenset = frozenset({"none", "lowpass", "alpha"})
    chip: bool = False
    offchip_spikes_per_step: int | None = None
    settable_voltage: bool = True
    refractory_on_grid: bool = False
    reset_modes: frozenset = frozenset({"zero", "subtract"})
    cuba: bool = True
    if_refractory: bool = True
    lif_rates: Callable | None = None
    realized_tau_ref: Callable | None = None
    decode: DecodePath | None = None
    realized_tau: Callable | None = None
    weight_bits: int | None = None
    learning_rules: frozenset = field(default_factory=frozenset)
    shared_learning: bool = False
    learning_interval: float | None = None
    learning_error_grid: int | None = None
    learning_step_follows_rate: bool = False
    input_axons: int | None = None

    def step(self, graph_dt: float) -> float:
        """The step a graph made for ``graph_dt`` runs with here."""
        return self.dt if self.dt is not None else graph_dt

    def tau(self, tau: float) -> float:
        """The time constant (s) an on-chip low-pass of ``tau`` has on this target."""
        return self.realized_tau(tau) if self.realized_tau is not None else tau


def grid_lif_rates(J, tau_rc: float, tau_ref: float, dt: float) -> np.ndarray:
    r"""Rates (Hz) of LIF neurons (threshold 1, reset 0) at constant currents J on a target with
    ``refractory_on_grid`` and step ``dt`` (s).

    The voltage, updated exactly over each step, :math:`v \to J + (v - J) e^{-\Delta t/\tau_{rc}}`,
    first exceeds 1 after :math:`n = \lceil \tau_{rc} \ln(J / (J - 1)) / \Delta t \rceil` updates,
    and after a spike it is held at 0 for :math:`m = \max(\lfloor \tau_{ref} / \Delta t \rfloor - 1, 0)`
    steps (Brian2 counts refractoriness in whole steps from the step of the spike), so

    .. math:: r(J) = \frac{1}{(n + m)\,\Delta t}, \qquad J > 1,

    and 0 for J <= 1. With tau_ref a whole number of steps and n's rounding spread evenly, the mean
    period is tau_ref + rise - dt/2; with tau_ref = 0.67 ms at dt = 0.1 ms it is tau_ref + rise -
    1.17 dt."""
    J = np.asarray(J, dtype=float)
    out = np.zeros_like(J)
    above = J > 1.0
    rise = np.ceil(tau_rc * np.log(J[above] / (J[above] - 1.0)) / dt - 1e-9)
    held = max(np.floor(tau_ref / dt + 1e-9) - 1.0, 0.0)
    out[above] = 1.0 / ((rise + held) * dt)
    return out
