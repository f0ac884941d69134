"""Brian2 backends: ``brian2`` (the rate model as continuous equations) and ``brian2-spiking``
(LIF neurons, Poisson inputs, alpha synapses). Both compile a model to a
:class:`~neuromorph.backends.brian2.program.Program`, run it in-process, and can write it out as a
standalone script."""

from __future__ import annotations

import os

import numpy as np

from ..base import Backend, Result
from ..spikes import rate_histogram, raster
from . import targets


def _brian2_version() -> dict:
    import brian2

    return {"brian2": brian2.__version__, "numpy": np.__version__}


def raster_of(objs, group: str) -> dict:
    """The raster of ``group`` from its SpikeMonitor (``spk_<group>``)."""
    monitor = objs[f"spk_{group}"]
    return raster(np.asarray(monitor.t_[:]), np.asarray(monitor.i[:]), group)


class Brian2Backend(Backend):
    name = "brian2"
    description = "Brian2, the rate model as continuous equations (CPU)"
    families = ("bm", "nla")

    def __init__(self, codegen: str | None = None):
        self.codegen = targets.check(codegen or os.environ.get("NEUROMORPH_BRIAN2_TARGET", targets.DEFAULT))

    def versions(self) -> dict:
        return _brian2_version()

    def describe(self, program) -> str:
        from .program import summary

        return summary(program)

    def write_script(self, program, path) -> list:
        from .program import write_script

        return write_script(program, path)

    def compile(self, model, base_dir=None):
        """The Brian2 program for ``model`` (NLA: its task's evaluation run)."""
        self.check(model)
        if model.family == "bm":
            from .bm import rate_program

            return rate_program(model)
        return self._nla_program(model, base_dir)

    def _nla_program(self, model, base_dir):
        from ...tasks import make_task
        from .nla import program

        engine = self.nla_engine(model, base_dir=base_dir)
        protocol = make_task(model).eval_protocol()
        engine.reset(protocol.x0, protocol.target0)
        from ...tasks import record_every

        return program(model, engine.weights, engine.st, engine.s, protocol, engine.state,
                       record=tuple(model.record.variables), every=record_every(model))

    def simulate(self, model, progress=None, base_dir=None) -> Result:
        self.check(model)
        if model.family == "nla":
            from ...tasks import run_inference

            return run_inference(self.nla_engine(model, base_dir=base_dir), model, progress)
        from .program import run

        program = self.compile(model, base_dir)
        t, traces, spikes, objs = run(program, self.codegen)
        info = {"codegen": self.codegen, "dt": program.dt, "substitutions": program.substitutions,
                "notes": program.notes}
        if spikes:
            info["spikes"] = {k: int(v.sum()) for k, v in spikes.items()}
            info["neurons"] = {k: int(len(v)) for k, v in spikes.items()}
            info["simulated_s"] = program.duration
            group = next(iter(spikes))
            info["raster"] = raster_of(objs, group)
            info["rates_hz"] = rate_histogram(spikes[group], program.duration)
        return Result(t=t, traces=traces, info=info)

    def nla_engine(self, model, weights=None, base_dir=None):
        from .nla import Brian2NLAEngine

        return Brian2NLAEngine(model, weights=weights, base_dir=base_dir, codegen=self.codegen)


class Brian2SpikingBackend(Brian2Backend):
    name = "brian2-spiking"
    description = "Brian2, LIF neurons with Poisson inputs and alpha synapses (CPU)"

    def compile(self, model, base_dir=None):
        self.check(model)
        if model.family == "bm":
            from .spiking import bm_program

            return bm_program(model)
        return self._nla_program(model, base_dir)

    def _nla_program(self, model, base_dir):
        from ...tasks import make_task
        from .spiking import nla_program

        engine = self.nla_engine(model, base_dir=base_dir)
        return nla_program(model, engine.weights, engine.st, make_task(model).eval_protocol())

    def nla_engine(self, model, weights=None, base_dir=None):
        from .spiking import SpikingNLAEngine

        return SpikingNLAEngine(model, weights=weights, base_dir=base_dir, codegen=self.codegen)
