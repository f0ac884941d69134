"""The train pipeline: engine -> the family's task, unit by unit -> weights, learning curve, summary.

With an output folder, a checkpoint (``checkpoint.npz``: weights, the lanes' state, where training
stands) is written after every unit (epoch or evaluation interval), so a run that is interrupted
or fails loses at most one unit; ``resume(out)`` continues from it and gives the same final
weights as a run that never stopped. At the end ``weights.npz`` and ``summary.json`` are written
first, then the learning-curve plot (a failure there keeps the results), then the checkpoint goes.
"""

from __future__ import annotations

import io
import json
import platform
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends, families, spec
from ..errors import NeuromorphError
from ..files import write_bytes_atomic
from .provenance import data_hash, versions
from .simulate import json_default

SUMMARY_FORMAT = "neuromorph.train-summary/1"
CHECKPOINT = "checkpoint.npz"
CHECKPOINT_FORMAT = "neuromorph.train-checkpoint/1"


class TrainingFailed(NeuromorphError):
    """Training stopped with an error; the message says what failed and what was kept."""

    exit_code = 1


@dataclass
class TrainRun:
    """A finished training run: the model, the learned weights (and engine), the summary."""

    model: Any
    engine: Any
    curve: list
    summary: dict
    warnings: list = field(default_factory=list)

    @property
    def weights(self):
        return self.engine.weights


def _arrays_json(value, arrays: dict, key: str):
    """Task state as JSON with its arrays set aside (``{"__array__": key}``)."""
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, dict):
        return {k: _arrays_json(v, arrays, f"{key}.{k}") for k, v in value.items()}
    return value


def _restore_arrays(value, arrays):
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            return np.array(arrays[value["__array__"]])
        return {k: _restore_arrays(v, arrays) for k, v in value.items()}
    return value


def write_checkpoint(out, model, backend: str, engine, state, wall_s: float) -> Path:
    """``out/checkpoint.npz``: the weights, the lanes' state and the training state (atomically)."""
    family = families.of(model)
    arrays: dict = {}
    meta = {"format": CHECKPOINT_FORMAT, "spec": spec.to_data(model), "backend": backend, "unit": state.unit,
            "units": family.trainer(model).train_units(), "curve": state.curve, "before": state.before,
            "extra": _arrays_json(state.extra, arrays, "extra"), "wall_s": wall_s, "stats": dict(engine.stats),
            "learning": getattr(engine, "learning", None)}
    for key, value in engine.state_arrays().items():
        arrays[f"lanes.{key}"] = value
    arrays["weights"] = np.frombuffer(family.weights_bytes(model, engine.weights, {}), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta, default=json_default)), **arrays)
    path = Path(out) / CHECKPOINT
    write_bytes_atomic(path, buf.getvalue())
    return path


def read_checkpoint(out) -> dict:
    """What :func:`write_checkpoint` wrote in ``out`` (raises NeuromorphError if there is none)."""
    path = Path(out) / CHECKPOINT
    if not path.is_file():
        raise NeuromorphError(f"{out}: no training checkpoint ({CHECKPOINT}) to resume from")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError) as e:
        raise NeuromorphError(f"{path}: not a readable training checkpoint ({e})") from None
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise NeuromorphError(f"{path}: not a training checkpoint of this neuromorph (format {meta.get('format')!r})")
    meta["arrays"] = arrays
    return meta


def train(model, backend: str = "rate", progress=None, spec_file: str = "", codegen: str | None = None,
          out=None, resume: bool = False) -> TrainRun:
    """Train a learning family's model from its seeded initial weights with its task's protocol.

    ``out``: folder for the checkpoint written after every unit; ``resume``: continue from the
    checkpoint there."""
    from ..tasks import Training, run_training

    family = families.of(model)
    if not family.learns:
        raise NeuromorphError(f"family {model.family!r} has no learning to run; `train` is for "
                              + ", ".join(n for n in families.names() if families.get(n).learns) + " models")
    simulator = backends.get(backend, codegen=codegen)
    simulator.check(model)
    traits = simulator.traits() if simulator.spiking else None  # type: ignore[attr-defined]
    rules = traits.learning_rules if traits is not None else frozenset()
    family.check_training(model, simulator.name, traits)
    task = family.trainer(model)
    state, spent = None, 0.0
    if resume:
        saved = read_checkpoint(out)
        weights = family.read_weights(model, io.BytesIO(saved["arrays"]["weights"].tobytes()))
        engine = simulator.engine(model, weights=weights)
        engine.load_state_arrays({k.split(".", 1)[1]: v for k, v in saved["arrays"].items() if k.startswith("lanes.")})
        engine.stats.update(saved.get("stats") or {})  # counts so far
        if saved.get("learning") is not None:
            engine.learning = saved["learning"]
        state = Training(unit=saved["unit"], curve=saved["curve"], before=saved["before"],
                         extra=_restore_arrays(saved["extra"], saved["arrays"]))
        spent = saved["wall_s"]
    else:
        base_dir = Path(spec_file).parent if spec_file else None
        start = (family.spiking_initial_weights(model, base_dir, rules) if simulator.spiking
                 else family.initial_weights(model))
        engine = simulator.engine(model, weights=start)
    resumed_at = state.unit if state is not None else None
    start = _time.perf_counter()

    def checkpoint(current):
        if out is not None:
            write_checkpoint(out, model, simulator.name, engine, current, spent + _time.perf_counter() - start)

    try:
        with single_threaded_blas():
            curve, metrics = run_training(task, engine, progress, state, after_unit=checkpoint)
    except NeuromorphError:
        raise
    except KeyboardInterrupt:
        if out is None or not (Path(out) / CHECKPOINT).is_file():
            raise
        raise TrainingFailed(failure_message(None, out, task.train_units())) from None
    except Exception as e:  # a failure inside the engine or the task: say what, and what was kept
        raise TrainingFailed(failure_message(e, out, task.train_units())) from e
    wall = spent + _time.perf_counter() - start
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
        "resumed_at_unit": resumed_at,
        "wall_s": wall,
        "sample_steps_per_s": engine.stats["steps"] * engine.lanes / wall if wall > 0 else None,
        "versions": versions(simulator.versions()),
        "spec": data,
    }
    learned = getattr(engine, "learning_graph", None)
    if learned is not None:  # what the compiler changed in the network that learned in spikes
        summary["substitutions"] = [s.as_dict() for s in learned.substitutions]
    account = engine.learning_account() if hasattr(engine, "learning_account") else None
    if account is not None:
        summary["learning"] = learning_summary(model, account, learned)
    return TrainRun(model, engine, curve, summary)


#: The hardware profile the energy of learning is estimated on.
LEARNING_PROFILE = "loihi1"


def learning_summary(model, account: dict, graph) -> dict:
    """``summary.json``'s ``learning``: plastic synapses, updates (per second of learning), and the
    energy of learning on :data:`LEARNING_PROFILE` (spiking runs; the rate model learns on the host)."""
    from ..hardware import energy, profile

    out = dict(account)
    seconds = account["learning_s"]
    out["updates_per_s"] = account["updates"] / seconds if seconds > 0 else None
    if graph is None:
        out["energy"] = {"profile": LEARNING_PROFILE, "energy_j": None,
                         "why": "the rate model learns on the host, not in spikes"}
    else:
        out["energy"] = energy.learning_energy(model, account, graph, profile.load(LEARNING_PROFILE))
    return out


def single_threaded_blas():
    """BLAS on one thread while training: the result then does not depend on the machine's core
    count (different thread counts split sums differently), only on its BLAS kernels. The
    networks' matrices are small, so one thread costs little."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def failure_message(error: Exception | None, out, units: int) -> str:
    what = "training was interrupted" if error is None else f"training failed: {type(error).__name__}: {error}"
    if out is None:
        return what + " (nothing was kept: give an output folder to keep a checkpoint after every epoch)"
    path = Path(out) / CHECKPOINT
    if not path.is_file():
        return what + " (before the first epoch ended: nothing was kept)"
    done = read_checkpoint(out)["unit"]
    return (what + f"; kept {path} after {done} of {units} epochs (or evaluation intervals); continue with "
            f"`neuromorph train --resume {out}`")


def resume(out, backend: str | None = None, progress=None, spec_file: str = "", codegen: str | None = None):
    """Continue the interrupted training run in ``out`` (its model and backend from the checkpoint)."""
    saved = read_checkpoint(out)
    model, problems = spec.validate_data(saved["spec"], file=str(Path(out) / CHECKPOINT))
    if model is None:
        from ..errors import SpecError

        raise SpecError(problems)
    return train(model, backend or saved["backend"], progress, spec_file, codegen, out=out, resume=True)


def write_outputs(run: TrainRun, out) -> list:
    """``weights.npz`` and ``summary.json`` into ``out`` (each atomically), then
    ``learning_curve.png``; the checkpoint is removed once the results are safe. Returns the
    warnings (a plot that could not be drawn does not lose the results)."""
    from .plots import plot_learning_curve

    out = Path(out)
    family = families.of(run.model)
    meta = {"model": run.model.name, "spec_sha256": run.summary["spec_sha256"], "seed": run.model.seed,
            "metrics": {k: v for k, v in run.summary["metrics"].items() if k != "confusion"},
            "training": {"backend": run.summary["backend"], "wall_s": run.summary["wall_s"],
                         "sample_steps_per_s": run.summary["sample_steps_per_s"],
                         "cpu": platform.processor() or platform.machine()}}
    write_bytes_atomic(out / "weights.npz", family.weights_bytes(run.model, run.weights, meta))
    write_bytes_atomic(out / "summary.json", json.dumps(run.summary, indent=2, default=json_default).encode())
    warnings = []
    try:
        staged = out / ".learning_curve.partial.png"
        plot_learning_curve(run.model, run.curve, staged)
        staged.replace(out / "learning_curve.png")
    except Exception as e:  # the results are written; a plot is not worth losing them
        warnings.append(f"could not draw learning_curve.png ({type(e).__name__}: {e}); weights.npz and "
                        "summary.json are written")
        (out / ".learning_curve.partial.png").unlink(missing_ok=True)
    (out / CHECKPOINT).unlink(missing_ok=True)
    return warnings
