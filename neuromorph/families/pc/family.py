"""The ``pc`` family behind the :class:`~neuromorph.families.base.Family` interface."""

from __future__ import annotations

from pathlib import Path

from ..base import Family, UnsupportedModel
from .network import layered_view


class PCFamily(Family):
    name = "pc"
    description = "predictive coding networks trained by Z-IL, equilibrium or backprop (Song et al. 2020)"
    learns = True

    # -- rate reference ----------------------------------------------------------------------
    def rate_engine(self, model, weights=None, base_dir=None):
        from .rate import PCEngine

        return PCEngine(model, self.weights(model, base_dir) if weights is None else weights)

    def rate_simulate(self, model, progress=None, base_dir=None):
        from ...tasks import run_inference

        return run_inference(self.rate_engine(model, base_dir=base_dir), model, progress)

    # -- Brian2 rate mode --------------------------------------------------------------------
    def brian2_program(self, model, base_dir=None):
        from ...tasks import make_task, record_every
        from .brian2 import Brian2PCEngine

        engine = Brian2PCEngine(model, None, self.weights(model, base_dir))
        protocol = make_task(layered_view(model)).eval_protocol()
        return engine.program(protocol, tuple(model.record.variables), record_every(model))

    def brian2_simulate(self, model, run_program, progress=None, base_dir=None):
        from ...tasks import run_inference
        from .brian2 import Brian2PCEngine

        return run_inference(Brian2PCEngine(model, run_program, self.weights(model, base_dir)), model, progress)

    def check_training(self, model, backend: str, traits=None) -> None:
        if backend == "brian2":
            raise UnsupportedModel(f"pc networks learn from minibatches ({model.learning.scheme}) on the rate "
                                   "backend: train with -b rate; Brian2 rate mode runs the trained network's inference")

    # -- spiking -----------------------------------------------------------------------------
    def lower(self, model, weights, traits, copies: int = 1, nudging=None):
        from .lower import lower

        return lower(model, weights, traits, copies, nudging)

    def graph_run(self, model, copies: int = 1, base_dir=None) -> dict:
        from .. import get

        return get("nla").graph_run(layered_view(model), copies, base_dir)

    def sequence_labels(self, model) -> dict:
        from .. import get

        return get("nla").sequence_labels(layered_view(model))

    def spiking_simulate(self, model, simulator, progress=None, base_dir=None):
        from ...tasks import run_inference
        from ...tasks.engines import GraphEngine

        engine = GraphEngine(self, model, self.weights(model, base_dir), simulator)
        return run_inference(engine, model, progress)

    def weights_from_graph(self, model, graph, weights, edges=None):
        from ..nla.lower import weights_from_graph

        return weights_from_graph(layered_view(model), graph, weights, edges)

    # -- weights and tasks -------------------------------------------------------------------
    def weights(self, model, base_dir=None):
        from ..nla import model_weights, structure

        view = layered_view(model)
        return model_weights(view, structure(view), base_dir)

    def initial_weights(self, model):
        from ..nla import init_weights, structure

        view = layered_view(model)
        return init_weights(view, structure(view))

    def needs_training(self, model, base_dir=None) -> bool:
        from ..nla import weights_path

        return model.weights is None or not Path(weights_path(model, base_dir)).exists()

    def trainer(self, model):
        from .train import PCTraining

        return PCTraining(model)

    def train_steps(self, model) -> int:
        return self.trainer(model).train_steps()

    def weights_bytes(self, model, weights, meta: dict) -> bytes:
        from ..nla.network import structure, weights_bytes

        return weights_bytes(weights, structure(layered_view(model)), meta)

    def read_weights(self, model, path):
        from ..nla.network import load_weights, structure

        return load_weights(path, structure(layered_view(model)))

    def simulation_steps(self, model) -> int:
        from ...tasks import make_task

        return make_task(layered_view(model)).eval_steps()

    def override_paths(self, model) -> dict:
        return {"duration": ("task", "duration"), "dt": ("dynamics", "dt"), "presentation": ("task", "presentation")}

    def classification(self, model) -> bool:
        return True

    def presentation(self, model) -> float | None:
        return model.task.presentation

    def plot_kind(self, model) -> str:
        return "lanes"
