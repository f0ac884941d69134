"""Brian2 backends: ``brian2`` (each family's rate model as Brian2 equations) and
``brian2-spiking`` (any network graph: LIF neurons, spike encoders, alpha synapses). Both run a
:class:`~neuromorph.equations.Program` in-process and can write it out as a standalone script.
The code-generation target (numpy, cython, cpp_standalone) is a constructor parameter."""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import TYPE_CHECKING, cast

import numpy as np

from ... import families
from ...graph import Traits
from ...records import Result, RunRecord
from ..base import Backend, BackendError, Compiled, SpikingBackend
from . import targets

if TYPE_CHECKING:
    from ...equations import Program
    from ...graph import Graph


def _versions() -> dict:
    import brian2

    return {"brian2": brian2.__version__, "numpy": np.__version__}


class Brian2Backend(Backend):
    name = "brian2"
    description = "Brian2, the rate model as continuous equations (CPU)"

    def __init__(self, codegen: str | None = None):
        self.codegen = targets.check(codegen or targets.DEFAULT)

    def load(self) -> None:
        import brian2  # noqa: F401 - installs its SIGINT handler: main thread only

    def versions(self) -> dict:
        return _versions()

    def hardware(self) -> dict:
        return {"runs_on": f"CPU (Brian2, {self.codegen})", "target": self.codegen}

    def runner(self):
        from .program import run

        return partial(run, target=self.codegen)

    def simulate(self, model, progress=None, base_dir=None) -> Result:
        self.check(model)
        result = families.of(model).brian2_simulate(model, self.runner(), progress=progress, base_dir=base_dir)
        result.info.details["codegen"] = self.codegen
        return self.finish(result)

    def engine(self, model, weights=None, base_dir=None):
        self.check(model)
        return families.of(model).brian2_engine(model, weights, self.runner(), base_dir=base_dir)

    def compile(self, model, base_dir=None) -> Compiled:
        self.check(model)
        return Compiled(model=model, program=families.of(model).brian2_program(model, base_dir))

    def describe(self, compiled: Compiled) -> str:
        from .program import summary

        return summary(cast("Program", compiled.program))

    def write_script(self, compiled: Compiled, path) -> list:
        from .program import write_script

        return write_script(cast("Program", compiled.program), path)


class Brian2SpikingBackend(SpikingBackend):
    name = "brian2-spiking"
    description = "Brian2, any spiking network graph: LIF neurons, spike encoders, alpha synapses (CPU)"

    def __init__(self, codegen: str | None = None):
        self.codegen = targets.check(codegen or targets.DEFAULT)

    def load(self) -> None:
        import brian2  # noqa: F401 - installs its SIGINT handler: main thread only

    def versions(self) -> dict:
        return _versions()

    def hardware(self) -> dict:
        return {"runs_on": f"CPU (Brian2, {self.codegen})", "target": self.codegen}

    def traits(self) -> Traits:
        return Traits(name=self.name, refractory_on_grid=True, learning_rules=frozenset({"PES", "Dendritic"}),
                      shared_learning=True)

    def run_graph(self, graph, inputs=None, input_dt=None, duration: float = 0.0, sample_dt=None, seed: int = 0,
                  progress=None) -> RunRecord:
        from .graph import learned_weights, program, raster_of, spike_bins
        from .program import run

        prog, meta = program(graph, inputs, input_dt, duration, sample_dt, seed, self.name)
        t, traces, _, objs = run(prog, self.codegen)
        sample_dt = sample_dt or graph.dt
        probes, names = {}, meta["groups"]
        for key, (kind, where) in meta["probes"].items():
            if kind == "value":
                probes[key] = traces[key]
            else:
                size = graph.nodes[graph.probes[key].node].size * graph.copies
                probes[key] = spike_bins(objs[f"spk_{where}"], size, graph.copies, sample_dt, duration)
        spikes = {name: np.asarray(objs[f"spk_{group}"].count[:]) for name, group in names.items()
                  if f"spk_{group}" in objs}
        first = next(iter(graph.neurons()), None)
        raster = raster_of(objs[f"spk_{names[first]}"], first) if first else None
        steps = int(round(duration / graph.dt))
        if progress is not None:
            progress(steps)
        samples = np.arange(int(round(duration / sample_dt)) + 1) * sample_dt
        return RunRecord(t=samples, probes=probes, spikes=spikes, dt=graph.dt, steps=steps, raster=raster,
                         learned=learned_weights(graph, objs, meta["learned"]))

    def compile(self, model, base_dir=None) -> Compiled:
        from .graph import program

        compiled = super().compile(model, base_dir)
        run = families.of(model).graph_run(model, cast("Graph", compiled.graph).copies)
        prog, _ = program(compiled.graph, seed=run["seed"], backend=self.name,
                          **{k: v for k, v in run.items() if k != "seed"})
        return dataclasses.replace(compiled, program=prog)

    def build_description(self, graph) -> str:
        return "(built as one Brian2 NeuronGroup per node, holding every copy; one Synapses object per edge)"

    def describe(self, compiled: Compiled) -> str:
        from .program import summary

        if compiled.program is None:  # a learning graph: train builds its program with the training inputs
            return super().describe(compiled)
        return "\n".join([super().describe(compiled), "", summary(cast("Program", compiled.program))])

    def write_script(self, compiled: Compiled, path) -> list:
        from .program import write_script

        if compiled.program is None:
            raise BackendError("no script for a learning network: `train` builds its program from the training "
                               "images; compile without --learning for the inference script")
        return write_script(cast("Program", compiled.program), path)
