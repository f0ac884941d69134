"""Nengo backends: ``nengo`` (Nengo's reference simulator) and ``loihi`` (NengoLoihi: the chip when
NxSDK and a board are present, otherwise NengoLoihi's emulator, target 'sim').

Both compile a model to a ``nengo.Network`` of LIF ensembles with Poisson-encoded inputs and
alpha synapses; ``loihi`` replaces what the chip cannot do (see the ``Substitution`` records
every run writes into ``summary.json``)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ...seeds import spiking_seed
from ..base import Backend, Result
from ..spikes import rate_histogram
from .common import DT, NengoError, hardware_name, import_nengo, loihi_target, quiet, versions


class NengoBackend(Backend):
    name = "nengo"
    description = "Nengo reference simulator: LIF ensembles, Poisson inputs, alpha synapses (CPU)"
    families = ("bm", "nla")

    def target(self):
        return None

    def versions(self) -> dict:
        return versions(self.name)

    def hardware(self) -> dict:
        target = self.target()
        return {"runs_on": hardware_name(self.name, target), "target": target or "reference", "dt": DT}

    def compile(self, model, base_dir=None):
        """The network for ``model`` (NLA: one copy of the network over the evaluation run)."""
        self.check(model)
        if model.family == "bm":
            from .bm import network

            return network(model, self.name)
        from ...tasks import make_task
        from .nla import network

        single = dataclasses.replace(model, learning=dataclasses.replace(model.learning, lanes=1))
        engine = self.nla_engine(single, base_dir=base_dir)
        return network(single, engine.weights, engine.st, make_task(single).eval_protocol(), self.name)

    def describe(self, built) -> str:
        from .describe import describe

        return describe(built, self)

    def write_script(self, built, path):
        raise NengoError(f"standalone scripts are written for the brian2 targets only, not {self.name!r}")

    def simulate(self, model, progress=None, base_dir=None) -> Result:
        self.check(model)
        if model.family == "nla":
            from ...tasks import run_inference

            result = run_inference(self.nla_engine(model, base_dir=base_dir), model, progress)
            result.info["hardware"] = self.hardware()
            result.info["substitutions"] = result.info["engine"]["substitutions"]
            return result
        return self._simulate_bm(model, progress)

    def _simulate_bm(self, model, progress) -> Result:
        from .bm import network, run

        built = network(model, self.name)
        t, mu, w, extra = run(built, spiking_seed(model), self.target())
        if progress is not None:
            progress(built.steps)
        rec_dt = model.record.dt or model.time.dt
        n_rec = int(round(model.time.duration / rec_dt)) + 1
        rows = np.minimum(np.round(np.arange(n_rec) * rec_dt / DT).astype(int), len(t) - 1)
        values = {"mu": mu[rows], "w": w[rows], "p_mu": np.zeros_like(mu[rows]), "p_w": np.zeros_like(mu[rows])}
        squeeze = model.population is None
        traces = {v: values[v][:, 0] if squeeze else values[v] for v in model.record.variables}
        counts = np.concatenate([c.counts for c in built.counters])
        info = {"dt": DT, "hardware": self.hardware(), "substitutions": [s.as_dict() for s in built.substitutions],
                "notes": built.notes, "spikes": {"ens": int(round(counts.sum()))}, "neurons": built.neurons,
                "simulated_s": built.steps * DT, "rates_hz": rate_histogram(counts, built.steps * DT)}
        info.update(extra)
        return Result(t=rows * DT, traces=traces, info=info)

    def nla_engine(self, model, weights=None, base_dir=None):
        from .nla import NengoNLAEngine

        return NengoNLAEngine(model, self.name, weights=weights, base_dir=base_dir, target=self.target())


class LoihiBackend(NengoBackend):
    name = "loihi"
    description = "NengoLoihi: the Loihi chip if NxSDK is present, else its emulator (default hardware target)"

    def target(self):
        return loihi_target()


__all__ = ["NengoBackend", "LoihiBackend", "quiet", "import_nengo"]
