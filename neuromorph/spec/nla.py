"""Spec IR of the ``nla`` family (neuronal least action, Senn et al. eLife 2024) and its checks.

Times in seconds; learning rates in 1/s. The paper's rates are per millisecond: its
eta = 1e-3 (per ms) is eta = 1.0 here (per s).
"""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Literal, Optional, Union, cast

from pydantic import Field, Strict
from pydantic.dataclasses import dataclass

from .checks import Checks, check_record, steps
from .common import CONFIG, Spiking, ModelName, NonNegativeReal, PositiveReal, Real, Record, Seed, default_record

PositiveInt = Annotated[int, Strict(), Field(gt=0, le=100_000)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0, le=100_000)]
Fraction = Annotated[float, Strict(), Field(gt=0, lt=1)]

#: Variables an NLA run can record. Shapes: (T, lanes, n) with n the population's size.
VARIABLES = ("u", "u_out", "r_bar", "e_bar", "target", "input")


@dataclass(config=CONFIG, frozen=True)
class Recurrent:
    """A general recurrent network: ``neurons`` network neurons, the last ``outputs`` of which
    are output neurons, all-to-all ``W_net`` (no self-connections unless asked), and
    ``inputs`` input rates projecting to every network neuron."""

    neurons: PositiveInt
    outputs: PositiveInt
    inputs: NonNegativeInt = 0
    self_connections: bool = False


@dataclass(config=CONFIG, frozen=True)
class Network:
    """Either ``layers: [n_in, n_hidden..., n_out]`` (layered, feed-forward) or ``recurrent``."""

    layers: Optional[tuple[PositiveInt, ...]] = None
    recurrent: Optional[Recurrent] = None


@dataclass(config=CONFIG, frozen=True)
class Neuron:
    """Transfer function and time constants.

    ``tau`` (s): membrane and look-ahead time constant; ``tau_in`` (s): low-pass filter of the
    input rates. ``tau_rc``, ``tau_ref`` (s), ``amplitude`` (s) and ``sigma`` (soft-LIF
    smoothing, threshold units) are used by ``lif`` / ``soft_lif`` only.
    ``lookahead: false`` is the paper's ablation (r = r_bar, e = e_bar).
    """

    rho: Literal["hard_sigmoid", "logistic", "relu", "lif", "soft_lif"] = "hard_sigmoid"
    tau: PositiveReal = 0.01
    tau_in: PositiveReal = 0.01
    tau_rc: PositiveReal = 0.02
    tau_ref: NonNegativeReal = 0.002
    amplitude: PositiveReal = 0.01
    sigma: PositiveReal = 0.02
    lookahead: bool = True


@dataclass(config=CONFIG, frozen=True)
class Init:
    """Normal initial values N(mean, std^2), cut off at mean +- clip (values outside are redrawn)."""

    std: NonNegativeReal = 0.01
    clip: PositiveReal = 0.03
    mean: Real = 0.0


@dataclass(config=CONFIG, frozen=True)
class Learning:
    """Nudging, plasticity (Eq 8) and error feedback.

    ``eta``: one rate for every projection, or one per projection (layered: input->h1, ...,
    ->output; the bias of a layer learns with its projection's rate). ``feedback``:
    ``transpose`` (rt-DeEP, W^T) or ``alignment`` (fixed random B). ``bias_init``: the biases'
    initial values (default: as ``init``). ``lanes``: independent
    input streams simulated at once with shared weights; weight changes are averaged over lanes.
    """

    beta: NonNegativeReal = 0.1
    eta: Union[PositiveReal, tuple[PositiveReal, ...]] = 1.0
    feedback: Literal["transpose", "alignment"] = "transpose"
    bias: bool = True
    init: Init = field(default_factory=Init)
    bias_init: Optional[Init] = None
    feedback_init: Init = field(default_factory=lambda: Init(std=0.05, clip=0.15))
    lanes: PositiveInt = 32


@dataclass(config=CONFIG, frozen=True)
class Microcircuit:
    """Cortical microcircuit (Eqs 9-13): interneurons per hidden layer, learned W_IP, W_PI;
    fixed top-down B and interneuron nudging B_IP. ``interneurons``: one count per hidden layer
    (default: the size of the layer above). ``prelearn_epochs``: epochs at the start in which only
    W_IP and W_PI learn, with beta = 0 (the paper's optional "pre-learning phase where the lateral
    connections are first correctly aligned"). ``nudging``: how layer l+1 nudges the
    interneurons (B_IP): ``random`` (fixed, drawn from ``top_down_init`` as in the paper's Fig 5) or
    ``one_to_one`` (interneuron i copies pyramidal neuron i of layer l+1, B_IP = I, as in
    Sacramento et al. 2018; needs as many interneurons as the layer above has neurons)."""

    beta_I: Annotated[float, Strict(), Field(ge=0, lt=1)] = 0.1
    eta_IP: PositiveReal = 1.0
    eta_PI: PositiveReal = 1.0
    interneurons: Optional[tuple[PositiveInt, ...]] = None
    prelearn_epochs: NonNegativeInt = 0
    nudging: Literal["random", "one_to_one"] = "random"
    init: Init = field(default_factory=Init)
    top_down_init: Init = field(default_factory=lambda: Init(std=0.05, clip=0.15))


@dataclass(config=CONFIG, frozen=True)
class Dynamics:
    """Integration: ``explicit`` solves tau H du/dt = -f - tau df/dt each step (H by Cholesky
    when symmetric, else LU); ``previous_step`` uses the last step's du/dt inside r and e."""

    dt: PositiveReal = 0.001
    scheme: Literal["explicit", "previous_step"] = "explicit"
    solver: Literal["auto", "layered", "dense"] = "auto"


@dataclass(config=CONFIG, frozen=True)
class DigitsTask:
    """scikit-learn's 8x8 digits (1797 images, pixels / 16 as input rates in [0, 1]).

    Each image is shown for ``presentation`` seconds; input and one-hot target switch together.
    A held-out test split (``test_fraction``, fixed by the seed) is scored after every epoch
    with beta = 0 and plasticity off: the argmax of the output voltages at the end of each
    presentation. ``eta_decay``: learning rate multiplied by this after each epoch.
    """

    kind: Literal["digits"]
    presentation: PositiveReal = 0.05
    epochs: PositiveInt = 20
    test_fraction: Fraction = 0.25
    eta_decay: Annotated[float, Strict(), Field(gt=0, le=1)] = 1.0
    target_off: float = 0.0
    target_on: float = 1.0
    duration: Optional[PositiveReal] = None


@dataclass(config=CONFIG, frozen=True)
class TeacherTask:
    """Teacher-student: a fixed random teacher network of the same shape maps the low-pass
    filtered input to target voltages u* = F*(r_bar_in); inputs are smooth random rates in
    [0, 1] (band-limited Gaussian noise below ``input_cutoff`` Hz through a logistic).
    The cost C = 1/2 ||u* - u_out||^2 is measured every ``eval_every`` seconds of training on a
    fixed held-out input stream of ``test_duration`` seconds (beta = 0, no plasticity)."""

    kind: Literal["teacher"]
    train_duration: PositiveReal = 100.0
    eval_every: PositiveReal = 10.0
    test_duration: PositiveReal = 2.0
    input_cutoff: PositiveReal = 2.0
    input_std: PositiveReal = 1.5
    teacher_init: Init = field(default_factory=lambda: Init(std=1.0, clip=3.0))
    duration: Optional[PositiveReal] = None


@dataclass(config=CONFIG, frozen=True)
class SignalsTask:
    """Reproduce withheld channels of a multichannel time series with a recurrent network.

    ``source: lorenz``: the Lorenz system (sigma 10, rho 28, beta 8/3) integrated in its own time
    unit, played at ``time_scale`` seconds per unit; ``channels`` random mixtures of (x, y, z),
    normalized to std ``amplitude``. Training nudges every output (beta from ``learning``);
    the test, on a separate trace, nudges all but the last ``withheld`` outputs with
    ``beta_test`` and reports the nrmse of the withheld ones.
    """

    kind: Literal["signals"]
    source: Literal["lorenz"] = "lorenz"
    channels: PositiveInt = 8
    withheld: PositiveInt = 2
    train_duration: PositiveReal = 8.0
    test_duration: PositiveReal = 8.0
    epochs: PositiveInt = 10
    beta_test: NonNegativeReal = 10.0
    time_scale: PositiveReal = 0.5
    amplitude: PositiveReal = 0.5
    duration: Optional[PositiveReal] = None


Task = Annotated[Union[DigitsTask, TeacherTask, SignalsTask], Field(discriminator="kind")]


@dataclass(config=CONFIG, frozen=True)
class NLAModel:
    """A neuronal least-action network with its task."""

    format_version: Annotated[int, Strict()]
    family: Literal["nla"]
    name: ModelName
    network: Network
    task: Task
    neuron: Neuron = field(default_factory=Neuron)
    learning: Learning = field(default_factory=Learning)
    dynamics: Dynamics = field(default_factory=Dynamics)
    microcircuit: Optional[Microcircuit] = None
    weights: Optional[str] = None
    spiking: Spiking = field(default_factory=Spiking)
    record: Record = default_record(("u_out",))
    seed: Seed = 0
    description: str = ""
    source: str = ""


MODEL = NLAModel


def check(model: NLAModel) -> list:
    """Checks across keys (run once every key is well-formed)."""
    c = Checks()
    net = model.network
    if (net.layers is None) == (net.recurrent is None):
        c.error("network", "give exactly one of 'layers' (feed-forward) or 'recurrent'")
        return c.problems
    if net.layers is not None:
        _check_layers(c, model)
    else:
        _check_recurrent(c, model)
    check_record(c, model.record, VARIABLES)
    if model.record.dt is not None and steps(model.record.dt, model.dynamics.dt) is None:
        c.error("record.dt", f"{model.record.dt:g} s is not a whole multiple of dynamics.dt = {model.dynamics.dt:g} s")
    _check_timing(c, model)
    check_nir_exact(c, model)
    check_latency(c, model)
    return c.problems


def check_latency(c: Checks, model) -> None:
    sp = model.spiking
    digits = model.task.kind == "digits"
    if sp.readout == "count" and not digits:
        c.error("spiking.readout", "a spike-count read-out averages over each presentation: it applies to "
                                   f"classification tasks (task.kind: digits), not {model.task.kind}; use readout: end")
    if sp.between != "continuous" and not digits:
        c.error("spiking.between", f"{sp.between} between images applies to task.kind: digits, not {model.task.kind}")
    if (sp.between == "gap") != (sp.gap > 0):
        c.error("spiking.gap", "a blank between images needs both between: gap and a gap > 0 s "
                               f"(found between: {sp.between}, gap: {sp.gap:g})")
    if sp.synapse == "none" and sp.readout != "count":
        c.error("spiking.synapse", "without a synaptic filter the read-out sees single spikes: use readout: count "
                                   "(spike counts over the window) or a synapse (alpha, lowpass)")
    if sp.prospective:
        if sp.synapse == "alpha" or sp.nir_exact:
            c.error("spiking.prospective", "the kick makes first-order filters and membranes jump with their input; "
                                           "use synapse: lowpass or none (alpha and NIR's CubaLIF filter twice)")
        if model.neuron.rho not in ("lif", "soft_lif"):
            c.error("spiking.prospective", f"kicks LIF membranes (rho: lif or soft_lif), not {model.neuron.rho} units")
        layers = getattr(model.network, "layers", None)
        if layers is None or len(layers) < 3:
            c.error("spiking.prospective", "kicks the first hidden layer of a layered network with inputs")
    if sp.calibrate is not None:
        layers = getattr(model.network, "layers", None)
        if model.neuron.rho not in ("lif", "soft_lif") or sp.nir_exact:
            c.error("spiking.calibrate", f"fits the network to LIF units' counts (rho: lif or soft_lif, without "
                                         f"nir_exact), not {model.neuron.rho} units")
        if layers is None or len(layers) < 3 or model.task.kind != "digits":
            c.error("spiking.calibrate", "fine-tunes a layered classification network (task.kind: digits) with a "
                                         "hidden layer on its training split")
    if sp.nir_exact and sp.latency == "auto":
        c.error("spiking.latency", "NIR-exact networks are compiled as the file states them; use latency: fixed")
    if sp.nir_exact and sp.rate_scale != 1.0:
        c.error("spiking.rate_scale", "NIR-exact networks keep the model's time constants (the file states them); "
                                      "leave spiking.rate_scale unset")
    if sp.nir_exact and (sp.synapse != "alpha" or sp.readout != "end"):
        c.error("spiking.nir_exact", "sets the synapses (first-order, inside CubaLIF neurons) and the read-out (a "
                                     "leaky integrator) itself: leave spiking.synapse and spiking.readout unset")


def check_nir_exact(c: Checks, model) -> None:
    if not model.spiking.nir_exact:
        return
    if model.neuron.rho not in ("lif", "soft_lif") or model.neuron.tau_ref != 0:
        c.error("spiking.nir_exact", f"NIR's neurons have no refractory period and the network's units must be LIF "
                                     f"neurons: use rho: lif or soft_lif with tau_ref: 0 (got rho: {model.neuron.rho}, "
                                     f"tau_ref: {model.neuron.tau_ref:g})")


def _check_layers(c: Checks, model: NLAModel) -> None:
    layers = cast(tuple[int, ...], model.network.layers)  # checked not None by check()
    if len(layers) < 2:
        c.error("network.layers", f"needs at least an input and an output size (got {list(layers)})")
        return
    n_proj = len(layers) - 1
    eta = model.learning.eta
    if isinstance(eta, tuple) and len(eta) != n_proj:
        c.error("learning.eta", f"has {len(eta)} rates, but the network has {n_proj} projections")
    mc = model.microcircuit
    if mc is not None:
        hidden = len(layers) - 2
        if hidden < 1:
            c.error("microcircuit", "needs at least one hidden layer")
        elif mc.interneurons is not None and len(mc.interneurons) != hidden:
            c.error("microcircuit.interneurons",
                    f"has {len(mc.interneurons)} counts, but there are {hidden} hidden layers")
        elif mc.interneurons is not None:
            for k, count in enumerate(mc.interneurons):
                need = min(layers[k + 1], layers[k + 2])
                if count < need:
                    c.error(f"microcircuit.interneurons[{k}]",
                            f"{count} interneurons cannot represent the error: at least min(n_l, n_l+1) = {need}")
                if mc.nudging == "one_to_one" and count != layers[k + 2]:
                    c.error(f"microcircuit.interneurons[{k}]",
                            f"one-to-one nudging needs one interneuron per neuron of the layer above "
                            f"({layers[k + 2]}), got {count}")
        if model.learning.feedback != "transpose":
            c.error("learning.feedback", "the microcircuit brings its own feedback B; leave feedback at 'transpose'")
    task = model.task
    if task.kind == "digits" and (layers[0] != 64 or layers[-1] != 10):
        c.error("network.layers", f"the digits task needs 64 inputs and 10 outputs (got {list(layers)})")
    if task.kind == "signals":
        c.error("task.kind", "the signals task needs a recurrent network (network.recurrent)")


def _check_recurrent(c: Checks, model: NLAModel) -> None:
    rec = cast(Recurrent, model.network.recurrent)  # checked not None by check()
    if rec.outputs > rec.neurons:
        c.error("network.recurrent.outputs", f"{rec.outputs} outputs but only {rec.neurons} neurons")
    if model.microcircuit is not None:
        c.error("microcircuit", "is defined for layered networks only")
    if isinstance(model.learning.eta, tuple) and len(model.learning.eta) != 2:
        c.error("learning.eta", "a recurrent network has 2 projections (input, recurrent)")
    task = model.task
    if task.kind == "signals":
        if rec.outputs != task.channels:
            c.error("task.channels", f"{task.channels} channels but the network has {rec.outputs} outputs")
        if task.withheld >= task.channels:
            c.error("task.withheld", f"{task.withheld} withheld of {task.channels} channels: keep at least one nudged")
        if rec.inputs != 0:
            c.error("network.recurrent.inputs", "the signals task has no input rates; set inputs: 0")
    elif task.kind == "digits":
        if rec.inputs != 64 or rec.outputs != 10:
            c.error("network.recurrent", "the digits task needs 64 inputs and 10 outputs")
    elif task.kind == "teacher":
        c.error("task.kind", "the teacher task is defined for layered networks (network.layers)")


def _check_timing(c: Checks, model: NLAModel) -> None:
    dt, tau = model.dynamics.dt, model.neuron.tau
    if dt > 0.5 * tau:
        c.error("dynamics.dt", f"{dt:g} s is too coarse for tau = {tau:g} s (at most tau/2)")
    elif model.dynamics.scheme == "previous_step" and dt > 0.1 * tau:
        c.warning("dynamics.dt", f"{dt:g} s: the previous-step scheme is accurate for dt < 0.1 tau = {0.1 * tau:g} s")
    task = model.task
    if task.kind == "digits" and steps(task.presentation, dt) is None:
        c.error("task.presentation", f"{task.presentation:g} s is not a whole multiple of dynamics.dt = {dt:g} s")
