"""The public Python API, mirroring the command line (for notebooks and scripts)."""

from __future__ import annotations

from pathlib import Path

from . import backends, spec
from .errors import SpecError


def load(path):
    """Load and validate a model spec (YAML/JSON); raises :class:`SpecError` listing every problem."""
    return spec.load(path)


def validate(path) -> list:
    """All problems (errors and warnings) in a spec file; an empty list when it is clean."""
    return spec.validate_file(path)[1]


def simulate(model, backend: str = "rate", *, duration=None, dt=None, seed=None, presentation=None, out=None,
             progress=None):
    """Simulate a model (a path or a loaded model) on a backend.

    Parameters
    ----------
    model : str, Path or model IR
    backend : str
        A name from :func:`info` ``['backends']``.
    duration, dt : float, optional
        Override the spec's ``time.duration`` / ``time.dt`` (seconds).
    seed : int, optional
        Override the spec's ``seed``.
    presentation : float, optional
        Override ``task.presentation`` (s): how long each image is shown (digits models).
    out : path, optional
        Also write ``result.npz``, ``summary.json`` and ``traces.png`` there.

    Returns
    -------
    neuromorph.run.simulate.Run
        ``.result.t``, ``.result.traces``, ``.summary``.
    """
    from .run.simulate import simulate as run_simulate
    from .run.simulate import with_overrides, write_outputs

    spec_file = ""
    if isinstance(model, (str, Path)):
        spec_file = str(model)
        model = spec.load(model)
    model = with_overrides(model, duration, dt, seed, file=spec_file, presentation=presentation)
    run = run_simulate(model, backend, progress=progress, spec_file=spec_file)
    if out is not None:
        write_outputs(run, out)
    return run


def train(model, backend: str = "rate", *, seed=None, out=None, progress=None):
    """Learn an NLA model's weights from its seed with its task (see ``neuromorph train``).

    Returns
    -------
    neuromorph.run.train.TrainRun
        ``.weights``, ``.curve``, ``.summary`` (metrics such as ``accuracy``).
    """
    from .run.simulate import with_overrides
    from .run.train import train as run_train
    from .run.train import write_outputs

    spec_file = ""
    if isinstance(model, (str, Path)):
        spec_file = str(model)
        model = spec.load(model)
    model = with_overrides(model, seed=seed, file=spec_file)
    run = run_train(model, backend, progress=progress, spec_file=spec_file)
    if out is not None:
        write_outputs(run, out)
    return run


def info() -> dict:
    """Known model families, installed backends and hardware profiles."""
    from .hardware import profile_names

    found = {}
    for name in backends.names():
        try:
            engine = backends.get(name)
            found[name] = {"description": engine.description, "families": list(engine.families)}
        except Exception as e:  # a broken plugin must not hide the others
            found[name] = {"description": f"cannot be loaded: {e}", "families": []}
    return {"families": list(spec.FAMILIES), "backends": found, "hardware_profiles": profile_names()}


__all__ = ["load", "validate", "simulate", "train", "info", "SpecError"]
