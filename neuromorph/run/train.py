"""The train pipeline (NLA): engine -> task.train -> weights, learning curve, summary."""

from __future__ import annotations

import json
import time as _time
from dataclasses import dataclass

from .. import backends, spec
from ..families.nla.network import weights_bytes
from ..tasks import make_task
from .files import staged_dir, write_bytes_atomic
from .provenance import data_hash, versions
from .simulate import json_default

SUMMARY_FORMAT = "neuromorph.train-summary/1"


@dataclass
class TrainRun:
    """A finished training run: the model, the learned weights (and engine), the summary."""

    model: object
    engine: object
    curve: list
    summary: dict

    @property
    def weights(self):
        return self.engine.weights


def train(model, backend: str = "rate", progress=None, spec_file: str = "") -> TrainRun:
    """Train an NLA model from its seeded initial weights with its task's protocol."""
    engine_factory = backends.get(backend)
    engine_factory.check(model)
    if model.family != "nla":
        raise backends.UnknownBackend(f"only NLA models learn; {model.name!r} is family {model.family!r}")
    from ..families.nla import init_weights, structure

    engine = engine_factory.nla_engine(model, weights=init_weights(model, structure(model)))
    task = make_task(model)
    start = _time.perf_counter()
    curve, metrics = task.train(engine, progress=progress)
    wall = _time.perf_counter() - start
    data = spec.to_data(model)
    summary = {
        "format": SUMMARY_FORMAT,
        "model": model.name,
        "family": model.family,
        "spec_file": spec_file,
        "spec_sha256": data_hash(data),
        "backend": engine_factory.name,
        "seed": model.seed,
        "metrics": metrics,
        "curve": curve,
        "engine": dict(engine.stats),
        "wall_s": wall,
        "sample_steps_per_s": engine.stats["steps"] * engine.lanes / wall if wall > 0 else None,
        "versions": versions(engine_factory.versions()),
        "spec": data,
    }
    return TrainRun(model, engine, curve, summary)


def write_outputs(run: TrainRun, out) -> None:
    """``weights.npz``, ``learning_curve.png`` and ``summary.json`` into ``out``, all or nothing."""
    from .plots import plot_learning_curve

    meta = {"model": run.model.name, "spec_sha256": run.summary["spec_sha256"], "seed": run.model.seed,
            "metrics": {k: v for k, v in run.summary["metrics"].items() if k != "confusion"}}
    with staged_dir(out) as stage:
        write_bytes_atomic(stage / "weights.npz", weights_bytes(run.weights, run.engine.st, meta))
        write_bytes_atomic(stage / "summary.json", json.dumps(run.summary, indent=2, default=json_default).encode())
        plot_learning_curve(run.model, run.curve, stage / "learning_curve.png")
