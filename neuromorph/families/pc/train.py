"""Training a pc network on digits: epochs of shuffled minibatches, one update rule per scheme.

Each minibatch of ``learning.lanes`` training images (the last one shorter) gives one update by
the model's scheme (:mod:`.maths`: Z-IL, equilibrium, or backprop), applied as
W <- W + eta_e Delta W with eta_e = ``learning.eta`` times ``task.eta_decay`` per epoch done.
After every epoch the held-out split is scored at the fixed point (the feed-forward pass), the
same split and argmax as the digits task. The progress bar counts sample-steps (images times
inference steps, at least one each).
"""

from __future__ import annotations

import numpy as np

from ...seeds import rng_for
from ...spec.pc import inference_steps
from ...tasks import Training, cost
from . import maths
from .network import layered_view


class PCTraining:
    """The trainer interface (:func:`neuromorph.tasks.run_training`) for pc models."""

    def __init__(self, model):
        from ...tasks.digits import Digits

        self.model = model
        self.digits = Digits(layered_view(model))
        self.steps = max(1, inference_steps(model))

    # -- one minibatch ------------------------------------------------------------------------
    def updates(self, engine, images, targets) -> tuple[list, list]:
        Ws, bs = engine.layers()
        lr = self.model.learning
        if lr.scheme == "z_il":
            return maths.z_il(Ws, bs, images, targets, engine.f, gamma=lr.gamma)
        if lr.scheme == "equilibrium":
            return maths.equilibrium(Ws, bs, images, targets, engine.f, lr.gamma, self.steps, lr.clamp)
        return maths.backprop(Ws, bs, images, targets, engine.f)

    def step(self, engine, idx) -> None:
        d = self.digits
        dW, db = self.updates(engine, d.X[idx], d.targets(d.y[idx]))
        eta = self.model.learning.eta * engine.eta_scale
        Ws, bs = engine.layers()
        for W, b, gW, gb in zip(Ws, bs, dW, db):
            W += eta * gW
            if self.model.learning.bias:
                b += eta * gb
        engine.stats["steps"] += self.steps * len(idx) / engine.lanes
        engine.stats["learning_steps"] += self.steps

    # -- scores at the fixed point ------------------------------------------------------------
    def outputs(self, engine, idx) -> np.ndarray:
        Ws, bs = engine.layers()
        return maths.forward(Ws, bs, self.digits.X[idx], engine.f)[-1]

    def accuracy(self, engine) -> dict:
        d = self.digits
        out = self.outputs(engine, d.test_idx)
        pred, true = out.argmax(axis=1), d.y[d.test_idx]
        confusion = np.zeros((10, 10), int)
        np.add.at(confusion, (true, pred), 1)
        return {"accuracy": float(np.mean(pred == true)), "confusion": confusion.tolist(),
                "test_samples": int(len(true))}

    # -- the trainer interface ----------------------------------------------------------------
    def train_units(self) -> int:
        return self.model.task.epochs

    def train_start(self, engine) -> Training:
        return Training(before={"accuracy_before_training": self.accuracy(engine)["accuracy"]})

    def train_resume(self, engine, state: Training) -> None:
        for _ in range(state.unit):
            engine.scale_eta(self.model.task.eta_decay)

    def train_unit(self, engine, k: int, state: Training, progress=None) -> None:
        d = self.digits
        order = rng_for(self.model.seed, "task", "shuffle", str(k)).permutation(d.train_idx)
        size = self.model.learning.lanes
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            self.step(engine, idx)
            if progress is not None:
                progress(len(idx) * self.steps)
        train_cost = cost(self.outputs(engine, d.train_idx), d.targets(d.y[d.train_idx]))
        state.curve.append({"epoch": k + 1, "test_accuracy": self.accuracy(engine)["accuracy"],
                            "train_cost": train_cost})
        engine.scale_eta(self.model.task.eta_decay)

    def train_finish(self, engine, state: Training) -> tuple[list, dict]:
        final = self.accuracy(engine)
        metrics = dict(final, train_samples=int(len(self.digits.train_idx)), scheme=self.model.learning.scheme)
        metrics.update(state.before)
        return state.curve, metrics

    def train_steps(self) -> int:
        return self.train_units() * len(self.digits.train_idx) * self.steps
