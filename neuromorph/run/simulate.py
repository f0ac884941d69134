"""The simulate pipeline: overrides -> backend -> result -> summary -> files."""

from __future__ import annotations

import io
import json
import time as _time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import backends, families, spec
from ..errors import Problem, SpecError
from ..files import staged_dir, write_bytes_atomic
from ..records import Result, summary_values
from .provenance import data_hash, versions

SUMMARY_FORMAT = "neuromorph.summary/1"


@dataclass
class Run:
    """A finished run: the model as run, the backend's result and the summary."""

    model: object
    result: Result
    summary: dict


def with_overrides(model, duration=None, dt=None, seed=None, file: str = "", presentation=None):
    """The model with command-line overrides applied and re-validated (raises SpecError).

    ``duration``, ``dt`` and ``presentation`` (s, classification tasks only) go where the family
    keeps them (:meth:`~neuromorph.families.base.Family.override_paths`).
    """
    if duration is None and dt is None and seed is None and presentation is None:
        return model
    paths = families.of(model).override_paths(model)
    for key, value in (("duration", duration), ("dt", dt)):
        if value is not None and key not in paths:
            raise SpecError([Problem(f"--{key} does not apply to {model.family} models", "", file)])
    if seed is not None and not paths:
        raise SpecError([Problem(f"--seed does not apply to {model.family} models", "", file)])
    if presentation is not None and "presentation" not in paths:
        raise SpecError([Problem(f"--presentation applies to classification models (task.kind: digits), "
                                 f"not to this {model.family} model", "task.presentation", file)])
    data = spec.to_data(model)
    for key, value in (("duration", duration), ("dt", dt), ("presentation", presentation)):
        if value is not None:
            section, name = paths[key]
            data[section][name] = value
    if seed is not None:
        data["seed"] = seed
    new, problems = spec.validate_data(data, file=file)
    if new is None:
        raise SpecError(problems)
    return new


def simulation_steps(model) -> int:
    """Steps a simulate run takes (for progress bars)."""
    return families.of(model).simulation_steps(model)


def simulate(model, backend: str = "rate", progress=None, spec_file: str = "", codegen: str | None = None) -> Run:
    """Run ``model`` on ``backend`` and build its summary (relative paths in the spec are taken
    from the spec file's folder)."""
    engine = backends.get(backend, codegen=codegen)
    engine.check(model)
    base_dir = str(Path(spec_file).parent) if spec_file else None
    start = _time.perf_counter()
    result = engine.simulate(model, progress=progress, base_dir=base_dir)
    wall = _time.perf_counter() - start
    return Run(model, result, summarize(model, result, engine, wall, spec_file))


def summarize(model, result, engine, wall_s: float, spec_file: str = "") -> dict:
    data = spec.to_data(model)
    finite = {k: bool(np.isfinite(v).all()) for k, v in result.traces.items()}
    summary = {
        "format": SUMMARY_FORMAT,
        "model": model.name,
        "family": model.family,
        "spec_file": spec_file,
        "spec_sha256": data_hash(data),
        "backend": engine.name,
        "seed": model.seed,
        "final": {k: summary_values(v[-1]) for k, v in result.traces.items()},
        "all_finite": all(finite.values()),
        "backend_info": result.info.as_dict(),
        "metrics": result.metrics,
        "wall_s": wall_s,
        "versions": versions(engine.versions()),
        "spec": data,
    }
    summary.update(families.of(model).summary_extras(model))
    return summary


def write_outputs(run: Run, out) -> None:
    """Write ``result.npz``, ``summary.json`` and ``traces.png`` into ``out``, all or nothing."""
    from .plots import plot_traces

    with staged_dir(out) as stage:
        buf = io.BytesIO()
        np.savez_compressed(buf, t=run.result.t, **run.result.traces)
        write_bytes_atomic(stage / "result.npz", buf.getvalue())
        text = json.dumps(run.summary, indent=2, default=json_default)
        write_bytes_atomic(stage / "summary.json", text.encode())
        plot_traces(run.model, run.result, stage / "traces.png")


def json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
