"""The interface every model family implements: its maths behind one declared contract.

A family owns the rate reference (ground truth), the Brian2 rate-mode equations, its tasks and
metrics, and one lowering to the spiking network graph. Backends ask a family for these through
the methods below and never branch on the family's name; a new family subclasses
:class:`Family`, registers with :func:`neuromorph.families.register` (or in ``REGISTRY``), and
runs on every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

from ..errors import NeuromorphError


class UnsupportedModel(NeuromorphError):
    """A backend or command cannot run this model; the message says what would."""


class Family(ABC):
    """A model family.

    Attributes
    ----------
    name : str
        The spec's ``family`` value.
    description : str
    learns : bool
        Whether ``neuromorph train`` applies (the family has weights it learns with a task).
    """

    name: str = ""
    description: str = ""
    learns: bool = False

    # -- the rate reference -----------------------------------------------------------------------
    @abstractmethod
    def rate_simulate(self, model, progress=None, base_dir=None):
        """The rate reference's run of ``model``: a :class:`~neuromorph.records.Result`."""

    def rate_engine(self, model, weights=None, base_dir=None):
        """A rate engine for the family's tasks (learning families)."""
        raise UnsupportedModel(f"family {self.name!r} has no learning engine")

    # -- Brian2 rate mode ---------------------------------------------------------------------------
    @abstractmethod
    def brian2_program(self, model, base_dir=None):
        """The rate model as Brian2 equations (:class:`~neuromorph.equations.Program`): what
        ``neuromorph compile --target brian2`` shows and writes as a script."""

    @abstractmethod
    def brian2_simulate(self, model, run_program: Callable, progress=None, base_dir=None):
        """Run ``model`` with Brian2 rate equations; ``run_program(program)`` runs a
        :class:`~neuromorph.equations.Program` and returns (t, traces, spikes, objects)."""

    def brian2_engine(self, model, weights, run_program: Callable, base_dir=None):
        raise UnsupportedModel(f"family {self.name!r} has no Brian2 learning engine")

    # -- spiking --------------------------------------------------------------------------------
    @abstractmethod
    def lower(self, model, weights, traits, copies: int = 1, nudging=None):
        """The model as a spiking network graph for a target with ``traits``
        (:class:`~neuromorph.graph.Traits`), ``copies`` lanes; ``nudging``: per-output nudging
        strengths of a task protocol (its targets then arrive on an Input ``target``)."""

    @abstractmethod
    def spiking_simulate(self, model, simulator, progress=None, base_dir=None):
        """Run ``model`` on a spiking backend (``simulator``: ``traits()``, ``run_graph()``)."""

    @abstractmethod
    def graph_run(self, model, copies: int = 1, base_dir=None) -> dict:
        """How the model's graph runs on its own (a compiled script): ``inputs`` (Input node ->
        array), ``input_dt``, ``duration`` and ``sample_dt`` (s), ``seed``."""

    def spiking_engine(self, model, weights, simulator, base_dir=None):
        """A task engine on a spiking backend (for learning in spikes)."""
        raise UnsupportedModel(f"family {self.name!r} does not learn on spiking backends")

    def learned_weights(self, model, graph, weights, learned: dict) -> Any:
        """``weights`` with what the learning edges of ``graph`` ended a run with (``learned``:
        edge name -> (copies, n_post, n_pre) in the graph's units)."""
        raise UnsupportedModel(f"family {self.name!r} does not learn on spiking backends")

    def lower_learning(self, model, traits, base_dir=None):
        """The graph that learns in spikes on a target with ``traits`` (what ``train`` runs)."""
        raise UnsupportedModel(f"family {self.name!r} does not learn on spiking backends")

    def spiking_initial_weights(self, model, base_dir=None, rules: frozenset = frozenset()) -> Any:
        """Where learning in spikes starts on a target with learning ``rules`` (default: where the
        rate model's learning starts)."""
        return self.initial_weights(model)

    # -- weights, tasks, presentation -----------------------------------------------------------
    def weights(self, model, base_dir=None) -> Any:
        """The weights a run uses (trained file or seeded initial ones), or None."""
        return None

    def initial_weights(self, model) -> Any:
        return None

    def needs_training(self, model, base_dir=None) -> bool:
        """Whether a comparison must train weights first (none on file)."""
        return False

    def trainer(self, model):
        """The task that trains ``model``, unit by unit (``train_units``, ``train_start``,
        ``train_unit``, ``train_resume``, ``train_finish``; see :func:`neuromorph.tasks.run_training`)."""
        raise UnsupportedModel(f"family {self.name!r} has no learning to run; `train` is for learning families")

    def check_backend(self, model, backend) -> None:
        """Raise :class:`UnsupportedModel` before any work if ``backend`` cannot run ``model``
        (default: every backend runs every model of the family)."""
        return None

    def check_training(self, model, backend: str, traits=None) -> None:
        """Raise :class:`UnsupportedModel` before any work if ``model`` cannot learn on ``backend``
        (``traits``: a spiking backend's, with the learning rules it declares; None otherwise)."""
        return None

    def train_steps(self, model) -> int:
        return 0

    def weights_bytes(self, model, weights, meta: dict) -> bytes:
        raise UnsupportedModel(f"family {self.name!r} has no weights to save")

    def read_weights(self, model, path):
        """Weights from a file :meth:`weights_bytes` wrote (raises ValueError if they do not fit)."""
        raise UnsupportedModel(f"family {self.name!r} has no weights to read")

    def simulation_steps(self, model) -> int:
        """Steps a simulate run takes (progress bars)."""
        return 0

    def override_paths(self, model) -> dict:
        """Command-line override -> (section, key) in the spec: ``duration``, ``dt`` and, for
        classification tasks, ``presentation``."""
        return {}

    def classification(self, model) -> bool:
        """Whether the model's task is classification (accuracy against presentation time)."""
        return False

    def presentation(self, model) -> float | None:
        return None

    def reference_backend(self, model) -> str | None:
        """The backend this model's comparisons are measured against (None: the registered
        reference, the rate model)."""
        return None

    def deploy_settings(self, model) -> dict | None:
        """The spiking settings a deployment records; None when the model is not a spec whose
        ``spiking`` section a manifest's run settings may change (a NIR file)."""
        from .. import spec

        return dict(spec.to_data(model).get("spiking", {}))

    def sequence_labels(self, model) -> dict:
        """For an export's input file: what a run laid end to end shows (e.g. the label and the
        steps of each presented image); empty when the task has none."""
        return {}

    # -- reporting ------------------------------------------------------------------------------
    def summary_extras(self, model) -> dict:
        """Extra summary entries (e.g. an analytic fixed point)."""
        return {}

    def console_lines(self, summary: dict) -> list:
        """Lines ``neuromorph simulate`` prints after a run, beyond the metrics."""
        return []

    def plot_kind(self, model) -> str:
        """How ``traces.png`` draws a run: ``time_series``, ``phase_plane`` (adds the (w, mu)
        plane) or ``lanes`` (arrays (T, lanes, n): lane 0)."""
        return "time_series"

    def weights_from_graph(self, model, graph, weights, edges=None):
        """``weights`` with the values the graph's edges hold (the inverse of :meth:`lower` for
        trained weights: quantized or learned on a target); ``edges``: indices of the edges to
        read (default: all)."""
        raise UnsupportedModel(f"family {self.name!r} has no weights in its graph")
