"""The simulate pipeline: overrides -> backend -> result -> summary -> files."""

from __future__ import annotations

import io
import json
import time as _time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import backends, spec
from ..errors import Problem, SpecError
from ..families import bm
from .files import staged_dir, write_bytes_atomic
from .provenance import data_hash, versions

SUMMARY_FORMAT = "neuromorph.summary/1"
#: Populations larger than this are summarized by statistics, not listed value by value.
LIST_LIMIT = 100


@dataclass
class Run:
    """A finished run: the model as run, the backend's result and the summary."""

    model: object
    result: object
    summary: dict


def with_overrides(model, duration=None, dt=None, seed=None, file: str = "", presentation=None):
    """The model with command-line overrides applied and re-validated (raises SpecError).

    ``duration`` and ``dt`` go where the family keeps them (``OVERRIDES`` of its spec module);
    ``presentation`` (s) is the time each image is shown (classification tasks only).
    """
    if duration is None and dt is None and seed is None and presentation is None:
        return model
    data = spec.to_data(model)
    if presentation is not None:
        if model.family != "nla" or model.task.kind != "digits":
            raise SpecError([Problem(f"--presentation applies to classification models (task.kind: digits), "
                                     f"not to this {model.family} model", "task.presentation", file)])
        data["task"]["presentation"] = presentation
    where = spec.family_module(model.family).OVERRIDES
    for key, value in (("duration", duration), ("dt", dt)):
        if value is not None:
            section, name = where[key]
            data[section][name] = value
    if seed is not None:
        data["seed"] = seed
    new, problems = spec.validate_data(data, file=file)
    if new is None:
        raise SpecError(problems)
    return new


def simulation_steps(model) -> int:
    """Steps a simulate run takes (for progress bars)."""
    if model.family == "bm":
        from ..spec.checks import steps

        return steps(model.time.duration, model.time.dt) or 0
    from ..tasks import make_task

    return make_task(model).eval_steps()


def simulate(model, backend: str = "rate", progress=None, spec_file: str = "") -> Run:
    """Run ``model`` on ``backend`` and build its summary (relative paths in the spec are taken
    from the spec file's folder)."""
    engine = backends.get(backend)
    engine.check(model)
    base_dir = str(Path(spec_file).parent) if spec_file else None
    start = _time.perf_counter()
    result = engine.simulate(model, progress=progress, base_dir=base_dir)
    wall = _time.perf_counter() - start
    return Run(model, result, summarize(model, result, engine, wall, spec_file))


def _values(array) -> object:
    array = np.asarray(array, dtype=float)
    if array.ndim == 0:
        return float(array)
    if array.size <= LIST_LIMIT:
        return array.tolist()
    return {"n": int(array.size), "mean": float(array.mean()), "std": float(array.std()),
            "min": float(array.min()), "max": float(array.max())}


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
        "final": {k: _values(v[-1]) for k, v in result.traces.items()},
        "all_finite": all(finite.values()),
        "backend_info": result.info,
        "metrics": result.metrics,
        "wall_s": wall_s,
        "versions": versions(engine.versions()),
        "spec": data,
    }
    if model.family == "bm":
        summary["analysis"] = bm_analysis(model)
    return summary


def bm_analysis(model) -> dict:
    """For a constant input: the analytic fixed point (Eq 31, with the model's Hebbian sign)."""
    s = model.inputs.s
    if isinstance(s, str) or isinstance(s, tuple) and any(isinstance(v, str) for v in s):
        return {"fixed_point": None, "note": "input is time-varying: no fixed point"}
    system = bm.resolve(model)
    s_inf = np.asarray(s, dtype=float)
    fp = bm.fixed_point(s_inf, system.params)
    return {"fixed_point": {k: _values(v if model.population else np.asarray(v)[0]) for k, v in fp.items()}}


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
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
