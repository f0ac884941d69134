"""The Dask worker plugin of :mod:`neuromorph.sweep.execute` (imported only when Dask runs)."""

from __future__ import annotations

from typing import Callable

from distributed.diagnostics.plugin import WorkerPlugin


class WorkerSetup(WorkerPlugin):
    """Runs ``fn`` (a module-level function, or a partial of one) when each worker starts, in its event loop's
    thread: the worker process's main thread."""

    def __init__(self, fn: Callable[[], None]):
        self.fn = fn
        self.name = "neuromorph-setup"

    def setup(self, worker) -> None:
        self.fn()
