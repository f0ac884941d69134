"""The backend contract, declared in full: every backend implements these methods (nothing is
discovered with ``hasattr``).

- :class:`Backend`: ``check``, ``simulate``, ``engine`` (for tasks and training), ``compile``,
  ``describe``, ``write_script``, ``versions``, ``hardware``.
- :class:`SpikingBackend`: also ``traits`` (what the target can do) and ``run_graph`` (build
  any network graph through a table of builders, one per primitive, and run it). ``simulate``,
  ``engine`` and ``compile`` are generic: the model's family lowers it, the graph is legalized
  for the traits, the backend builds it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from .. import families
from ..errors import NeuromorphError
from ..families.base import UnsupportedModel
from ..records import Result, RunRecord

if TYPE_CHECKING:
    from ..graph import Graph

__all__ = ["Backend", "SpikingBackend", "Compiled", "UnsupportedModel", "BackendError"]


class BackendError(NeuromorphError):
    """A backend cannot do what was asked (a clear sentence saying what would work)."""


@dataclass
class Compiled:
    """What ``neuromorph compile`` produced: the backend's own form (a Brian2 program, a Nengo
    network), the network graph it came from (spiking backends), and the model."""

    model: object
    program: object
    graph: object = None


class Backend(ABC):
    """A named simulator for models of any registered family."""

    name = ""
    description = ""
    #: The ground truth every comparison measures the other backends against (one backend).
    reference = False
    spiking = False

    def versions(self) -> dict:
        """Versions of the simulator packages this backend uses."""
        return {}

    def load(self) -> None:
        """Import the simulator now (a worker process does this in its main thread at start:
        some simulators install signal handlers when imported, which only the main thread may)."""
        return None

    def hardware(self) -> dict:
        """Where a run happens: ``runs_on`` (a sentence) and ``target``."""
        return {"runs_on": f"CPU ({self.name})", "target": self.name}

    def check(self, model) -> None:
        """Raise :class:`UnsupportedModel` if this backend cannot run ``model``."""
        families.of(model).check_backend(model, self)

    @abstractmethod
    def simulate(self, model, progress=None, base_dir=None) -> Result:
        """Run ``model`` (its task's evaluation, or its trajectory)."""

    @abstractmethod
    def engine(self, model, weights=None, base_dir=None):
        """A task engine (``run_protocol`` ...) with ``weights``, for training."""

    @abstractmethod
    def compile(self, model, base_dir=None) -> Compiled:
        """What the model becomes on this backend."""

    @abstractmethod
    def describe(self, compiled: Compiled) -> str:
        """The compile summary a person reads."""

    def write_script(self, compiled: Compiled, path) -> list:
        """Write a standalone script; returns the paths written."""
        raise BackendError(f"standalone scripts are written for the brian2 targets only, not {self.name!r}")

    def finish(self, result: Result) -> Result:
        """Stamp a family's result with this backend's name, hardware and simulator versions."""
        result.info.backend = self.name
        result.info.hardware = self.hardware()
        result.info.versions = self.versions()
        return result


class SpikingBackend(Backend):
    """A simulator of spiking network graphs."""

    spiking = True

    @abstractmethod
    def traits(self):
        """What the target can do (:class:`~neuromorph.graph.Traits`)."""

    @abstractmethod
    def run_graph(self, graph, inputs=None, input_dt=None, duration: float = 0.0, sample_dt=None, seed: int = 0,
                  progress=None) -> RunRecord:
        """Build ``graph`` (already legalized for :meth:`traits`) and run it for ``duration`` s.

        ``inputs``: Input node name -> array (steps, copies, size) or (steps, size), held for
        ``input_dt`` s per row. Probes are sampled every ``sample_dt`` s (default: the graph's dt).
        """

    @abstractmethod
    def build_description(self, graph) -> str:
        """How this backend builds ``graph`` (its own objects), for ``compile``."""

    def resources(self, graph) -> dict | None:
        """What the target's own build of one copy of ``graph`` uses (cores, axons), if it reports it."""
        return None

    def realized_weights(self, graph) -> dict | None:
        """{edge index: realized (n_post, n_pre) weights} of the target's weight format, if it has one."""
        return None

    def simulate(self, model, progress=None, base_dir=None) -> Result:
        self.check(model)
        return self.finish(families.of(model).spiking_simulate(model, self, progress=progress, base_dir=base_dir))

    def engine(self, model, weights=None, base_dir=None):
        self.check(model)
        return families.of(model).spiking_engine(model, weights, self, base_dir=base_dir)

    def compile(self, model, base_dir=None) -> Compiled:
        from ..graph import legalize

        self.check(model)
        family = families.of(model)
        graph = legalize(family.lower(model, family.weights(model, base_dir), self.traits()), self.traits())
        return Compiled(model=model, program=None, graph=graph)

    def compile_learning(self, model, base_dir=None) -> Compiled:
        """The graph ``train`` runs here while the model learns (learning rules on its edges)."""
        from ..graph import legalize

        self.check(model)
        graph = families.of(model).lower_learning(model, self.traits(), base_dir)
        return Compiled(model=model, program=None, graph=legalize(graph, self.traits()))

    def describe(self, compiled: Compiled) -> str:
        from ..graph import describe

        head = f"# {self.name}: runs on {self.hardware()['runs_on']}"
        return "\n".join([head, describe(cast("Graph", compiled.graph)), self.build_description(compiled.graph)])
