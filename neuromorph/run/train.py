"""The train pipeline: engine -> the family's task training -> weights, learning curve, summary."""

from __future__ import annotations

import json
import time as _time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import backends, families, spec
from ..errors import NeuromorphError
from ..files import staged_dir, write_bytes_atomic
from .provenance import data_hash, versions
from .simulate import json_default

if TYPE_CHECKING:
    from ..spec.nla import NLAModel

SUMMARY_FORMAT = "neuromorph.train-summary/1"


@dataclass
class TrainRun:
    """A finished training run: the model, the learned weights (and engine), the summary."""

    model: NLAModel  # the model of a learning family (nla is the one that learns)
    engine: object
    curve: list
    summary: dict

    @property
    def weights(self):
        return self.engine.weights


def train(model, backend: str = "rate", progress=None, spec_file: str = "", codegen: str | None = None) -> TrainRun:
    """Train a learning family's model from its seeded initial weights with its task's protocol."""
    family = families.of(model)
    if not family.learns:
        raise NeuromorphError(f"family {model.family!r} has no learning to run; `train` is for "
                              + ", ".join(n for n in families.names() if families.get(n).learns) + " models")
    simulator = backends.get(backend, codegen=codegen)
    simulator.check(model)
    engine = simulator.engine(model, weights=family.initial_weights(model))
    start = _time.perf_counter()
    curve, metrics = family.train(model, engine, progress=progress)
    wall = _time.perf_counter() - start
    data = spec.to_data(model)
    summary = {
        "format": SUMMARY_FORMAT,
        "model": model.name,
        "family": model.family,
        "spec_file": spec_file,
        "spec_sha256": data_hash(data),
        "backend": simulator.name,
        "seed": model.seed,
        "metrics": metrics,
        "curve": curve,
        "engine": dict(engine.stats),
        "wall_s": wall,
        "sample_steps_per_s": engine.stats["steps"] * engine.lanes / wall if wall > 0 else None,
        "versions": versions(simulator.versions()),
        "spec": data,
    }
    return TrainRun(model, engine, curve, summary)


def write_outputs(run: TrainRun, out) -> None:
    """``weights.npz``, ``learning_curve.png`` and ``summary.json`` into ``out``, all or nothing."""
    from .plots import plot_learning_curve

    family = families.of(run.model)
    meta = {"model": run.model.name, "spec_sha256": run.summary["spec_sha256"], "seed": run.model.seed,
            "metrics": {k: v for k, v in run.summary["metrics"].items() if k != "confusion"}}
    with staged_dir(out) as stage:
        write_bytes_atomic(stage / "weights.npz", family.weights_bytes(run.model, run.weights, meta))
        write_bytes_atomic(stage / "summary.json", json.dumps(run.summary, indent=2, default=json_default).encode())
        plot_learning_curve(run.model, run.curve, stage / "learning_curve.png")
