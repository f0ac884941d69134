"""The public Python API, mirroring the command line (for notebooks and scripts). The
``neuromorph`` command is a thin layer over these functions."""

from __future__ import annotations

from pathlib import Path

from . import backends, families, spec
from .errors import NeuromorphError, SpecError


def load(path):
    """Load and validate a model spec (YAML/JSON); raises :class:`SpecError` listing every problem."""
    return spec.load(path)


def validate(path) -> list:
    """All problems (errors and warnings) in a spec file; an empty list when it is clean."""
    return spec.validate_file(path)[1]


def _model(model):
    """(model, spec file) from a path (a spec, or a .nir file) or a loaded model."""
    if isinstance(model, (str, Path)):
        from .families.nir import is_nir
        from .families.nir import load as load_nir

        return (load_nir(model) if is_nir(model) else spec.load(model)), str(model)
    return model, ""


def load_nir(path, *, input=None, dt=None, integration=None):  # noqa: A002 - the command's word
    """A NIR file as a model the backends run: ``input`` its ``IN.npz`` (``dt`` and one array of
    spike counts per input node), ``dt`` (s) and ``integration`` (``euler``, ``exponential``) how
    its continuous-time nodes are stepped (default: the file's, else 1e-4 s and Euler)."""
    from .families.nir import load

    return load(path, input=input, dt=dt, integration=integration)


def export(model, out, *, format: str = "nir", target: str | None = None, approximate: bool = False,  # noqa: A002
           dt: float | None = None, inputs=None):
    """Write a model's spiking network graph (legalized for ``target`` when given) as a NIR file.

    Exact when every primitive has a NIR counterpart; otherwise a :class:`NirError` lists what NIR
    cannot say, unless ``approximate``, which writes the closest form. With ``inputs``, also write
    the model's own evaluation input (its encoders' spikes, lanes end to end) as an ``IN.npz``.
    ``dt`` (s): the step the file is made for (default: the graph's).

    Returns
    -------
    neuromorph.interop.nir.Exported
        ``.approximations`` and ``.notes`` (lines to show the user).
    """
    import numpy as np

    from .files import write_bytes_atomic
    from .graph import Traits, legalize
    from .interop import nir
    from .seeds import spiking_seed

    if format != "nir":
        raise nir.NirError(f"unknown export format {format!r}; formats: nir")
    model, spec_file = _model(model)
    base_dir = str(Path(spec_file).parent) if spec_file else None
    family = families.of(model)
    model, fixed = _latency_fixed(model)
    traits = backends.get(target).traits() if target else Traits(name="nir")
    graph = family.lower(model, family.weights(model, base_dir), traits)
    if target:
        graph = legalize(graph, traits)
    exported = nir.export(graph, dt, approximate)
    exported.notes.extend(fixed)
    arrays = None
    if inputs is not None:
        run = family.graph_run(model, copies=getattr(getattr(model, "learning", None), "lanes", 1), base_dir=base_dir)
        arrays = nir.export_inputs(graph, exported, run, spiking_seed(model), dt or graph.dt)
        labels = family.sequence_labels(model)
        for key, value in labels.items():
            arrays[f"meta.{key}"] = np.asarray(value)
        if "presentation" in labels:
            per_image = int(round(labels["presentation"] / (dt or graph.dt)))
            arrays["meta.presentation_steps"] = np.asarray(per_image)
    nir.write(exported, out)
    if arrays is not None:
        import io

        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        write_bytes_atomic(Path(inputs), buf.getvalue())
    return exported


def _latency_fixed(model) -> tuple:
    """(model, notes): a model whose spiking section says ``latency: auto`` is exported as
    written (a NIR file states no presentation time and no host-side count window)."""
    import dataclasses

    spiking = getattr(model, "spiking", None)
    if spiking is None or getattr(spiking, "latency", "fixed") != "auto":
        return model, []
    note = ("spiking.latency: auto is not applied: a NIR file states no presentation time, so the network is "
            "exported as its spiking section is written")
    return dataclasses.replace(model, spiking=dataclasses.replace(spiking, latency="fixed")), [note]


def simulate(model, backend: str = "rate", *, duration=None, dt=None, seed=None, presentation=None, out=None,
             progress=None, codegen=None):
    """Simulate a model (a path or a loaded model) on a backend.

    Parameters
    ----------
    model : str, Path or model IR
    backend : str
        A name from :func:`info` ``['backends']``.
    duration, dt : float, optional
        Override the spec's duration / step (seconds), where the family keeps them.
    seed : int, optional
        Override the spec's ``seed``.
    presentation : float, optional
        Override ``task.presentation`` (s): how long each image is shown (classification models).
    out : path, optional
        Also write ``result.npz``, ``summary.json`` and ``traces.png`` there.
    codegen : str, optional
        Brian2 code-generation target (numpy, cython, cpp_standalone).

    Returns
    -------
    neuromorph.run.simulate.Run
        ``.result.t``, ``.result.traces``, ``.summary``.
    """
    from .run.simulate import simulate as run_simulate
    from .run.simulate import with_overrides, write_outputs

    model, spec_file = _model(model)
    model = with_overrides(model, duration, dt, seed, file=spec_file, presentation=presentation)
    run = run_simulate(model, backend, progress=progress, spec_file=spec_file, codegen=codegen)
    if out is not None:
        write_outputs(run, out)
    return run


def train(model, backend: str = "rate", *, seed=None, out=None, progress=None, codegen=None):
    """Learn a model's weights from its seed with its task (see ``neuromorph train``). With
    ``out``, a checkpoint is kept there after every epoch and the results are written there.

    Returns
    -------
    neuromorph.run.train.TrainRun
        ``.weights``, ``.curve``, ``.summary`` (metrics such as ``accuracy``); ``.warnings``.
    """
    from .run.simulate import with_overrides
    from .run.train import train as run_train
    from .run.train import write_outputs

    model, spec_file = _model(model)
    model = with_overrides(model, seed=seed, file=spec_file)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    run = run_train(model, backend, progress=progress, spec_file=spec_file, codegen=codegen, out=out)
    run.warnings = write_outputs(run, out) if out is not None else []
    return run


def resume(out, *, progress=None, codegen=None):
    """Continue the training run interrupted in folder ``out`` from its last checkpoint; the
    final weights equal those of a run that never stopped."""
    from .run.train import resume as run_resume
    from .run.train import write_outputs

    run = run_resume(out, progress=progress, codegen=codegen)
    run.warnings = write_outputs(run, out)
    return run


def compile(model, target: str = "brian2", *, out=None, codegen=None, learning: bool = False):  # noqa: A001
    """What a model becomes on ``target``: (compiled, text). With ``out``, also write a standalone
    script (brian2 targets) and return the paths written as a third item. ``learning``: the graph
    that learns in spikes (what ``train`` runs on a spiking target) instead of the inference one."""
    model, spec_file = _model(model)
    engine = backends.get(target, codegen=codegen)
    base_dir = str(Path(spec_file).parent) if spec_file else None
    if learning and not engine.spiking:
        raise NeuromorphError(f"--learning compiles the graph that learns in spikes; {target} is not a spiking target "
                              "(it learns with `neuromorph train`)")
    compiled = engine.compile_learning(model, base_dir) if learning else engine.compile(model, base_dir=base_dir)
    text = engine.describe(compiled)
    written = engine.write_script(compiled, out) if out is not None else []
    return compiled, text, written


def compare(model, backends_: list | None = None, *, presentation_times=None, seeds: int = 1, profiles=None,
            out=None, progress=None, workers: int | None = None, scheduler: str | None = None):
    """Run a model on several backends with the same inputs and seeds (the reference always runs);
    with ``out``, write ``metrics.json``, ``report.md``, ``report.html`` and ``plots/`` there.
    ``workers``: run on a local Dask cluster of that many processes; ``scheduler``: on an existing
    cluster at that address (the numbers are the serial run's).

    Returns
    -------
    (neuromorph.compare.runner.Comparison, dict)
        The runs, and the ``metrics.json`` document.
    """
    from .compare import compare_and_report

    model, spec_file = _model(model)
    names = backends_ or backends.names()
    return compare_and_report(model, names, presentation_times, seeds, out, spec_file=spec_file, progress=progress,
                              profiles=profiles, workers=workers, scheduler=scheduler)


def compare_models(models: list, backends_: list | None = None, *, presentation_times=None, seeds: int = 1,
                   profiles=None, out=None, progress=None, workers: int | None = None, scheduler: str | None = None):
    """Compare several classification models of one task (paths or loaded specs), each on
    ``backends_``; with ``out``, write each model's report into ``out/<model>/`` and one report of
    them all into ``out`` (:mod:`neuromorph.compare.models`). Returns the combined document."""
    from .compare.models import compare_models as run

    loaded = [_model(m) for m in models]
    names = backends_ or backends.names()
    return run([m for m, _ in loaded], names, presentation_times, seeds, out, spec_files=[f for _, f in loaded],
               progress=progress, profiles=profiles, workers=workers, scheduler=scheduler)


def sweep(model, grid: list, backends_: list | None = None, *, seeds: int = 1, out, workers: int | None = None,
          scheduler: str | None = None, resume: bool = False, on_done=None, on_start=None,
          codegen: str | None = None) -> dict:
    """Run a model over a grid of spec values x backends x spiking seeds (:mod:`neuromorph.sweep`).

    Parameters
    ----------
    grid : list of str
        ``KEY=V1,V2,...`` texts, one per swept key (dotted spec paths).
    workers, scheduler
        A local Dask cluster of ``workers`` processes, or an existing one at ``scheduler``;
        neither: serially in this process.
    resume : bool
        Continue the sweep in ``out``, running only the runs whose outputs are missing.
    on_start, on_done : callable, optional
        Called with the number of runs once planned, and with each run's row as it ends.
    codegen : str, optional
        Brian2's code-generation target for the Brian2 backends (numpy, cython, cpp_standalone);
        compiled code is cached on disk per machine and shared by its workers.

    Returns
    -------
    dict
        The ``metrics.json`` document: one row per run.
    """
    from .sweep import sweep as run_sweep

    model, spec_file = _model(model)
    names = backends_ or backends.names()
    return run_sweep(model, grid, names, seeds=seeds, out=out, spec_file=spec_file, workers=workers,
                     scheduler=scheduler, resume=resume, on_done=on_done, on_start=on_start, codegen=codegen)


def deploy(manifest, out=None, *, progress=None):
    """Deploy a manifest (model, target, hardware profile, run settings): check the fit, run the
    target and the backends it is compared with, write the report to ``out``.

    Returns
    -------
    (Deployment, Comparison, dict)
    """
    from .compare.deploy import deploy as run_deploy

    return run_deploy(manifest, out, progress=progress)


def check(model, profile: str, *, build: bool = True):
    """Whether a model fits the chip of a hardware profile (every design rule, cores, chips); with
    ``build``, also the build of the profile's simulator backend. Returns a ``CheckReport``."""
    from .hardware import check as hw_check

    model, spec_file = _model(model)
    return hw_check.run(model, profile, base_dir=str(Path(spec_file).parent) if spec_file else None, build=build)


def info() -> dict:
    """Known model families, installed backends and hardware profiles."""
    from .hardware import profile_names

    found = {}
    for name in backends.names():
        try:
            engine = backends.get(name)
            found[name] = {"description": engine.description}
        except Exception as e:  # a broken plugin must not hide the others
            found[name] = {"description": f"cannot be loaded: {e}"}
    return {"families": families.names(), "backends": found, "hardware_profiles": profile_names()}


__all__ = ["load", "validate", "simulate", "train", "compile", "compare", "compare_models", "deploy", "check", "info",
           "SpecError"]
