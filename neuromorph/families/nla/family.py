"""The ``nla`` family behind the :class:`~neuromorph.families.base.Family` interface."""

from __future__ import annotations

from pathlib import Path

from ..base import Family


class NLAFamily(Family):
    name = "nla"
    description = "neuronal least-action networks (Senn et al. 2024)"
    learns = True

    # -- rate reference ----------------------------------------------------------------------
    def rate_engine(self, model, weights=None, base_dir=None):
        from .rate import NLAEngine

        return NLAEngine(model, weights=weights, base_dir=base_dir)

    def rate_simulate(self, model, progress=None, base_dir=None):
        from ...tasks import run_inference

        return run_inference(self.rate_engine(model, base_dir=base_dir), model, progress)

    # -- Brian2 rate mode --------------------------------------------------------------------
    def brian2_engine(self, model, weights, run_program, base_dir=None):
        """The Brian2 engine (learning needs one lane: Brian2 synapses hold one copy of each weight)."""
        from .brian2 import Brian2NLAEngine

        return Brian2NLAEngine(model, run_program, weights=weights, base_dir=base_dir)

    def check_training(self, model, backend: str, traits=None) -> None:
        from .brian2 import Brian2NLAError

        if backend == "brian2" and model.learning.lanes > 1:
            raise Brian2NLAError("Brian2 synapses cannot share weights across lanes: learn with learning.lanes: 1 "
                                 f"(this model has {model.learning.lanes})")
        if backend not in ("rate", "brian2"):
            from .lower import check_spiking_learning

            no_rule(backend, traits.learning_rules if traits is not None else frozenset())
            if traits is not None:
                check_spiking_learning(model, backend, traits.shared_learning, traits.learning_rules)

    def brian2_program(self, model, base_dir=None):
        from ...tasks import make_task, record_every
        from .brian2 import program
        from .rate import LaneState

        lanes = LaneState(model, base_dir=base_dir)
        protocol = make_task(model).eval_protocol()
        lanes.reset(protocol.x0, protocol.target0)
        return program(model, lanes.weights, lanes.structure, lanes.settings, protocol, lanes.state,
                       record=tuple(model.record.variables), every=record_every(model))

    def brian2_simulate(self, model, run_program, progress=None, base_dir=None):
        from ...tasks import run_inference

        from .brian2 import Brian2NLAEngine

        return run_inference(Brian2NLAEngine(model, run_program, base_dir=base_dir), model, progress)

    # -- spiking -----------------------------------------------------------------------------
    def lower(self, model, weights, traits, copies: int = 1, nudging=None, learning=None):
        from .lower import lower

        return lower(model, weights, traits, copies, nudging, learning)

    def spiking_engine(self, model, weights, simulator, base_dir=None):
        """Output-layer learning on a spiking backend whose traits have PES (hidden layers fixed)."""
        from ...tasks.engines import LearningGraphEngine

        no_rule(simulator.name, simulator.traits().learning_rules)
        return LearningGraphEngine(self, model, self.weights(model, base_dir) if weights is None else weights,
                                   simulator)

    def lower_learning(self, model, traits, base_dir=None):
        """The model's lanes (one where the target cannot share weights between copies) learning
        from where ``train`` starts, nudged with the model's beta."""
        import numpy as np

        from .lower import check_spiking_learning, lower
        from .network import structure

        no_rule(traits.name, traits.learning_rules)
        check_spiking_learning(model, traits.name, traits.shared_learning, traits.learning_rules)
        nudging = np.full(structure(model).n_out, model.learning.beta)
        start = self.spiking_initial_weights(model, base_dir, traits.learning_rules)
        lanes = model.learning.lanes if traits.shared_learning else 1
        return lower(model, start, traits, lanes, nudging, learning=1.0)

    def learned_weights(self, model, graph, weights, learned: dict):
        from .lower import learned_weights

        return learned_weights(model, graph, weights, learned)

    def spiking_initial_weights(self, model, base_dir=None, rules: frozenset = frozenset()):
        """Where learning in spikes starts. With the Dendritic rule (``rules``), every layer learns:
        the seeded initial weights, as the rate reference starts. Otherwise the output layer
        learns over fixed hidden layers: the model's weights (its ``weights`` file, else the
        seeded ones) with the output projection at zero."""
        from .lower import output_zeroed

        if "Dendritic" in rules:
            return self.initial_weights(model)
        return output_zeroed(model, self.weights(model, base_dir))

    def graph_run(self, model, copies: int = 1, base_dir=None) -> dict:
        from ...seeds import spiking_seed
        from ...tasks import make_task

        from ...tasks.engines import rate_of_change

        protocol = make_task(model).eval_protocol()
        dt = model.dynamics.dt
        inputs = {"x": protocol.x[:, :copies]}
        if model.spiking.prospective:
            inputs["kick"] = rate_of_change(inputs["x"], dt)
        return {"inputs": inputs, "input_dt": dt, "duration": protocol.steps * dt, "sample_dt": dt,
                "seed": spiking_seed(model)}

    def sequence_labels(self, model) -> dict:
        from ...tasks import make_task

        if not self.classification(model):
            return {}
        task = make_task(model)
        order, real = task.test_order()
        return {"labels": task.y[order].ravel(), "real": real.ravel(), "presentation": model.task.presentation}

    def spiking_simulate(self, model, simulator, progress=None, base_dir=None):
        from ...tasks import run_inference
        from ...tasks.engines import GraphEngine

        engine = GraphEngine(self, model, self.weights(model, base_dir), simulator)
        return run_inference(engine, model, progress)

    def weights_from_graph(self, model, graph, weights, edges=None):
        from .lower import weights_from_graph

        return weights_from_graph(model, graph, weights, edges)

    # -- weights and tasks -------------------------------------------------------------------
    def weights(self, model, base_dir=None):
        from . import model_weights, structure

        return model_weights(model, structure(model), base_dir)

    def initial_weights(self, model):
        from . import init_weights, structure

        return init_weights(model, structure(model))

    def needs_training(self, model, base_dir=None) -> bool:
        from . import weights_path

        return model.weights is None or not Path(weights_path(model, base_dir)).exists()

    def trainer(self, model):
        from ...tasks import make_task

        return make_task(model)

    def train_steps(self, model) -> int:
        from ...tasks import make_task

        return make_task(model).train_steps()

    def weights_bytes(self, model, weights, meta: dict) -> bytes:
        from .network import structure, weights_bytes

        return weights_bytes(weights, structure(model), meta)

    def read_weights(self, model, path):
        from .network import load_weights, structure

        return load_weights(path, structure(model))

    def simulation_steps(self, model) -> int:
        from ...tasks import make_task

        return make_task(model).eval_steps()

    def override_paths(self, model) -> dict:
        paths = {"duration": ("task", "duration"), "dt": ("dynamics", "dt")}
        if self.classification(model):
            paths["presentation"] = ("task", "presentation")
        return paths

    def classification(self, model) -> bool:
        return model.task.kind == "digits"

    def presentation(self, model) -> float | None:
        return model.task.presentation if self.classification(model) else None

    def plot_kind(self, model) -> str:
        return "lanes"


def no_rule(backend: str, rules: frozenset) -> None:
    """Refuse a spiking backend without PES: NLA's output layer learns by it in spikes."""
    from ..base import UnsupportedModel

    if "PES" not in rules:
        raise UnsupportedModel(f"{backend} has no learning rule for spiking networks (PES); NLA learns in spikes on "
                               "backends that have one (nengo, loihi)")
