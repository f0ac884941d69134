"""Tasks for NLA networks: what the inputs and targets are, how learning proceeds, what is
measured. Backend-neutral: a task hands any backend's engine a :class:`Protocol` (inputs and
targets for every step and lane) and scores what comes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np

from ..records import Result
from ..spec.checks import steps


@dataclass
class Protocol:
    """One run of an NLA network.

    Attributes
    ----------
    x : ndarray, (K, L, n_in)
        Raw input rates during each of K steps, for each of L lanes.
    target : ndarray, (K, L, n_out)
        Target voltages of the output neurons during each step.
    beta : ndarray, (n_out,)
        Nudging strength of each output neuron.
    learn : bool
        Plasticity on or off.
    x0, target0 : ndarray or None
        Start lanes at rest on the forward solution for ``x0`` with ``target0`` in place; None
        continues from the engine's current state.
    """

    x: np.ndarray
    target: np.ndarray
    beta: np.ndarray
    learn: bool
    x0: np.ndarray | None = None
    target0: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return self.x.shape[0]


@dataclass
class Training:
    """Where a training run stands: ``unit`` units (epochs, or evaluation intervals) done, the
    learning curve so far, the figures measured before training, and task state that must carry
    over between units (plain data and arrays). A checkpoint holds this, the weights and the
    engine's state; resuming from it gives the same result as never stopping."""

    unit: int = 0
    curve: list = field(default_factory=list)
    before: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def run_training(task, engine, progress=None, state: Training | None = None, after_unit=None) -> tuple:
    """Train ``engine`` with ``task`` unit by unit (from ``state`` when resuming), calling
    ``after_unit(state)`` after each; returns (curve, metrics)."""
    if state is None:
        state = task.train_start(engine)
    else:
        task.train_resume(engine, state)
    for k in range(state.unit, task.train_units()):
        task.train_unit(engine, k, state, progress)
        state.unit = k + 1
        if after_unit is not None:
            after_unit(state)
    return task.train_finish(engine, state)


def make_task(model):
    """The task object for a validated NLA model."""
    kind = model.task.kind
    if kind == "digits":
        from .digits import Digits

        return Digits(model)
    if kind == "teacher":
        from .teacher import Teacher

        return Teacher(model)
    from .signals import Signals

    return Signals(model)


def record_every(model) -> int:
    return 1 if model.record.dt is None else cast(int, steps(model.record.dt, model.dynamics.dt))  # validated


def run_inference(engine, model, progress=None) -> Result:
    """The task's evaluation protocol on ``engine`` (no plasticity), recording the spec's variables;
    the engine says what it ran (``engine.run_info()``)."""
    task = make_task(model)
    every = record_every(model)
    traces, metrics = task.evaluate(engine, record=tuple(model.record.variables), every=every, progress=progress)
    n = len(next(iter(traces.values()))) if traces else 0
    t = np.arange(n) * every * model.dynamics.dt
    info = engine.run_info()
    info.details.update(lanes=engine.lanes, task=model.task.kind, model_dt=model.dynamics.dt)
    for key, section in (("scheme", model.dynamics), ("lookahead", model.neuron)):  # the nla family's
        if hasattr(section, key):
            info.details[key] = getattr(section, key)
    return Result(t=t, traces=traces, info=info, metrics=metrics)


def marked_outputs(u, protocol, record=(), every: int = 1, marks=()) -> tuple[dict, np.ndarray]:
    """From output voltages ``u`` (K + 1, L, n_out), row m the state after m steps: the
    recordings a task asked for (``u_out``, ``target`` every ``every`` steps) and the outputs at
    the ``marks`` (step counts), as engines return them from ``run_protocol``."""
    marked = np.stack([u[m] for m in marks]) if marks else np.zeros((0, u.shape[1], u.shape[2]))
    rec = {}
    for name in record:
        if name == "u_out":
            rec[name] = u[:-1:every]
        elif name == "target":
            rec[name] = protocol.target[::every]
    return rec, marked


def cost(u_out, target) -> float:
    """Mean over samples of C = 1/2 ||u* - u_out||^2."""
    return float(0.5 * np.mean(np.sum((np.asarray(target) - np.asarray(u_out)) ** 2, axis=-1)))


def collect(chunks: list[dict]) -> dict:
    """Concatenate per-chunk recordings along time."""
    if not chunks:
        return {}
    return {k: np.concatenate([c[k] for c in chunks], axis=0) for k in chunks[0]}
