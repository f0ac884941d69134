"""Checks across keys, shared by the families: problems collected, never raised one by one."""

from __future__ import annotations

import numpy as np

from .. import expr
from ..errors import Problem, unknown_name

#: Names an input expression may always use: time t (s) and the synapse index i.
BUILTIN_NAMES = ("t", "i")
RESERVED = set(BUILTIN_NAMES) | set(expr.CONSTANTS) | set(expr.FUNCTIONS)


class Checks:
    """Collects problems with their key paths."""

    def __init__(self):
        self.problems: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.problems.append(Problem(message, path=path))

    def warning(self, path: str, message: str) -> None:
        self.problems.append(Problem(message, path=path, severity="warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


MAX_STEPS = 100_000_000


def steps(duration: float, dt: float) -> int | None:
    """Number of steps if ``duration`` is a whole multiple of ``dt`` (to 1e-9), else None."""
    ratio = duration / dt
    if not ratio < 2**62:
        return None
    n = round(ratio)
    return n if n >= 1 and abs(n * dt - duration) <= 1e-9 * max(duration, dt) else None


def check_time_grid(c: Checks, time, record) -> None:
    """duration and record.dt must be whole multiples of dt; the run must have a sane length."""
    if not time.duration / time.dt <= MAX_STEPS:
        c.error("time.dt",
                f"{time.duration / time.dt:.3g} steps of {time.dt:g} s; at most {MAX_STEPS} steps are allowed per run")
        return
    if steps(time.duration, time.dt) is None:
        c.error("time.duration", f"{time.duration:g} s is not a whole multiple of time.dt = {time.dt:g} s")
    if record.dt is not None:
        if steps(record.dt, time.dt) is None:
            c.error("record.dt", f"{record.dt:g} s is not a whole multiple of time.dt = {time.dt:g} s")
        elif record.dt > time.duration:
            c.error("record.dt", f"{record.dt:g} s is longer than time.duration = {time.duration:g} s")
        elif steps(time.duration, record.dt) is None:
            c.error("record.dt", f"time.duration = {time.duration:g} s is not a whole multiple of {record.dt:g} s")


def check_record(c: Checks, record, valid) -> None:
    """Recorded variables must exist, each once."""
    seen = set()
    for k, name in enumerate(record.variables):
        if name not in valid:
            c.error(f"record.variables[{k}]", unknown_name("variable", name, valid))
        elif name in seen:
            c.error(f"record.variables[{k}]", f"{name!r} is listed twice")
        seen.add(name)
    if not record.variables:
        c.error("record.variables", f"nothing to record; name at least one of: {', '.join(valid)}")


#: Most numbers one noise source may hold (components x streams, or samples x streams).
NOISE_BUDGET = 20_000_000


def input_names(c: Checks, noise: dict) -> set:
    """Names input expressions may use; noise sources may not shadow built-in names."""
    for name in noise:
        if name in RESERVED:
            c.error(f"noise.{name}", f"the name {name!r} is reserved (t, i, constants and function names)")
    return set(BUILTIN_NAMES) | set(noise)


def check_noise_size(c: Checks, noise: dict, n: int, duration: float) -> None:
    """Refuse noise sources too large to hold in memory, saying what to change."""
    for name, src in noise.items():
        streams = 1 if src.shared else n
        per_stream = src.components if src.kind == "smooth" else duration / src.hold + 2
        if per_stream * streams > NOISE_BUDGET:
            c.error(
                f"noise.{name}",
                f"{per_stream:.3g} values x {streams} independent streams is more than {NOISE_BUDGET:.0e}; "
                "use shared: true, fewer components or a longer hold",
            )


def time_points(time, n: int = 1, budget: int = 2_000_000) -> np.ndarray:
    """The step grid of ``time``, thinned so that (points x n) stays within ``budget``."""
    count = int(round(time.duration / time.dt)) + 1
    stride = max(1, int(np.ceil(count * n / budget)))
    return np.arange(0, count, stride) * time.dt
