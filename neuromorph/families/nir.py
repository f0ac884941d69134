"""Networks read from NIR files, as a family: the file is the model, its lowering is the graph
:func:`neuromorph.interop.nir.read` makes of it, and its inputs come from an ``IN.npz``. It runs on
the spiking backends only (a NIR file describes spikes, there is no rate model); its comparisons
take ``brian2-spiking`` (float, exact per-step map) as the reference."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import Family, UnsupportedModel

#: The backend a NIR graph's comparisons are measured against.
REFERENCE = "brian2-spiking"


@dataclass(frozen=True)
class NirModel:
    """A NIR file with its inputs and how to read it.

    ``path``: the .nir file; ``input``: the ``IN.npz`` of its input spikes (None: compile and
    check only); ``dt`` (s) and ``integration``: the per-step reading (None: the file's, else
    1e-4 s and forward Euler); ``seed``: of the backends' own randomness (none in a NIR graph)."""

    path: str
    input: str | None = None
    dt: float | None = None
    integration: str | None = None
    seed: int = 0
    family: str = "nir"

    @property
    def name(self) -> str:
        return Path(self.path).stem


def is_nir(path) -> bool:
    return str(path).lower().endswith(".nir")


def load(path, input=None, dt=None, integration=None) -> NirModel:  # noqa: A002 - the CLI's word
    """A :class:`NirModel`, the file and its inputs checked now (errors name file and node)."""
    model = NirModel(str(Path(path).resolve()), None if input is None else str(Path(input).resolve()), dt, integration)
    run_of(model)
    return model


_cache: dict = {}


def run_of(model: NirModel):
    """(imported graph, inputs, steps) of a model, read once per process."""
    from ..interop import nir

    key = (model.path, model.input, model.dt, model.integration, _stamp(model.path), _stamp(model.input))
    if key not in _cache:
        imported = nir.read(model.path, model.dt, model.integration)
        inputs, steps = (nir.read_inputs(model.input, imported) if model.input else ({}, 0))
        _cache[key] = (imported, inputs, steps)
    return _cache[key]


def _stamp(path) -> tuple | None:
    if path is None or not Path(path).exists():
        return None
    st = Path(path).stat()
    return st.st_mtime_ns, st.st_size


def file_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class NirFamily(Family):
    name = "nir"
    description = "spiking networks read from NIR files (snnTorch, Norse, Sinabs, Rockpool, Lava, ...)"

    def reference_backend(self, model) -> str:
        return REFERENCE

    def check_backend(self, model, backend) -> None:
        if not hasattr(backend, "run_graph"):
            raise UnsupportedModel(f"{model.path}: a NIR file describes a spiking network; backend {backend.name!r} "
                                   "runs rate models: use brian2-spiking, nengo or loihi")

    def rate_simulate(self, model, progress=None, base_dir=None):
        raise UnsupportedModel(f"{model.path}: a NIR file describes a spiking network and has no rate model; "
                               "run it on brian2-spiking, nengo or loihi")

    def brian2_program(self, model, base_dir=None):
        raise UnsupportedModel(f"{model.path}: a NIR file has no rate equations; compile it for brian2-spiking, "
                               "nengo or loihi")

    def brian2_simulate(self, model, run_program, progress=None, base_dir=None):
        return self.brian2_program(model)

    def lower(self, model, weights, traits, copies: int = 1, nudging=None):
        if copies != 1:
            raise UnsupportedModel("a NIR graph runs as one copy")
        return run_of(model)[0].graph

    def graph_run(self, model, copies: int = 1, base_dir=None) -> dict:
        imported, inputs, steps = run_of(model)
        if model.input is None:
            raise UnsupportedModel(f"{model.path}: give its input spikes (--input IN.npz) to run it")
        dt = imported.stepping.dt
        return {"inputs": inputs, "input_dt": dt, "duration": steps * dt, "sample_dt": dt, "seed": model.seed}

    def spiking_simulate(self, model, simulator, progress=None, base_dir=None):
        from ..graph import legalize
        from ..records import Result, graph_info

        imported, _, steps = run_of(model)
        graph = legalize(imported.graph, simulator.traits())
        run = self.graph_run(model)
        scale = graph.meta.get("time_scale", 1.0)  # a fixed clock runs the file's steps one for one
        rec = simulator.run_graph(graph, inputs=run["inputs"], input_dt=graph.dt, duration=steps * graph.dt,
                                  sample_dt=graph.dt, seed=model.seed, progress=progress)
        traces = {}
        for key, probe in graph.probes.items():
            if key not in rec.probes:  # e.g. membrane voltages on the chip
                continue
            data = np.asarray(rec.probes[key])[:, 0, :]
            traces[key] = data if probe.variable == "spikes" else data[1:]  # values: the end of each step
        t = np.arange(1, steps + 1) * imported.stepping.dt
        counts = {key: float(v.sum()) for key, v in traces.items() if key.startswith("spikes.")}
        info = graph_info(simulator, graph, [rec], details={"time_scale": scale})
        return Result(t=t, traces=traces, info=info, metrics={"output_spikes": counts})

    def deploy_settings(self, model) -> dict | None:
        return None

    def simulation_steps(self, model) -> int:
        return run_of(model)[2]

    def summary_extras(self, model) -> dict:
        imported = run_of(model)[0]
        return {"nir": {"file": model.path, "sha256": file_sha256(model.path), "dt": imported.stepping.dt,
                        "integration": imported.stepping.integration, "inputs": imported.inputs,
                        "outputs": imported.outputs, "input_file": model.input,
                        "input_sha256": file_sha256(model.input) if model.input else None}}

    def console_lines(self, summary: dict) -> list:
        return [f"{key}: {int(n)} spikes" for key, n in summary["metrics"].get("output_spikes", {}).items()]
