"""Reproducing withheld channels of a multichannel time series with a recurrent network.

The paper's iEEG recordings are not available offline; the source here is the Lorenz system
(sigma = 10, rho = 28, beta = 8/3, integrated by scipy in its own time unit and played at
``time_scale`` seconds per unit). ``channels`` random mixtures of (x, y, z) are normalized to
zero mean and std ``amplitude``. Training and testing use two separate traces (different
initial conditions). Training nudges every output; the test nudges all but the last
``withheld`` outputs (``beta_test``) and scores the withheld ones by nrmse = rmse / std.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ..seeds import rng_for
from . import Protocol, Training, run_training

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
BURN_IN = 20.0  # Lorenz time units discarded before a trace starts


def lorenz(t, s):
    x, y, z = s
    return [SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z]


def lorenz_trace(seed: int, name: str, n_steps: int, dt: float, time_scale: float) -> np.ndarray:
    """(n_steps, 3) Lorenz states sampled every dt seconds (dt / time_scale Lorenz units)."""
    start = rng_for(seed, "task", name).normal(0.0, 5.0, size=3) + np.array([0.0, 0.0, 25.0])
    span = (n_steps - 1) * dt / time_scale
    sol = solve_ivp(lorenz, (0.0, BURN_IN + span), start, method="DOP853", rtol=1e-10, atol=1e-10, dense_output=True)
    return sol.sol(BURN_IN + np.arange(n_steps) * dt / time_scale).T


class Signals:
    def __init__(self, model):
        self.model = model
        cfg = model.task
        self.dt = model.dynamics.dt
        self.lanes = model.learning.lanes
        mix = rng_for(model.seed, "task", "mixing").normal(size=(cfg.channels, 3))
        self.train_trace = self._channels(mix, "train", cfg.train_duration)
        self.test_trace = self._channels(mix, "test", cfg.test_duration)
        self.withheld = np.arange(cfg.channels - cfg.withheld, cfg.channels)

    def _channels(self, mix, name, seconds):
        cfg = self.model.task
        n = int(round(seconds / self.dt))
        raw = lorenz_trace(self.model.seed, name, n, self.dt, cfg.time_scale) @ mix.T
        return cfg.amplitude * (raw - raw.mean(axis=0)) / raw.std(axis=0)

    def protocol(self, trace, beta, learn) -> Protocol:
        """Lane k sees the trace shifted by k / L of its length; no input rates."""
        shifts = [len(trace) * k // self.lanes for k in range(self.lanes)]
        target = np.stack([np.roll(trace, -s, axis=0) for s in shifts], axis=1)
        x = np.zeros(target.shape[:2] + (0,))
        return Protocol(x=x, target=target, beta=np.broadcast_to(beta, (trace.shape[1],)).astype(float),
                        learn=learn, x0=x[0], target0=target[0])

    def test_beta(self) -> np.ndarray:
        beta = np.full(self.model.task.channels, self.model.task.beta_test)
        beta[self.withheld] = 0.0
        return beta

    def scores(self, u_out, target) -> dict:
        skip = int(round(5 * self.model.neuron.tau / self.dt))
        u, y = u_out[skip:, :, self.withheld], target[skip:, :, self.withheld]
        rmse = np.sqrt(np.mean((u - y) ** 2, axis=(0, 1)))
        nrmse = rmse / y.std(axis=(0, 1))
        return {"nrmse": float(nrmse.mean()), "nrmse_per_channel": nrmse.tolist(),
                "withheld_channels": self.withheld.tolist()}

    def test(self, engine, record=(), progress=None, seconds=None):
        """Run the test trace (every step recorded); the training state is kept aside."""
        saved = engine.save_state()
        trace = self.test_trace if seconds is None else self.test_trace[: int(round(seconds / self.dt))]
        wanted = tuple(dict.fromkeys(tuple(record) + ("u_out", "target")))
        rec, _ = engine.run_protocol(self.protocol(trace, self.test_beta(), False), wanted, progress=progress)
        engine.restore_state(saved)
        return rec, self.scores(rec["u_out"], rec["target"])

    # -- training, unit by unit (see tasks.run_training): one epoch per unit --------------------
    def train_units(self) -> int:
        return self.model.task.epochs

    def train_start(self, engine) -> Training:
        return Training(before={"nrmse_before_training": self.test(engine)[1]["nrmse"]})

    def train_resume(self, engine, state: Training) -> None:
        pass

    def train_unit(self, engine, k: int, state: Training, progress=None) -> None:
        engine.run_protocol(self.protocol(self.train_trace, self.model.learning.beta, True), progress=progress)
        state.curve.append({"epoch": k + 1, "test_nrmse": self.test(engine)[1]["nrmse"]})

    def train_finish(self, engine, state: Training) -> tuple[list, dict]:
        return state.curve, dict(self.test(engine)[1], **state.before)

    def train(self, engine, progress=None) -> tuple[list, dict]:
        return run_training(self, engine, progress)

    def train_steps(self) -> int:
        return self.model.task.epochs * len(self.train_trace)

    def eval_protocol(self) -> Protocol:
        cfg = self.model.task
        trace = self.test_trace if cfg.duration is None else self.test_trace[: int(round(cfg.duration / self.dt))]
        return self.protocol(trace, self.test_beta(), False)

    def eval_steps(self) -> int:
        cfg = self.model.task
        return int(round((cfg.test_duration if cfg.duration is None else cfg.duration) / self.dt))

    def evaluate(self, engine, record=(), every=1, progress=None):
        rec, metrics = self.test(engine, record=record, progress=progress, seconds=self.model.task.duration)
        return {k: rec[k][::every] for k in record}, metrics
