"""A model family defined here, in the test, runs on every spiking backend through the family
interface alone: nothing in ``neuromorph/backends`` knows it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from neuromorph import backends, families
from neuromorph.backends.base import SpikingBackend
from neuromorph.encoding import lif_rate
from neuromorph.families.base import Family
from neuromorph.graph import LI, LIF, Connection, Graph, Lowpass, Probe, legalize
from neuromorph.records import Result, RunInfo, graph_info


@dataclass(frozen=True)
class ToyModel:
    """Neurons driven by constant currents; their filtered rates are read out."""

    currents: tuple = (1.2, 1.6, 2.5, 4.0)
    tau_rc: float = 0.02
    tau_ref: float = 0.002
    duration: float = 1.0
    family: str = "toy"
    name: str = "toy"
    seed: int = 0


class ToyFamily(Family):
    name = "toy"
    description = "constant-current LIF neurons (a test family)"

    def rate_simulate(self, model, progress=None, base_dir=None):
        rates = lif_rate(np.array(model.currents), model.tau_rc, model.tau_ref)
        return Result(t=np.zeros(1), traces={"rate": rates[None]}, info=RunInfo("rate", 0.0, 0))

    def brian2_program(self, model, base_dir=None):
        raise NotImplementedError

    def brian2_simulate(self, model, run_program, progress=None, base_dir=None):
        raise NotImplementedError

    def lower(self, model, weights, traits, copies: int = 1, nudging=None):
        n = len(model.currents)
        nodes = {"pop": LIF(n, model.tau_rc, model.tau_ref, bias=np.array(model.currents), v0=np.zeros(n)),
                 "rate": LI(n)}
        edges = (Connection("pop", "rate", 1.0, Lowpass(0.1)),)
        return Graph(model.name, nodes, edges, {"rate": Probe("rate"), "spikes": Probe("pop", "spikes")}, dt=0.0001)

    def graph_run(self, model, copies: int = 1, base_dir=None) -> dict:
        return {"inputs": {}, "input_dt": None, "duration": model.duration, "sample_dt": 0.001, "seed": model.seed}

    def spiking_simulate(self, model, simulator, progress=None, base_dir=None):
        graph = legalize(self.lower(model, None, simulator.traits()), simulator.traits())
        rec = simulator.run_graph(graph, **self.graph_run(model))
        rates = rec.probes["spikes"].sum(axis=0)[0] / model.duration
        return Result(t=rec.t, traces={"rate": rec.probes["rate"][:, 0]}, info=graph_info(simulator, graph, [rec]),
                      metrics={"rates": rates})


@pytest.fixture(scope="session", autouse=True)
def toy_registered():
    families.register(ToyFamily())
    yield
    families.unregister("toy")


@pytest.mark.parametrize("name", [n for n in backends.names() if isinstance(backends.get(n), SpikingBackend)])
def test_toy_family_runs_on_every_spiking_backend(name):
    model = ToyModel()
    result = backends.get(name).simulate(model)
    exact = families.get("toy").rate_simulate(model).traces["rate"][0]
    np.testing.assert_allclose(result.metrics["rates"], exact, rtol=0.05, atol=2.0)
    # the filtered read-out settles at the rate too (the last 200 ms, after 5 time constants)
    np.testing.assert_allclose(result.traces["rate"][-200:].mean(axis=0), exact, rtol=0.05, atol=2.0)
    assert result.info.backend == name and result.info.spikes["pop"] > 0
