"""Run independent tasks in this process or on Dask distributed, with the same results either way.

A task is a picklable item and a module-level function of it. :meth:`Executor.map` (and
:func:`execute`) returns one :class:`Outcome` per item, in the items' order, whatever order they
finish in:

- serial (no ``workers``, no ``scheduler``): in this process, one after the other; Dask is not
  imported;
- ``workers = N``: a local Dask cluster of N worker processes, one thread each, started and
  stopped here;
- ``scheduler = ADDRESS``: an existing cluster (``dask scheduler`` and ``dask worker`` started
  elsewhere; the workers need neuromorph installed and the output folder shared).

A task that raises is run once more (``retries``); if it fails again, its outcome carries the
error and the other tasks go on. A worker lost mid-task is replaced by the cluster and its tasks
are rerun elsewhere (Dask's own rescheduling). Tasks run with BLAS on one thread in every mode,
so a result does not depend on where or beside what it ran.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..errors import NeuromorphError


class ClusterError(NeuromorphError):
    """A Dask cluster that cannot be started or reached."""


class TaskFailed(Exception):
    """A task's failure, carried back from a worker as one sentence (picklable by design)."""


@dataclass
class Outcome:
    """What became of one task: its ``value``, or its ``error`` (a sentence, after the retries)."""

    index: int
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def guarded(fn: Callable, item) -> Any:
    """``fn(item)`` with BLAS on one thread; any exception becomes :class:`TaskFailed` naming it."""
    from threadpoolctl import threadpool_limits

    try:
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(item)
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        raise TaskFailed(f"{type(e).__name__}: {e}") from None


#: How long to wait for an existing scheduler to answer.
CONNECT_TIMEOUT = "10s"


class Executor:
    """Where tasks run: here (``client`` None) or through a Dask client."""

    def __init__(self, client=None, setup: Callable[[], None] | None = None):
        self.client = client
        if client is not None and setup is not None:
            from .worker import WorkerSetup

            client.register_plugin(WorkerSetup(setup))

    @property
    def mode(self) -> str:
        return "serial" if self.client is None else "dask"

    def map(self, fn: Callable, items: Sequence, *, retries: int = 1,
            on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Run ``fn`` on every item (``retries`` extra attempts for one that raises); ``on_done``
        is called with each :class:`Outcome` as it arrives."""
        if self.client is None:
            return _serial(fn, items, retries, on_done)
        return _distributed(self.client, fn, items, retries, on_done)


def check_options(workers: int | None, scheduler: str | None) -> None:
    if workers is not None and scheduler is not None:
        raise ClusterError("give --workers (a local cluster) or --scheduler (an existing one), not both")
    if workers is not None and workers < 1:
        raise ClusterError(f"--workers must be at least 1 (got {workers})")


@contextmanager
def executor(workers: int | None = None, scheduler: str | None = None,
             setup: Callable[[], None] | None = None) -> Iterator[Executor]:
    """An :class:`Executor`: serial, a new local cluster of ``workers`` processes, or the cluster at
    ``scheduler`` (``tcp://host:8786``); the cluster is reached (or started) on entry, so a bad
    address fails before anything runs. ``setup``: a module-level function (or a partial of one)
    every worker runs once in its main thread when it starts, and again when a lost worker is
    replaced (e.g. to import simulators)."""
    check_options(workers, scheduler)
    if workers is None and scheduler is None:
        yield Executor()
        return
    with client_for(workers, scheduler) as client:
        yield Executor(client, setup)


def execute(fn: Callable, items: Sequence, *, workers: int | None = None, scheduler: str | None = None,
            retries: int = 1, on_done: Callable[[Outcome], None] | None = None,
            setup: Callable[[], None] | None = None) -> list[Outcome]:
    """:meth:`Executor.map` on a fresh :func:`executor` (see there for the parameters)."""
    with executor(workers, scheduler, setup) as run:
        return run.map(fn, items, retries=retries, on_done=on_done)


def load_backends(names: tuple) -> None:
    """Import the simulators of backends ``names`` (a worker's start-up, in its main thread)."""
    from .. import backends

    for name in names:
        backends.get(name).load()


def _serial(fn, items, retries, on_done) -> list[Outcome]:
    outcomes = []
    for index, item in enumerate(items):
        outcome = Outcome(index)
        for _ in range(retries + 1):
            try:
                outcome.value, outcome.error = guarded(fn, item), None
                break
            except TaskFailed as e:
                outcome.error = str(e)
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    return outcomes


@contextmanager
def client_for(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A Dask client on a new local cluster (``workers``) or on ``scheduler``; closed after use."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise ClusterError("parallel runs need the package 'distributed' (pip install distributed)") from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler!r}: {e}") from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    # no dashboard, so no statistical profiler either: it samples the running task's stack every
    # 10 ms and competes with Python-heavy simulators (Nengo's step loop) for the GIL
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _distributed(client, fn, items, retries, on_done) -> list[Outcome]:
    from distributed import as_completed

    outcomes: list[Outcome | None] = [None] * len(items)
    batch = uuid.uuid4().hex[:8]
    futures = [client.submit(guarded, fn, item, key=f"neuromorph-{batch}-{i}", retries=retries, pure=False)
               for i, item in enumerate(items)]
    where = {f.key: i for i, f in enumerate(futures)}
    for future in as_completed(futures):
        index = where[future.key]
        outcome = Outcome(index)
        if future.status == "finished":
            outcome.value = future.result()
        else:
            error = future.exception()
            outcome.error = str(error) if isinstance(error, TaskFailed) else f"{type(error).__name__}: {error}"
        outcomes[index] = outcome
        if on_done is not None:
            on_done(outcome)
        future.release()
    return [o for o in outcomes if o is not None]
