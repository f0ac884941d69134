"""The ``neuromorph`` command: a thin layer over :mod:`neuromorph.api`.

Exit status: 0 success, 1 a run failed, 2 bad input (spec, options, names). Problems are
printed one per line as ``error: FILE:LINE: KEY.PATH: message``, with no traceback, and a
command that fails on bad input writes nothing.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import NeuromorphError, SpecError

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
DEFAULT_COMPARE = "rate,brian2,brian2-spiking,nengo,loihi"


def _print_problems(problems) -> None:
    for p in problems:
        click.echo(f"{p.severity}: {p}", err=True)


def _fail(message: str, code: int = EXIT_BAD_INPUT):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _load(path, nir_options: dict | None = None):
    """Load a spec (or a .nir file, with ``nir_options``: input, dt, integration), printing
    warnings; on errors print them all and exit 2."""
    from . import spec
    from .families.nir import is_nir

    if is_nir(path):
        from .api import load_nir

        try:
            return load_nir(path, **(nir_options or {}))
        except NeuromorphError as e:
            _fail(str(e))
    for key, value in (nir_options or {}).items():
        if value is not None:
            _fail(f"--{'nir-dt' if key == 'dt' else key} applies to .nir files, not to {path}")
    model, problems = spec.validate_file(path)
    _print_problems(problems)
    if model is None:
        n = sum(p.severity == "error" for p in problems)
        _fail(f"{path}: {n} problem{'s' if n != 1 else ''}; nothing was run")
    return model


@contextmanager
def _reported(debug: bool):
    """Turn neuromorph errors into messages and exit codes (tracebacks only with --debug)."""
    try:
        yield
    except SpecError as e:
        _print_problems(e.problems)
        _fail(f"{len(e.errors)} problem(s); nothing was run")
    except NeuromorphError as e:
        if debug:
            raise
        _fail(str(e), getattr(e, "exit_code", EXIT_BAD_INPUT))
    except KeyboardInterrupt:
        _fail("interrupted; no partial output was kept", EXIT_FAILED)
    except Exception as e:  # a failure inside a simulator: say what, keep the traceback for --debug
        if debug:
            raise
        _fail(f"the run failed: {type(e).__name__}: {e} (rerun with --debug for the traceback)", EXIT_FAILED)


@contextmanager
def _progress_bar(enabled: bool, total: int, label: str):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="step", disable=not enabled, file=sys.stderr, leave=False)
    try:
        yield bar.update
    finally:
        bar.close()

def _nir_options(f):
    """--input, --nir-dt and --integration: how a .nir file is driven and stepped."""
    f = click.option("--integration", type=click.Choice(["euler", "exponential"]),
                     help=".nir files: how continuous-time nodes are stepped (default: the file's, else euler, as "
                          "snnTorch, Norse, Lava and SpiNNaker 2 do).")(f)
    f = click.option("--nir-dt", type=float, help=".nir files: the step (s) the file is read with (default: its "
                                                  "neuromorph.dt, else 1e-4 s, snnTorch's and Lava's).")(f)
    return click.option("--input", "input_file", type=click.Path(dir_okay=False),
                        help=".nir files: IN.npz with dt (s) and one array (steps, n) of spike counts per input "
                             "node, named as the node.")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="neuromorph")
def main():
    """Specify a rate model of learning once; run it as rate ground truth, in Brian2, Nengo
    and on Loihi, and measure what the spikes cost."""


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
def validate(model):
    """Check a model spec (or a .nir file); print every problem; exit 2 if any is an error."""
    ir = _load(model)
    if getattr(ir, "family", "") == "nir":
        from .families.nir import run_of

        graph = run_of(ir)[0].graph
        click.echo(f"{model}: valid NIR graph, {len(graph.nodes)} nodes, {len(graph.edges)} edges "
                   f"(read at dt = {graph.dt:g} s)")
        return
    click.echo(f"{model}: valid")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--backend", "-b", default="rate", show_default=True, help="Backend name (see `neuromorph info`).")
@click.option("--duration", type=float,
              help="Override the simulated time (s): time.duration (bm), task.duration (nla).")
@click.option("--dt", type=float, help="Override the step (s): time.dt (bm), dynamics.dt (nla).")
@click.option("--seed", type=int, help="Override the spec's seed.")
@click.option("--presentation", type=float, help="Override task.presentation (s), digits models: time per image.")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--codegen", help="Brian2 code-generation target: numpy (default), cython, cpp_standalone.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
@_nir_options
def simulate(model, backend, duration, dt, seed, presentation, out, codegen, progress, debug, input_file, nir_dt,
             integration):
    """Run MODEL on a backend; write OUT/result.npz, OUT/summary.json, OUT/traces.png. MODEL may
    be a .nir file (with --input IN.npz): OUT/result.npz then holds t, spikes.<output> and
    v.<output> for every output node."""
    from . import api, backends, families
    from .run.simulate import simulation_steps, with_overrides

    ir = _load(model, {"input": input_file, "dt": nir_dt, "integration": integration})
    if getattr(ir, "family", "") == "nir":
        model = ir
    with _reported(debug):
        backends.get(backend, codegen=codegen)  # unknown names and options fail before anything runs
        steps = simulation_steps(with_overrides(ir, duration, dt, seed, file=model, presentation=presentation))
        with _progress_bar(_show(progress), steps, f"{ir.name} [{backend}]") as update:
            run = api.simulate(model, backend, duration=duration, dt=dt, seed=seed, presentation=presentation,
                               out=out, progress=update, codegen=codegen)
    s = run.summary
    simulated = float(run.result.t[-1]) if len(run.result.t) else 0.0
    click.echo(f"{ir.name}: {backend} ran {simulated:g} s in {s['wall_s']:.2f} s wall -> {out}")
    for name, value in s["metrics"].items():
        if isinstance(value, float):
            click.echo(f"  {name} = {value:.4g}")
    for line in families.of(ir).console_lines(s):
        click.echo(f"  {line}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False), required=False)
@click.option("--backend", "-b", default="rate", show_default=True,
              help="Backend that runs the learning; several (rate,nengo,loihi) train into OUT/<backend>/ each and "
                   "OUT gets a report of them side by side, the reference (rate) first.")
@click.option("--seed", type=int, help="Override the spec's seed.")
@click.option("--out", "-o", type=click.Path(file_okay=False), help="Output folder (a checkpoint is kept there "
                                                                  "after every epoch).")
@click.option("--resume", "resume_dir", type=click.Path(file_okay=False),
              help="Continue the interrupted or failed run in this folder from its last checkpoint.")
@click.option("--codegen", help="Brian2 code-generation target: numpy (default), cython.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
def train(model, backend, seed, out, resume_dir, codegen, progress, debug):
    """Learn MODEL's weights from its seed; write OUT/weights.npz, OUT/learning_curve.png,
    OUT/summary.json. A spec's `weights:` can point to OUT/weights.npz afterwards. With
    --resume DIR, continue an interrupted run (MODEL may be left out: the checkpoint holds it).
    With several backends, each trains into OUT/<backend>/ and OUT gets report.md, report.html
    and learning_curves.png: curves side by side, synaptic updates, energy of learning."""
    from . import api, backends, families

    if resume_dir is None and (model is None or out is None):
        _fail("give MODEL and --out OUT, or --resume DIR to continue an interrupted run")
    if resume_dir is not None and out is not None and Path(out) != Path(resume_dir):
        _fail(f"--resume continues in its own folder ({resume_dir}); leave out --out or give the same folder")
    names = _backend_list(backend)
    if len(names) > 1 and resume_dir is not None:
        _fail("--resume continues one run: give its folder (OUT/<backend>) and one backend")
    ir = _load(model) if model is not None else None
    with _reported(debug):
        for name in names:  # unknown names, options and models a backend cannot train fail before anything runs
            sim = backends.get(name, codegen=codegen if backends.generates_code(name) or len(names) == 1 else None)
            if len(names) > 1:
                sim.check(ir)
                families.of(ir).check_training(ir, sim.name, sim.traits() if sim.spiking else None)
        if resume_dir is not None:
            from . import spec
            from .run.train import read_checkpoint

            saved = read_checkpoint(resume_dir)
            if ir is not None:
                if spec.to_data(ir) != saved["spec"]:
                    raise NeuromorphError(f"{model} is not the model of the run in {resume_dir}; resume it without "
                                          "MODEL, or start a new run with --out")
            ir = spec.validate_data(saved["spec"])[0] if ir is None else ir
            total = families.of(ir).train_steps(ir) * (saved["units"] - saved["unit"]) // max(saved["units"], 1)
            with _progress_bar(_show(progress), total, f"{ir.name} [train, resumed]") as update:
                runs = {saved["backend"]: api.resume(resume_dir, progress=update)}
            folders = {saved["backend"]: resume_dir}
        else:
            total = families.of(ir).train_steps(ir) if families.of(ir).learns else 0
            runs, folders = {}, {}
            for name in names:
                folders[name] = out if len(names) == 1 else str(Path(out) / name)
                gen = codegen if len(names) == 1 or backends.generates_code(name) else None
                with _progress_bar(_show(progress), total, f"{ir.name} [train, {name}]") as update:
                    runs[name] = api.train(model, name, seed=seed, out=folders[name], progress=update, codegen=gen)
        if len(runs) > 1:
            from .compare.training import write as write_report

            report = write_report(ir.name, {name: run.summary for name, run in runs.items()}, out)
    for name, run in runs.items():
        metrics = run.summary["metrics"]
        click.echo(f"{run.model.name}: trained on {run.summary['backend']} in {run.summary['wall_s']:.1f} s wall "
                   f"-> {folders[name]}")
        for key, value in metrics.items():
            if isinstance(value, float):
                click.echo(f"  {key} = {value:.4g}")
        for line in run.warnings:
            click.echo(f"warning: {line}", err=True)
    if len(runs) > 1:
        click.echo(f"report: {report}")


def _backend_list(text: str) -> list:
    """Backends of ``--backend``: one, or several comma-separated with the rate reference first."""
    from . import backends

    names = list(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    if not names:
        _fail(f"--backend: expected a backend name or a comma-separated list (got {text!r})")
    if len(names) > 1:
        reference = backends.reference()
        names = [reference] + [n for n in names if n != reference]
    return names


def _show(progress) -> bool:
    """Progress bars: as asked, else when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress


@main.command(name="compile")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--target", "-t", default="brian2", show_default=True,
              help="Backend to compile for (brian2, brian2-spiking, nengo, loihi).")
@click.option("--out", "-o", type=click.Path(dir_okay=False), help="Also write a standalone script here (.py).")
@click.option("--codegen", help="Brian2 code-generation target: numpy (default), cython, cpp_standalone.")
@click.option("--learning", is_flag=True, help="Show the graph that learns in spikes (what `train -b TARGET` runs).")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
def compile_(model, target, out, codegen, learning, debug):
    """Print what MODEL becomes on TARGET; with --out, write a standalone script that runs it
    (python script.py --out DIR writes DIR/result.npz, as `neuromorph simulate` does)."""
    from . import api

    ir = _load(model)
    if getattr(ir, "family", "") == "nir":
        model = ir
    with _reported(debug):
        _, text, written = api.compile(model, target, out=out, codegen=codegen, learning=learning)
        click.echo(text)
        for path in written:
            click.echo(f"wrote {path}", err=True)


def _floats(text: str | None, option: str) -> list | None:
    """A comma-separated list of positive numbers (seconds)."""
    if text is None:
        return None
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise NeuromorphError(f"{option}: expected comma-separated seconds such as 0.02,0.1 (got {text!r})") from None
    if not values or any(not v > 0 for v in values):
        raise NeuromorphError(f"{option}: every value must be > 0 (got {text!r})")
    return values


def _names(text: str) -> list:
    return [x.strip() for x in text.split(",") if x.strip()]


def _profiles(text: str | None) -> list:
    """Profile names, each loaded once so that unknown or invalid ones fail before any run."""
    from .hardware import profile

    names = _names(text) if text else []
    for name in names:
        profile.load(name)
    return names


@contextmanager
def _kept_on_interrupt(out):
    """Ctrl-C in a sweep: the finished runs stay; say how to continue."""
    try:
        yield
    except KeyboardInterrupt:
        runs = Path(out) / "runs"
        kept = sum(1 for p in runs.iterdir() if (p / "summary.json").is_file()) if runs.is_dir() else 0
        _fail(f"interrupted; {kept} finished run(s) are kept in {runs}: continue with the same command and "
              "--resume", EXIT_FAILED)


def _cluster_options(f):
    """--workers and --scheduler: where the runs go (default: one after the other, here)."""
    f = click.option("--scheduler", help="Run on an existing Dask cluster at this address (tcp://host:8786); "
                                         "workers need neuromorph installed and OUT shared.")(f)
    return click.option("--workers", type=click.IntRange(1, 512),
                        help="Run on a local Dask cluster of this many worker processes (default: serially, "
                             "in this process).")(f)


@main.command()
@click.argument("models", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--backends", "-b", default=DEFAULT_COMPARE, show_default=True,
              help="Comma-separated backends; the reference (rate; brian2-spiking for .nir files) always runs.")
@click.option("--presentation-times", help="Classification models: seconds per image (default "
                                           "0.005,0.01,0.02,0.05,0.1,0.2).")
@click.option("--seeds", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Spiking realizations (spiking.seed = seed, seed + 1, ...): mean and 95 % interval.")
@click.option("--profiles", help="Hardware profiles, e.g. loihi1,loihi2: energy estimates, and (NLA) the rate "
                                 "model with each profile's weight quantization.")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Report folder.")
@_cluster_options
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
@_nir_options
def compare(models, backends, presentation_times, seeds, profiles, out, workers, scheduler, progress, debug, input_file,
            nir_dt, integration):
    """Run MODEL on several backends with the same inputs and seeds; write OUT/metrics.json,
    OUT/report.md, OUT/report.html and OUT/plots/. A .nir MODEL (with --input) is measured
    against brian2-spiking (the float per-step map): spike-train and output agreement.

    Several MODELs (classification models of one task, e.g. nla_digits, pc_digits and
    mlp_backprop_digits) are each compared into OUT/<model>/, and OUT gets one report of them all:
    rate and spiking accuracy against presentation time, energy per inference, training time."""
    from . import api
    from .compare.report import text_table
    from .compare.runner import plan_steps

    if len(models) > 1:
        _compare_models(models, backends, presentation_times, seeds, profiles, out, workers, scheduler, progress,
                        debug, {"input": input_file, "dt": nir_dt, "integration": integration})
        return
    model = models[0]
    ir = _load(model, {"input": input_file, "dt": nir_dt, "integration": integration})
    if getattr(ir, "family", "") == "nir":
        model = ir
        if backends == DEFAULT_COMPARE:
            backends = "brian2-spiking,nengo,loihi"
    with _reported(debug):
        names = _names(backends)
        times = _floats(presentation_times, "--presentation-times")
        chips = _profiles(profiles)
        total = plan_steps(ir, names, times, seeds, chips)
        with _progress_bar(_show(progress), total, f"compare {ir.name}") as update:
            _, doc = api.compare(model, names, presentation_times=times, seeds=seeds, profiles=chips, out=out,
                                 progress=update, workers=workers, scheduler=scheduler)
    click.echo(text_table(doc))
    click.echo(f"report: {Path(out) / 'report.html'}")


def _compare_models(paths, backends, presentation_times, seeds, profiles, out, workers, scheduler, progress, debug,
                    nir_options):
    from . import api
    from .compare.models import accuracy_rows
    from .compare.runner import plan_steps

    if any(v is not None for v in nir_options.values()):
        _fail("--input, --nir-dt and --integration apply to one .nir model, not to a comparison of several")
    irs = [_load(p) for p in paths]
    with _reported(debug):
        names = _names(backends)
        times = _floats(presentation_times, "--presentation-times")
        chips = _profiles(profiles)
        total = sum(plan_steps(ir, names, times, seeds, chips) for ir in irs)
        with _progress_bar(_show(progress), total, f"compare {len(irs)} models") as update:
            doc = api.compare_models(list(paths), names, presentation_times=times, seeds=seeds, profiles=chips,
                                     out=out, progress=update, workers=workers, scheduler=scheduler)
    header, rows = accuracy_rows(doc)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    click.echo(f"report: {Path(out) / 'report.html'}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--grid", "grids", multiple=True, required=True,
              help="KEY=V1,V2,...: a spec key (dotted path, e.g. spiking.tau_syn) and its values; repeat for "
                   "more keys (every combination runs).")
@click.option("--backends", "-b", default=DEFAULT_COMPARE, show_default=True,
              help="Comma-separated backends; the reference (rate) always runs, once per grid point.")
@click.option("--seeds", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Spiking realizations per grid point and backend (spiking.seed = seed, seed + 1, ...).")
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False),
              help="Output folder: metrics.json, report.md, plots/, runs/<run>/.")
@click.option("--resume", is_flag=True, help="Continue the sweep in OUT: run only what is missing.")
@click.option("--codegen", help="Brian2 code-generation target for the brian2 backends: numpy (default), cython, "
                                "cpp_standalone.")
@_cluster_options
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
def sweep(model, grids, backends, seeds, out, resume, codegen, workers, scheduler, progress, debug):
    """Run MODEL over a grid of spec values x backends x spiking seeds; write one table of
    every run (OUT/metrics.json), OUT/report.md with the metric against each swept key, and
    each run's own outputs under OUT/runs/. Exit 1 if a run failed (its error is in the table)."""
    from tqdm import tqdm

    from . import api

    ir = _load(model)
    with _reported(debug):
        with tqdm(desc=f"sweep {ir.name}", unit="run", disable=not _show(progress), file=sys.stderr,
                  leave=False) as bar, _kept_on_interrupt(out):
            doc = api.sweep(model, list(grids), _names(backends), seeds=seeds, out=out, workers=workers,
                            scheduler=scheduler, resume=resume, on_done=lambda row: bar.update(1),
                            on_start=lambda runs: bar.reset(total=runs), codegen=codegen)
    click.echo(f"{doc['runs']} runs ({doc['resumed']} reused), {doc['failed']} failed; table: "
               f"{Path(out) / 'metrics.json'}; report: {Path(out) / 'report.md'}")
    if doc["failed"]:
        for row in doc["rows"]:
            if row["status"] != "ok":
                click.echo(f"failed: {row['run']}: {row['error']}", err=True)
        sys.exit(EXIT_FAILED)


@main.command()
@click.argument("manifest", type=click.Path(dir_okay=False))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False), help="Report folder.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
def deploy(manifest, out, progress, debug):
    """Deploy MANIFEST (deploy/*.yaml: model, target, hardware profile, run settings): validate,
    check the fit, run the target and the backends it is compared with, write the report to OUT."""
    from . import api
    from .compare.deploy import load
    from .compare.report import text_table
    from .compare.runner import plan_steps

    with _reported(debug):
        dep = load(manifest)
        m = dep.manifest
        names = [m.target] + list(m.compare_with)
        times = list(m.run.presentation_times) if m.run.presentation_times else None
        total = plan_steps(dep.model, names, times, m.run.seeds, dep.profiles)
        with _progress_bar(_show(progress), total, f"deploy {m.name}") as update:
            dep, _, doc = api.deploy(manifest, out, progress=update)
    click.echo(f"{m.name}: {dep.model.name} on {m.target} ({doc['backends'][m.target]['hardware']['runs_on']})")
    if dep.fit is not None:
        click.echo(f"fit on {m.hardware_profile}: {dep.fit['verdict']}")
    click.echo(text_table(doc))
    click.echo(f"report: {Path(out) / 'report.html'}")


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["nir"]), default="nir", show_default=True,
              help="Exchange format.")
@click.option("--out", "-o", required=True, type=click.Path(dir_okay=False), help="The file to write (FILE.nir).")
@click.option("--target", "-t", help="Legalize for this backend first (e.g. loihi: what the chip would run).")
@click.option("--approximate", is_flag=True, help="Export what NIR cannot say in its closest form, each "
                                                  "approximation printed (refused otherwise).")
@click.option("--dt", type=float, help="The step (s) the file is made for (default: the graph's).")
@click.option("--inputs", type=click.Path(dir_okay=False), help="Also write the model's evaluation input as IN.npz "
                                                                "(its encoders' spikes, labels under meta.*).")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
def export(model, fmt, out, target, approximate, dt, inputs, debug):
    """Write MODEL's spiking network graph as a NIR file for snnTorch, Norse, Sinabs, Rockpool,
    Lava/Loihi 2 and SpiNNaker 2 (docs/nir.md). Exact where every node has a NIR counterpart;
    what NIR cannot say is refused, node by node, unless --approximate."""
    from . import api

    _load(model)
    with _reported(debug):
        exported = api.export(model, out, format=fmt, target=target, approximate=approximate, dt=dt, inputs=inputs)
    for line in exported.notes:
        click.echo(f"note: {line}", err=True)
    for line in exported.approximations:
        click.echo(f"approximation: {line}", err=True)
    kind = "approximately" if exported.approximations else "exactly"
    click.echo(f"{model}: exported {kind} as NIR -> {out}" + (f" (inputs: {inputs})" if inputs else ""))


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--profile", "-p", required=True, help="Hardware profile name (see `neuromorph info`) or a .yaml path.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--no-build", is_flag=True, help="Skip the build of the profile's simulator backend (loihi1: "
                                                 "NengoLoihi): estimate only.")
@click.option("--debug", is_flag=True, help="Show tracebacks of neuromorph errors.")
@click.option("--nir-dt", type=float, help=".nir files: the step (s) the file is read with.")
@click.option("--integration", type=click.Choice(["euler", "exponential"]), help=".nir files: how nodes are stepped.")
def check(model, profile, as_json, no_build, debug, nir_dt, integration):
    """Check whether MODEL (a spec or a .nir file) fits the chip of a hardware profile: every
    design rule, errors and warnings, cores and chips needed, what would have to change. Exit
    status 1 if it does not fit."""
    import json

    from . import api
    from .hardware import check as hw_check

    ir = _load(model, {"dt": nir_dt, "integration": integration})
    if getattr(ir, "family", "") == "nir":
        model = ir
    with _reported(debug):
        report = api.check(model, profile, build=not no_build)
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else hw_check.text(report))
    if report.errors:
        sys.exit(1)


@main.command()
def info():
    """List model families, backends and hardware profiles."""
    from .api import info as api_info

    found = api_info()
    click.echo("families: " + ", ".join(found["families"]) + " (every backend runs every family)")
    click.echo("backends:")
    for name, b in found["backends"].items():
        click.echo(f"  {name:16s} {b['description']}")
    profiles = found["hardware_profiles"]
    click.echo("hardware profiles: " + (", ".join(profiles) if profiles else "none found"))


__all__ = ["main"]
