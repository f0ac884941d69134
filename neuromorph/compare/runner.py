"""Run one model on several backends with the same inputs and seeds.

Every backend run is exactly what ``neuromorph simulate`` does (:func:`neuromorph.run.simulate.simulate`),
so the numbers a comparison reports are the numbers each backend's own run produces. Seeds:
the first run uses the spec's seeds; with ``seeds = N`` the spiking realization's seed
(``spiking.seed``) takes N values, so the data, the test split and the rate model stay the same.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import backends, families, spec
from ..errors import NeuromorphError
from ..run.provenance import data_hash
from ..run.simulate import simulate, with_overrides

#: Default presentation times (s) for classification models: 5 to 200 ms, the accuracy-latency
#: trade-off (with --profiles, energy per inference beside it).
PRESENTATIONS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


class CompareError(NeuromorphError):
    """A comparison that cannot run as asked."""


@dataclass
class Comparison:
    """Runs by backend: ``runs[backend][seed_index][presentation or None]`` -> Run."""

    model: object
    backends: list
    seeds: list
    presentations: list | None
    runs: dict = field(default_factory=dict)
    trained: dict | None = None  # where the rate model's weights came from, if trained here
    profiles: list = field(default_factory=list)  # hardware profiles for quantization and energy

    @property
    def classification(self) -> bool:
        return self.presentations is not None


def is_classification(model) -> bool:
    return families.of(model).classification(model)


def cache_dir() -> Path:
    return Path(os.environ.get("NEUROMORPH_CACHE", ".cache")) / "weights"


def ensure_weights(model, spec_file: str, progress=None):
    """The model with trained weights: its own file if present, else the rate model trained here
    once and cached by the spec's hash. Returns (model, note or None)."""
    base = str(Path(spec_file).parent) if spec_file else None
    if not families.of(model).needs_training(model, base):
        return model, None
    data = spec.to_data(model)
    data.pop("weights", None)
    path = cache_dir() / f"{model.name}-{data_hash(data)[:16]}.npz"
    if not path.exists():
        from ..run.train import train, write_outputs

        run = train(dataclasses.replace(model, weights=None), backends.reference(), progress=progress,
                    spec_file=spec_file)
        write_outputs(run, path.with_suffix(""))
        os.replace(path.with_suffix("") / "weights.npz", path)
    return dataclasses.replace(model, weights=str(path.resolve())), {"weights": str(path),
                                                                     "trained_by": backends.reference()}


def check_presentations(model, presentations) -> None:
    if presentations is not None and not is_classification(model):
        raise CompareError("--presentation-times applies to classification models (task.kind: digits)")


def with_spiking_seed(model, seed: int):
    if not hasattr(model, "spiking"):  # a graph read from a file: its backends' seed
        return dataclasses.replace(model, seed=seed)
    return dataclasses.replace(model, spiking=dataclasses.replace(model.spiking, seed=seed))


def reference(model) -> str:
    """The backend ``model``'s comparisons are measured against (its family's, else the rate model)."""
    return families.of(model).reference_backend(model) or backends.reference()


def check_backends(names: list, model) -> list:
    """The backend names, validated before anything runs (the reference first)."""
    for name in names:
        backends.get(name).check(model)
    ref = reference(model)
    ordered = [ref] + [n for n in names if n != ref]
    return list(dict.fromkeys(ordered))


def quantized_model(model, profile_name: str, spec_file: str):
    """The model with its weights quantized as ``profile_name``'s chip stores them (cached)."""
    from ..files import write_bytes_atomic
    from ..hardware import profile as hw_profile
    from ..hardware.quantize import quantized_weights

    prof = hw_profile.load(profile_name)
    base = str(Path(spec_file).parent) if spec_file else None
    weights = quantized_weights(model, prof, base)
    data = spec.to_data(model)
    path = cache_dir() / f"{model.name}-{data_hash(data)[:16]}-q-{prof.name}.npz"
    write_bytes_atomic(path, families.of(model).weights_bytes(model, weights, {"quantized_for": prof.name}))
    return dataclasses.replace(model, weights=str(path.resolve()))


def entries(model, names: list, profiles, spec_file: str) -> list:
    """(name in the report, backend, model) of every run: the backends, plus the rate model with
    quantized weights for each profile (models with trained weights)."""
    learns = families.of(model).learns
    ref = reference(model)
    quantized = [(f"{ref}-quantized:{p}", ref, quantized_model(model, p, spec_file))
                 for p in (profiles or [])] if learns else []
    return [(names[0], names[0], model)] + quantized + [(n, n, model) for n in names[1:]]


@dataclass(frozen=True)
class Job:
    """One run of a comparison: ``backend`` on ``model`` (its seed and presentation set)."""

    label: str
    seed_index: int
    presentation: float | None
    backend: str
    model: object
    spec_file: str


def run_job(job: Job):
    """A comparison's run on a worker: exactly ``neuromorph simulate`` (the Run comes back)."""
    return simulate(job.model, job.backend, spec_file=job.spec_file)


def compare(model, backend_names: list, presentations=None, seeds: int = 1, spec_file: str = "",
            progress=None, profiles=None, workers: int | None = None, scheduler: str | None = None) -> Comparison:
    """Run ``model`` on every backend (and on ``rate``, the reference) for each seed and, for
    classification models, each presentation time (s); with ``profiles``, also the rate model
    with each profile's weight quantization. ``workers`` / ``scheduler``: run on a local Dask
    cluster or an existing one (:mod:`neuromorph.sweep.execute`); the numbers are the serial run's."""
    from ..sweep.execute import check_options

    check_options(workers, scheduler)
    names = check_backends(backend_names, model)
    check_presentations(model, presentations)
    if is_classification(model) and presentations is None:
        presentations = list(PRESENTATIONS)
    model, trained = ensure_weights(model, spec_file)
    spiking = getattr(model, "spiking", None)
    base = spiking.seed if spiking is not None and spiking.seed is not None else model.seed
    seed_list = [base + k for k in range(seeds)]
    runs = entries(model, names, profiles, spec_file)
    result = Comparison(model=model, backends=[r[0] for r in runs], seeds=seed_list, presentations=presentations,
                        trained=trained, profiles=list(profiles or []))
    jobs = []
    for label, backend, m0 in runs:
        for k, seed in enumerate(seed_list):
            seeded = with_spiking_seed(m0, seed)
            for p in presentations or [None]:
                m = seeded if p is None else with_overrides(seeded, presentation=p, file=spec_file)
                jobs.append(Job(label, k, p, backend, m, spec_file))
    for job, run in zip(jobs, run_jobs(jobs, progress, workers, scheduler)):
        runs_of = result.runs.setdefault(job.label, [])
        if len(runs_of) <= job.seed_index:
            runs_of.append({})
        runs_of[job.seed_index][job.presentation] = run
    return result


def run_jobs(jobs: list, progress, workers, scheduler) -> list:
    """Every job's Run, in order: here (with a progress bar by steps) or on Dask; a run that
    fails there twice stops the comparison with its error."""
    if workers is None and scheduler is None:
        return [simulate(j.model, j.backend, progress=progress, spec_file=j.spec_file) for j in jobs]
    from functools import partial

    from ..run.simulate import simulation_steps
    from ..sweep.execute import executor, load_backends

    def arrived(outcome) -> None:
        if progress is not None:
            progress(simulation_steps(jobs[outcome.index].model))

    setup = partial(load_backends, tuple(dict.fromkeys(j.backend for j in jobs)))
    with executor(workers, scheduler, setup=setup) as run:
        outcomes = run.map(run_job, jobs, on_done=arrived)
    failed = [f"{jobs[o.index].label} (seed {jobs[o.index].seed_index + 1} of the seeds"
              + ("" if jobs[o.index].presentation is None else f", presentation {jobs[o.index].presentation:g} s")
              + f"): {o.error}" for o in outcomes if not o.ok]
    if failed:
        raise CompareError("runs failed twice: " + "; ".join(failed))
    return [o.value for o in outcomes]


def plan_steps(model, backend_names: list, presentations, seeds: int, profiles=None) -> int:
    """Model steps a comparison will simulate (for the progress bar)."""
    from ..run.simulate import simulation_steps

    names = check_backends(backend_names, model)
    check_presentations(model, presentations)
    presentations = presentations or (list(PRESENTATIONS) if is_classification(model) else None)
    total = 0
    for p in presentations or [None]:
        m = model if p is None else with_overrides(model, presentation=p)
        total += simulation_steps(m)
    extra = len(profiles or []) if families.of(model).learns else 0
    return total * (len(names) + extra) * seeds
