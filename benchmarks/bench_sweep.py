"""A spiking sweep serially and on a local Dask cluster of 2 worker processes, in this process.

The sweep: nla_teacher (shipped weights), 3 s of the teacher task per run, spiking.tau_syn at
4 values x 4 spiking seeds on nengo = 16 spiking runs, plus the rate reference once per grid
point (4 runs). Reported: wall time serially and on 2 workers (the cluster's start included,
and that start alone), their ratio, whether the rows agree, and the scheduling overhead per
task: 200 tasks that do nothing, on a running cluster, per task. What the 2 cores give this
workload without any start-up is measured too: 8 Nengo runs serially against 8 on 2 workers
that have already run once (2 cores share caches and memory bandwidth, so it is below 2).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from neuromorph import api
from neuromorph.sweep import execute

from _common import report, timed

MODEL = "models/nla_teacher.yaml"
GRID = ["task.test_duration=3.0", "spiking.tau_syn=0.003,0.005,0.01,0.02"]
SEEDS = 4
TRIVIAL = 200


def nothing(x):
    return x


def sweep(out: Path, workers=None):
    return api.sweep(MODEL, GRID, ["rate", "nengo"], seeds=SEEDS, out=out, workers=workers)


def overhead() -> tuple[float, float]:
    """(cluster start s, per-task s) of trivial tasks on a running 2-worker cluster."""
    start = time.perf_counter()
    with execute.executor(workers=2) as run:
        started = time.perf_counter() - start
        run.map(nothing, list(range(8)))  # warm the workers
        _, wall = timed(run.map, nothing, list(range(TRIVIAL)))
    return started, wall / TRIVIAL


def one_run(i: int) -> float:
    """One Nengo run of the teacher task (3 s); returns its wall time."""
    import dataclasses

    from neuromorph import spec
    from neuromorph.run.simulate import simulate

    m = spec.load(MODEL)
    m = dataclasses.replace(m, task=dataclasses.replace(m.task, test_duration=3.0))
    return simulate(m, "nengo", spec_file=MODEL).summary["wall_s"]


def warm_speedup(n: int = 8) -> float:
    """n runs serially here against n runs on 2 workers that already ran one each (start-up and
    first-run costs excluded): what the machine's 2 cores give this workload."""
    from functools import partial

    one_run(0)
    _, serial = timed(execute.execute, one_run, list(range(n)))
    with execute.executor(workers=2, setup=partial(execute.load_backends, ("nengo",))) as run:
        run.map(one_run, [0, 1])
        _, parallel = timed(run.map, one_run, list(range(n)))
    return serial / parallel


def rows_agree(a: dict, b: dict) -> bool:
    """Same spikes everywhere and the same numbers to 1e-12 (Nengo is not bitwise reproducible
    across processes)."""
    for r, s in zip(a["rows"], b["rows"]):
        if r["status"] != s["status"] or r.get("spike_count") != s.get("spike_count"):
            return False
        x, y = r["nrmse_vs_rate"]["u_out"], s["nrmse_vs_rate"]["u_out"]
        if abs(x - y) > 1e-12 * max(abs(x), 1e-300):
            return False
    return True


if __name__ == "__main__":
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        serial, t_serial = timed(sweep, folder / "serial")
        parallel, t_parallel = timed(sweep, folder / "parallel", 2)
        started, per_task = overhead()
        warm = warm_speedup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report("sweep_dask", {
        "runs": serial["runs"],
        "spiking_runs": sum(r["backend"] != "rate" for r in serial["rows"]),
        "serial_s": t_serial,
        "two_workers_s": t_parallel,
        "speedup_two_workers": t_serial / t_parallel,
        "cluster_start_s": started,
        "speedup_without_cluster_start": t_serial / max(t_parallel - started, 1e-9),
        "speedup_warm_workers_8_runs": warm,
        "scheduling_overhead_per_task_ms": per_task * 1e3,
        "rows_agree": rows_agree(serial, parallel),
    })
