r"""``neuromorph sweep``: a grid over spec keys x backends x spiking seeds, run serially or on Dask.

Every task is one ``simulate`` run (the same function ``neuromorph simulate`` calls) that writes
its own outputs to ``OUT/runs/<name>/`` (``summary.json``, ``result.npz``, ``traces.png``). The
reference backend runs once per grid point; the other backends once per point and spiking seed
(``spiking.seed`` = seed, seed + 1, ...). When all tasks are done, ``OUT/metrics.json`` holds one
row per run, in the plan's order, with its parameters and metrics:

- classification models: ``accuracy`` and ``gap`` = reference accuracy - accuracy (same point);
- trajectory models: ``nrmse_vs_rate`` per recorded variable against the reference run of the
  same point, :math:`\sqrt{\langle (y - r)^2 \rangle} / \mathrm{std}(r)`, and their mean;
- every run: the model's own scalar metrics, spike count and mean rate, wall time.

A row's numbers depend only on its task (tasks run with BLAS on one thread), so they are the
same serially and on any number of workers. A failed task (after one retry) is a row with its
error. ``resume`` reuses every run whose outputs are complete and runs the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .. import backends, spec
from ..errors import NeuromorphError, SpecError
from ..run.provenance import data_hash
from . import grid
from .execute import Outcome, executor, load_backends

FORMAT = "neuromorph.sweep/1"
PLAN_FILE = "sweep.json"
RUN_FILES = ("result.npz", "summary.json", "traces.png")


class SweepError(NeuromorphError):
    """A sweep that cannot run as asked (the output folder, or a plan that does not match)."""


@dataclass(frozen=True)
class Task:
    """One run: the spec data of its grid point and seed, where its outputs go."""

    name: str
    index: int  # the grid point's
    point: dict
    backend: str
    seed: int
    data: dict
    spec_file: str
    out: str
    codegen: str | None = None  # Brian2's code-generation target, for the backends that generate code


@dataclass
class Plan:
    """A validated sweep: the model, its axes, backends, seeds and every task in order."""

    model: Any
    spec_file: str
    axes: list
    backends: list
    seeds: list
    tasks: list
    point_models: list  # the validated model of each grid point

    def document(self) -> dict:
        """What identifies the sweep (compared on ``--resume``)."""
        return {"format": FORMAT, "model": self.model.name, "spec_sha256": data_hash(spec.to_data(self.model)),
                "grid": {a.key: list(a.raw) for a in self.axes}, "backends": self.backends, "seeds": self.seeds,
                "runs": [t.name for t in self.tasks]}


def seeded_data(model, seed: int) -> dict:
    """Spec data with the spiking realization's seed set (the model's seed if it has no spiking section)."""
    from ..compare.runner import with_spiking_seed

    return spec.to_data(with_spiking_seed(model, seed))


def codegen_for(names: list, codegen: str | None) -> dict:
    """{backend: codegen or None}: the target goes to the backends that generate code (and must be
    one they know); the others run as they are."""
    out: dict = {}
    for name in names:
        try:
            backends.get(name, codegen=codegen)
            out[name] = codegen
        except backends.UnknownBackend as e:
            if "applies to the backends that generate code" not in str(e):
                raise
            out[name] = None
    return out


def plan(model, spec_file: str, grid_texts: list, backend_names: list, seeds: int, out,
         codegen: str | None = None) -> Plan:
    """Validate the grid, the backends and every grid point; list the tasks. Raises
    :class:`SpecError` or a :class:`NeuromorphError` before anything runs or is written.
    Models without weights are trained later (:func:`with_weights`)."""
    from ..compare.runner import check_backends, reference

    if getattr(model, "family", "") == "nir" or not hasattr(model, "seed"):
        raise SweepError("sweep takes a model spec (.yaml); a .nir file has no spec keys to sweep")
    if not grid_texts:
        raise SweepError("give at least one --grid KEY=V1,V2,...")
    data = spec.to_data(model)
    axes = grid.parse_axes(grid_texts, data, spec_file)
    models = grid.models(axes, data, spec_file)
    for m in models:
        check_backends(backend_names, m)
    names = check_backends(backend_names, model)
    ref = reference(model)
    spiking = getattr(model, "spiking", None)
    base = spiking.seed if spiking is not None and spiking.seed is not None else model.seed
    seed_list = [base + k for k in range(seeds)]
    targets = codegen_for(names, codegen) if codegen else dict.fromkeys(names)
    root = Path(out).resolve() / "runs"
    where = str(Path(spec_file).resolve()) if spec_file else ""
    tasks = []
    for index, (point, m) in enumerate(zip(grid.points(axes), models)):
        for backend in names:
            for seed in seed_list[:1] if backend == ref else seed_list:
                name = f"p{index:03d}-{backend}-s{seed}"
                tasks.append(Task(name, index, point, backend, seed, seeded_data(m, seed), where, str(root / name),
                                  targets[backend]))
    return Plan(model, spec_file, axes, names, seed_list, tasks, models)


def with_weights(p: Plan) -> Plan:
    """The plan with every grid point's weights: its own file, or the rate model trained here once
    per distinct spec and cached (as ``compare`` does)."""
    import dataclasses

    from ..compare.runner import ensure_weights

    trained = [ensure_weights(m, p.spec_file) for m in p.point_models]
    tasks = []
    for task in p.tasks:
        model, note = trained[task.index]
        tasks.append(task if note is None else dataclasses.replace(task, data={**task.data, "weights": model.weights}))
    return dataclasses.replace(p, tasks=tasks)


def run_task(task: Task) -> dict:
    """Run one task (in a worker or here), write its outputs, return its row."""
    from ..run.simulate import simulate, write_outputs

    model, problems = spec.validate_data(task.data, file=task.spec_file)
    if model is None:
        raise SpecError(problems)
    run = simulate(model, task.backend, spec_file=task.spec_file, codegen=task.codegen)
    write_outputs(run, task.out)
    return row(task, run.summary)


def row(task: Task, summary: dict) -> dict:
    """A run's row from its summary (the same for a fresh and a resumed run)."""
    from ..compare.metrics import spikes, task_metrics

    out = dict(identity(task), status="ok", metrics=task_metrics(summary), wall_s=summary["wall_s"])
    out.update(spikes(summary))
    return out


def identity(task: Task) -> dict:
    """What names a run in the table."""
    return {"run": task.name, "point": task.point, "backend": task.backend, "seed": task.seed}


def complete(task: Task) -> dict | None:
    """The row of a run whose outputs are all on disk and made from the task's spec, else None."""
    folder = Path(task.out)
    if not all((folder / f).is_file() for f in RUN_FILES):
        return None
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    if summary.get("spec_sha256") != data_hash(task.data) or summary.get("backend") != task.backend:
        return None
    return row(task, summary)


def check_folder(p: Plan, out, resume: bool) -> None:
    """On ``resume`` the saved plan must match; otherwise ``out`` must not hold a sweep yet."""
    folder = Path(out)
    saved = folder / PLAN_FILE
    if resume:
        if not saved.is_file():
            raise SweepError(f"--resume: {saved} does not exist (nothing to resume; run without --resume)")
        old = json.loads(saved.read_text())
        new = p.document()
        differ = [k for k in new if old.get(k) != new[k]]
        if differ:
            raise SweepError(f"--resume: the sweep in {folder} differs in {', '.join(differ)}; resume it with the "
                             "same model, grid, backends and seeds, or give another --out")
    elif (folder / "runs").exists() or saved.exists():
        raise SweepError(f"{folder} already holds a sweep; continue it with --resume or give another --out")


def start(p: Plan, out, resume: bool) -> None:
    """Create the output folder and its plan file (kept as it is on ``resume``)."""
    if not resume:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / PLAN_FILE).write_text(json.dumps(p.document(), indent=2))


def sweep(model, grid_texts: list, backend_names: list, *, seeds: int = 1, out, spec_file: str = "",
          workers: int | None = None, scheduler: str | None = None, resume: bool = False, on_done=None,
          on_start=None, codegen: str | None = None) -> dict:
    """Plan, run and tabulate a sweep; returns the ``metrics.json`` document (also written to
    ``out`` with ``report.md`` and ``plots/``). ``on_start(runs)`` is called with the number of
    runs once they are planned, ``on_done(row)`` as each run ends (or is found done, on resume)."""
    p = plan(model, spec_file, grid_texts, backend_names, seeds, out, codegen)
    check_folder(p, out, resume)
    p = with_weights(p)
    if on_start is not None:
        on_start(len(p.tasks))
    with executor(workers, scheduler, setup=partial(load_backends, tuple(p.backends))) as run:
        start(p, out, resume)
        rows: list = [complete(t) if resume else None for t in p.tasks]
        todo_at = [k for k, r in enumerate(rows) if r is None]
        todo = [p.tasks[k] for k in todo_at]
        for r in rows:
            if r is not None and on_done is not None:
                on_done(r)

        def arrived(outcome: Outcome) -> None:
            if on_done is not None:
                on_done(outcome.value if outcome.ok else {"status": "failed"})

        outcomes = run.map(run_task, todo, on_done=arrived)
    for k, task, outcome in zip(todo_at, todo, outcomes):
        rows[k] = outcome.value if outcome.ok else failed_row(task, outcome.error)
    doc = document(p, rows, resumed=len(p.tasks) - len(todo))
    write(doc, p, out)
    return doc


def failed_row(task: Task, error: str | None) -> dict:
    return dict(identity(task), status="failed", error=error)


def document(p: Plan, rows: list, resumed: int = 0) -> dict:
    from ..compare.runner import is_classification, reference
    from ..run.provenance import versions

    classification = is_classification(p.model)
    ref = reference(p.model)
    add_comparisons(p, rows, ref, classification)
    return {"format": FORMAT, "model": p.model.name, "family": p.model.family, "spec_file": p.spec_file,
            "kind": "classification" if classification else "trajectory",
            "metric": "accuracy" if classification else "nrmse_vs_rate",
            "grid": {a.key: list(a.values) for a in p.axes}, "backends": p.backends, "seeds": p.seeds,
            "reference": ref, "runs": len(rows), "failed": sum(r["status"] != "ok" for r in rows),
            "resumed": resumed, "rows": rows, "versions": versions()}


def add_comparisons(p: Plan, rows: list, ref: str, classification: bool) -> None:
    """Each row's accuracy and gap, or nrmse against the reference run of the same grid point."""
    from ..compare.metrics import trajectory

    refs = {t.index: (t, r) for t, r in zip(p.tasks, rows) if r["backend"] == ref and r["status"] == "ok"}
    ref_traces: dict = {}  # each reference run's traces, read once
    for task, r in zip(p.tasks, rows):
        if r["status"] != "ok":
            continue
        found = refs.get(task.index)
        if classification:
            r["accuracy"] = r["metrics"].get("accuracy")
            base = None if found is None else found[1]["metrics"].get("accuracy")
            r["gap"] = None if base is None or r["accuracy"] is None else base - r["accuracy"]
        elif found is not None:
            if task.index not in ref_traces:
                ref_traces[task.index] = traces_of(found[0].out)
            r["nrmse_vs_rate"] = trajectory(ref_traces[task.index], traces_of(task.out))["nrmse_vs_rate"]
            values = [v for v in r["nrmse_vs_rate"].values() if v is not None]
            r["nrmse_mean"] = float(np.mean(values)) if values else None


def traces_of(folder: str):
    """A run's recorded traces from its ``result.npz`` (what :func:`~neuromorph.compare.metrics.trajectory` reads)."""
    with np.load(Path(folder) / "result.npz") as f:
        return _Traces({k: f[k] for k in f.files if k != "t"})


@dataclass
class _Traces:
    traces: dict


def write(doc: dict, p: Plan, out) -> None:
    from ..files import write_bytes_atomic
    from ..run.simulate import json_default
    from .report import markdown, plots

    folder = Path(out)
    write_bytes_atomic(folder / "metrics.json", json.dumps(doc, indent=2, default=json_default).encode())
    written = plots(doc, folder / "plots")
    write_bytes_atomic(folder / "report.md", markdown(doc, written).encode())

