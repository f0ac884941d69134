"""`neuromorph sweep` and parallel execution: grids validated before anything runs, the same
rows serially and on Dask workers, failures and lost workers reported or recovered, resume."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from neuromorph import api
from neuromorph.cli import main
from neuromorph.sweep import execute as ex

ROOT = Path(__file__).resolve().parents[1]
TEACHER = str(ROOT / "models" / "nla_teacher.yaml")
# 2 grid points x (rate once + nengo x 3 seeds) = 8 runs of 0.1 s of the teacher task
GRID = ["task.test_duration=0.1", "spiking.tau_syn=0.005,0.01"]
BACKENDS = ["rate", "nengo"]
# the tests share one serial sweep and one cluster: one xdist worker runs them all
pytestmark = pytest.mark.xdist_group("sweep")


def without_wall(doc: dict) -> list:
    return [{k: v for k, v in r.items() if k != "wall_s"} for r in doc["rows"]]


def floats_within(a, b, rel: float):
    """``a`` with its floats replaced by ``b``'s where they agree within ``rel`` (for an equality check)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: floats_within(v, b.get(k), rel) for k, v in a.items()}
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [floats_within(x, y, rel) for x, y in zip(a, b)]
    if isinstance(a, float) and isinstance(b, float) and abs(a - b) <= rel * max(abs(a), abs(b)):
        return b
    return a


def assert_same_rows(doc: dict, expected: dict) -> None:
    """Rate rows bit for bit; spiking rows with the same spikes, floats to 1e-12: Nengo itself is not
    bitwise reproducible across processes (two serial runs of the same sweep in two processes differ
    by up to 1.8e-15 in u_out, measured; same spike counts), whatever runs it."""
    got, want = without_wall(doc), without_wall(expected)
    assert [r for r in got if r["backend"] == "rate"] == [r for r in want if r["backend"] == "rate"]
    assert [r.get("spike_count") for r in got] == [r.get("spike_count") for r in want]
    assert [floats_within(g, w, 1e-12) for g, w in zip(got, want)] == want


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "sweep"
    planned, arrived = [], []
    doc = api.sweep(TEACHER, GRID, BACKENDS, seeds=3, out=out, on_start=planned.append, on_done=arrived.append)
    assert planned == [8] and [r["run"] for r in arrived] == [r["run"] for r in doc["rows"]]  # progress
    return doc, out


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as c:
        yield c


def test_serial_sweep_writes_a_row_per_run_and_each_runs_outputs(serial):
    doc, out = serial
    assert doc["runs"] == 8 and doc["failed"] == 0
    assert [r["backend"] for r in doc["rows"]] == ["rate", "nengo", "nengo", "nengo"] * 2
    assert [r["seed"] for r in doc["rows"] if r["backend"] == "nengo"] == [0, 1, 2] * 2
    for r in doc["rows"]:
        assert {p.name for p in (out / "runs" / r["run"]).iterdir()} == {"result.npz", "summary.json", "traces.png"}
        summary = json.loads((out / "runs" / r["run"] / "summary.json").read_text())
        assert summary["spec"]["spiking"]["tau_syn"] == r["point"]["spiking.tau_syn"]
        assert summary["spec"]["spiking"]["seed"] == r["seed"]
    # each row's nrmse is the run's against the rate run of its own grid point (an independent recomputation)
    import numpy as np

    for r in doc["rows"][1:4]:
        with np.load(out / "runs" / r["run"] / "result.npz") as f, \
                np.load(out / "runs" / doc["rows"][0]["run"] / "result.npz") as g:
            y, ref = f["u_out"], g["u_out"]
        assert r["nrmse_vs_rate"]["u_out"] == pytest.approx(np.sqrt(np.mean((y - ref) ** 2)) / np.std(ref))
    # different spiking seeds give different spikes; the rate runs have none
    nengo = [r for r in doc["rows"] if r["backend"] == "nengo"]
    assert len({r["spike_count"] for r in nengo}) > 1
    assert doc["rows"][0]["spike_count"] is None
    assert (out / "report.md").read_text().count("| ok |") == 8
    assert {p.name for p in (out / "plots").iterdir()} == {"nrmse_vs_rate_vs_task_test_duration.png",
                                                           "nrmse_vs_rate_vs_spiking_tau_syn.png"}


@pytest.mark.slow  # 15 s: the cluster comparison below checks Dask against serial in the default suite
def test_two_local_workers_give_exactly_the_serial_rows(serial, tmp_path):
    doc = api.sweep(TEACHER, GRID, BACKENDS, seeds=3, out=tmp_path / "sweep", workers=2)
    assert_same_rows(doc, serial[0])


@pytest.mark.slow  # 12 s: a worker process is killed and the cluster replaces it
def test_a_worker_killed_mid_sweep_loses_no_result(serial, cluster, tmp_path):
    """One worker process is killed (SIGKILL) when the first run arrives; the nanny replaces it
    and the scheduler reruns its tasks."""
    pids = [w.process.process.pid for w in cluster.workers.values()]
    killed = []

    def on_done(row):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    doc = api.sweep(TEACHER, GRID, BACKENDS, seeds=3, out=tmp_path / "sweep", scheduler=cluster.scheduler_address,
                    on_done=on_done)
    assert killed
    assert pids[0] not in [w.process.process.pid for w in cluster.workers.values()]  # replaced
    assert_same_rows(doc, serial[0])


def test_a_failing_run_is_retried_then_reported_beside_the_others(cluster, tmp_path):
    """A grid point the shipped weights do not fit fails at run time; the other runs finish."""
    calls = []
    doc = api.sweep(TEACHER, ["task.test_duration=0.1", "network.layers=[5, 20, 3],[5, 10, 3]"], ["rate"],
                    out=tmp_path / "sweep", scheduler=cluster.scheduler_address, on_done=calls.append)
    ok, bad = doc["rows"]
    assert ok["status"] == "ok" and ok["nrmse_vs_rate"]["u_out"] == 0.0
    assert bad["status"] == "failed" and bad["point"]["network.layers"] == [5, 10, 3]
    assert "WeightsFileError" in bad["error"] and "different network" in bad["error"]
    assert doc["failed"] == 1 and len(calls) == 2
    assert "failed: WeightsFileError" in (tmp_path / "sweep" / "report.md").read_text()


def test_serial_executor_retries_once_and_keeps_going():
    tries: dict = {}
    outcomes = ex.execute(Flaky(tries), [1, 2, 0])
    assert [o.value for o in outcomes] == [1, 2, None]
    assert outcomes[2].error == "ZeroDivisionError: integer division or modulo by zero"
    assert tries == {1: 1, 2: 1, 0: 2}


class Flaky:
    """x * x // x: fails on 0 (counting its attempts)."""

    def __init__(self, tries):
        self.tries = tries

    def __call__(self, x):
        self.tries[x] = self.tries.get(x, 0) + 1
        return x * x // x


@pytest.mark.slow  # 11 s
def test_resume_runs_only_the_missing_runs(tmp_path):
    """A rate sweep of 8 runs, interrupted after 3, resumed: the 3 are kept (not rerun), the table
    equals an uninterrupted sweep's bit for bit."""
    grid = ["task.test_duration=0.2", "spiking.tau_syn=0.005", "learning.beta=0.0,0.1,0.2,0.3",
            "neuron.tau=0.01,0.02"]
    out = tmp_path / "sweep"
    arrived = []

    def stop_after_three(row):
        arrived.append(row)
        if len(arrived) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        api.sweep(TEACHER, grid, ["rate"], out=out, on_done=stop_after_three)
    done = sorted(p.name for p in (out / "runs").iterdir() if (p / "summary.json").exists())
    assert len(done) == 3
    stamps = {name: (out / "runs" / name / "summary.json").stat().st_mtime_ns for name in done}
    doc = api.sweep(TEACHER, grid, ["rate"], out=out, resume=True)
    assert doc["runs"] == 8 and doc["resumed"] == 3 and doc["failed"] == 0
    assert {name: (out / "runs" / name / "summary.json").stat().st_mtime_ns for name in done} == stamps
    whole = api.sweep(TEACHER, grid, ["rate"], out=tmp_path / "whole")
    assert without_wall(doc) == without_wall(whole)
    # a different plan is refused, and so is a second sweep into the same folder without --resume
    result = CliRunner().invoke(main, ["sweep", TEACHER, "--grid", "task.test_duration=0.3", "-b", "rate",
                                       "--out", str(out), "--resume"])
    assert result.exit_code == 2 and "differs in" in result.output
    result = CliRunner().invoke(main, ["sweep", TEACHER, *sum([["--grid", g] for g in grid], []), "-b", "rate",
                                       "--out", str(out)])
    assert result.exit_code == 2 and "--resume" in result.output


@pytest.mark.parametrize("grid, expected", [
    (["spiking.tau_sin=0.01"], "unknown key 'spiking.tau_sin' (did you mean 'spiking.tau_syn'?)"),
    (["spiking.tau_syn=abc"], "spiking.tau_syn"),
    (["spiking.tau_syn=-0.01"], "spiking.tau_syn"),
    (["spiking.tau_syn"], "expected KEY=V1,V2,..."),
    (["spiking.tau_syn=0.01,"], "expected KEY=V1,V2,..."),
    (["family=bm"], "unknown key 'family'"),
    (["neuron.rho=lif,sigmoidal"], "neuron.rho"),
    (["spiking.tau_syn=0.01", "spiking.tau_syn=0.02"], "given twice"),
])
def test_bad_grids_are_refused_before_anything_runs(tmp_path, grid, expected):
    out = tmp_path / "sweep"
    args = ["sweep", TEACHER, "-b", "rate", "--out", str(out)] + sum([["--grid", g] for g in grid], [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_cluster_options_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "CONNECT_TIMEOUT", "1s")
    out = tmp_path / "sweep"
    base = ["sweep", TEACHER, "-b", "rate", "--grid", "task.test_duration=0.1", "--out", str(out)]
    result = CliRunner().invoke(main, base + ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "not both" in result.output
    result = CliRunner().invoke(main, base + ["--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2 and "cannot reach the Dask scheduler" in result.output
    assert not (out / "runs").exists()


def test_compare_on_a_cluster_gives_the_serial_numbers(cluster, tmp_path):
    """`compare --scheduler` sends each run to the cluster; the metrics are the serial run's."""
    from neuromorph import spec
    from neuromorph.spec.yamlio import dump_yaml

    data = spec.to_data(spec.load(TEACHER))
    data["task"]["test_duration"] = 0.1
    data["weights"] = str(ROOT / "models" / "weights" / "nla_teacher.npz")
    path = tmp_path / "teacher.yaml"
    path.write_text(dump_yaml(data))
    _, serial_doc = api.compare(str(path), ["rate", "nengo"], seeds=2)
    _, dask_doc = api.compare(str(path), ["rate", "nengo"], seeds=2, scheduler=cluster.scheduler_address)
    for doc in (serial_doc, dask_doc):
        for backend in doc["backends"].values():
            backend.pop("wall_s"), backend.pop("steps_per_s")
        doc.pop("versions")
    assert floats_within(dask_doc, serial_doc, 1e-12) == serial_doc
    assert dask_doc["backends"]["nengo"]["spike_count"]["per_seed"] == \
        serial_doc["backends"]["nengo"]["spike_count"]["per_seed"]


def test_a_model_without_weights_is_trained_once_per_grid_point(tmp_path, monkeypatch):
    """The rate model is trained (and cached) per distinct grid point, not per spiking seed; the
    runs use those weights."""
    from neuromorph import spec
    from neuromorph.spec.yamlio import dump_yaml

    monkeypatch.setenv("NEUROMORPH_CACHE", str(tmp_path / "cache"))
    data = spec.to_data(spec.load(TEACHER))
    data["weights"] = None
    data["task"].update(train_duration=1.0, eval_every=1.0, test_duration=0.1)
    path = tmp_path / "untrained.yaml"
    path.write_text(dump_yaml(data))
    doc = api.sweep(str(path), ["spiking.tau_syn=0.005,0.01"], ["rate", "nengo"], seeds=2, out=tmp_path / "sweep")
    assert doc["failed"] == 0 and doc["runs"] == 2 * 3
    cached = sorted((tmp_path / "cache" / "weights").glob("*.npz"))
    assert len(cached) == 2  # one per grid point: tau_syn does not change the rate model, but it is a point
    summaries = [json.loads((tmp_path / "sweep" / "runs" / r["run"] / "summary.json").read_text()) for r in doc["rows"]]
    assert {s["spec"]["weights"] for s in summaries} == {str(p.resolve()) for p in cached}


def test_codegen_goes_to_the_brian2_backends_and_a_bad_one_is_refused(tmp_path):
    base = ["sweep", TEACHER, "--grid", "task.test_duration=0.1", "-b", "rate,brian2-spiking"]
    result = CliRunner().invoke(main, base + ["--codegen", "fortran", "--out", str(tmp_path / "bad")])
    assert result.exit_code == 2 and "fortran" in result.output and not (tmp_path / "bad").exists()
    result = CliRunner().invoke(main, base + ["--codegen", "numpy", "--out", str(tmp_path / "ok")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "ok" / "runs" / "p000-brian2-spiking-s0" / "summary.json").read_text())
    assert summary["backend_info"]["hardware"]["runs_on"] == "CPU (Brian2, numpy)"
