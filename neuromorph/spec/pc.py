"""Spec IR of the ``pc`` family (predictive coding networks, Song et al. NeurIPS 2020) and its checks.

A layered network of value nodes x_l with predictions mu_l = W_l f(x_{l-1}) + b_l and errors
eps_l = x_l - mu_l. Times in seconds. The learning rate ``eta`` is per minibatch (the update is
the minibatch mean); the inference step ``gamma`` is in units of the relaxation time constant.
"""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Literal, Optional, cast

from pydantic import Field, Strict
from pydantic.dataclasses import dataclass

from .checks import Checks, check_record, steps
from .common import CONFIG, ModelName, NonNegativeReal, PositiveReal, Record, Seed, Spiking, default_record
from .nla import DigitsTask, Init, PositiveInt, check_latency, check_nir_exact

Step = Annotated[float, Strict(), Field(gt=0, le=1)]

#: Variables a pc run can record, each (T, lanes, n_out).
VARIABLES = ("u_out", "target")

#: Inference steps of the equilibrium scheme when ``learning.steps`` is not given.
EQUILIBRIUM_STEPS = 100


@dataclass(config=CONFIG, frozen=True)
class Network:
    """``layers: [n_in, n_hidden..., n_out]``: the input layer's values are clamped to the data."""

    layers: tuple[PositiveInt, ...]


@dataclass(config=CONFIG, frozen=True)
class Neuron:
    """Transfer function f and time constants.

    ``tau`` (s): relaxation time constant of the value nodes in timed runs; ``tau_in`` (s):
    low-pass filter of the input rates. ``tau_rc``, ``tau_ref``, ``amplitude`` (s) and
    ``sigma`` (threshold units) are the LIF curves' (``lif``, ``soft_lif``), as for ``nla``.
    """

    rho: Literal["hard_sigmoid", "logistic", "relu", "lif", "soft_lif"] = "soft_lif"
    tau: PositiveReal = 0.01
    tau_in: PositiveReal = 0.01
    tau_rc: PositiveReal = 0.02
    tau_ref: NonNegativeReal = 0.002
    amplitude: PositiveReal = 0.01
    sigma: PositiveReal = 0.02


@dataclass(config=CONFIG, frozen=True)
class Learning:
    """How the weights learn.

    ``scheme``:

    - ``z_il`` (zero-divergence inference learning): value nodes start at the feed-forward
      pass, the output is clamped to the target, inference steps of ``gamma`` = 1, and the
      weights into layer l are updated at inference step t = L - l (L weight layers, counted
      from the input; the paper counts from the output, t = l). Then every update equals
      backprop's gradient of C = 1/2 ||y - x_L||^2.
    - ``equilibrium``: relax ``steps`` inference steps of ``gamma`` with the output held at
      mu_L + ``clamp`` (y - mu_L), then update every layer by eps_l f(x_{l-1})^T / ``clamp``.
    - ``backprop``: the same network trained by backprop (the baseline; Hunsberger & Eliasmith's
      route to spiking networks).

    ``eta``: step on the minibatch-mean update; ``lanes``: samples per minibatch (and parallel
    input streams in timed runs); ``init``, ``bias_init``: truncated normal initial weights.
    """

    scheme: Literal["z_il", "equilibrium", "backprop"] = "z_il"
    eta: PositiveReal = 0.1
    gamma: Step = 1.0
    steps: Optional[PositiveInt] = None
    clamp: Step = 1.0
    lanes: PositiveInt = 16
    bias: bool = True
    init: Init = field(default_factory=lambda: Init(std=0.1, clip=0.3))
    bias_init: Optional[Init] = None


@dataclass(config=CONFIG, frozen=True)
class Dynamics:
    """Forward Euler step of timed runs (s)."""

    dt: PositiveReal = 0.001


@dataclass(config=CONFIG, frozen=True)
class PCModel:
    """A predictive coding network with its task."""

    format_version: Annotated[int, Strict()]
    family: Literal["pc"]
    name: ModelName
    network: Network
    task: DigitsTask
    neuron: Neuron = field(default_factory=Neuron)
    learning: Learning = field(default_factory=Learning)
    dynamics: Dynamics = field(default_factory=Dynamics)
    weights: Optional[str] = None
    spiking: Spiking = field(default_factory=Spiking)
    record: Record = default_record(("u_out",))
    seed: Seed = 0
    description: str = ""
    source: str = ""


MODEL = PCModel


def inference_steps(model: PCModel) -> int:
    """Inference steps per minibatch: one per weight layer (z_il), ``learning.steps`` or
    :data:`EQUILIBRIUM_STEPS` (equilibrium), none (backprop)."""
    learning = model.learning
    if learning.scheme == "z_il":
        return len(model.network.layers) - 1
    if learning.scheme == "equilibrium":
        return learning.steps or EQUILIBRIUM_STEPS
    return 0


def check(model: PCModel) -> list:
    """Checks across keys (run once every key is well-formed)."""
    c = Checks()
    layers = cast(tuple, model.network.layers)
    if len(layers) < 2:
        c.error("network.layers", f"needs at least an input and an output size (got {list(layers)})")
    elif layers[0] != 64 or layers[-1] != 10:
        c.error("network.layers", f"the digits task needs 64 inputs and 10 outputs (got {list(layers)})")
    learning = model.learning
    if learning.scheme != "equilibrium":
        if learning.steps is not None:
            c.error("learning.steps", f"sets the inference steps of scheme: equilibrium; {learning.scheme} takes "
                                      + ("one per weight layer" if learning.scheme == "z_il" else "none"))
        if learning.clamp != 1.0:
            c.error("learning.clamp", f"weakens the output clamp of scheme: equilibrium, not {learning.scheme}")
    if learning.scheme == "z_il" and learning.gamma != 1.0:
        c.warning("learning.gamma", f"{learning.gamma:g}: Z-IL's updates equal backprop's only with gamma = 1")
    if learning.scheme == "backprop" and learning.gamma != 1.0:
        c.error("learning.gamma", "backprop runs no inference steps; leave gamma unset")
    check_record(c, model.record, VARIABLES)
    dt = model.dynamics.dt
    if model.record.dt is not None and steps(model.record.dt, dt) is None:
        c.error("record.dt", f"{model.record.dt:g} s is not a whole multiple of dynamics.dt = {dt:g} s")
    if dt > 0.5 * model.neuron.tau:
        c.error("dynamics.dt", f"{dt:g} s is too coarse for tau = {model.neuron.tau:g} s (at most tau/2)")
    if steps(model.task.presentation, dt) is None:
        c.error("task.presentation", f"{model.task.presentation:g} s is not a whole multiple of dynamics.dt = {dt:g} s")
    check_nir_exact(c, model)  # neuron, spiking and task: the same keys as nla
    check_latency(c, model)
    return c.problems
