"""Handwritten digits (scikit-learn's 8x8 set, shipped with scikit-learn: nothing downloads).

1797 images, pixel values 0..16 scaled to input rates in [0, 1]; a held-out test split fixed
by the model seed. Each lane sees a continuous stream of images, each for ``presentation``
seconds; input and one-hot target switch together (the target without delay or filter, the
input through the tau_in filter, as in Senn et al. 2024). Accuracy: argmax of the output
voltages at the end of each presentation, with beta = 0 and plasticity off.
"""

from __future__ import annotations

import numpy as np

from ..families.nla import alignment_angles
from ..seeds import rng_for
from ..spec.checks import steps
from . import Protocol, Training, cost, run_training


def load():
    """(X, y): images (1797, 64) in [0, 1] and labels."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16.0, y.astype(int)


class Digits:
    def __init__(self, model):
        self.model = model
        cfg = model.task
        self.X, self.y = load()
        perm = rng_for(model.seed, "task", "split").permutation(len(self.y))
        n_test = int(round(len(self.y) * cfg.test_fraction))
        self.test_idx, self.train_idx = np.sort(perm[:n_test]), perm[n_test:]
        self.steps = steps(cfg.presentation, model.dynamics.dt)
        self.lanes = model.learning.lanes

    def targets(self, labels) -> np.ndarray:
        cfg = self.model.task
        return np.where(np.eye(10)[labels] > 0, cfg.target_on, cfg.target_off)

    def lanes_order(self, idx) -> tuple[np.ndarray, np.ndarray]:
        """Samples arranged as (lanes, slots), padded by wrapping; and which entries are real."""
        slots = -(-len(idx) // self.lanes)
        total = slots * self.lanes
        padded = np.resize(idx, total)
        real = np.arange(total) < len(idx)
        return padded.reshape(slots, self.lanes).T, real.reshape(slots, self.lanes).T

    def protocol(self, order, learn: bool, nudge: bool | None = None) -> Protocol:
        """Images of ``order`` (lanes, slots), one presentation each, lanes starting at rest on
        their first image; outputs nudged while learning unless ``nudge`` says otherwise."""
        x = np.repeat(self.X[order.T], self.steps, axis=0)  # (slots * steps, L, 64)
        target = np.repeat(self.targets(self.y[order.T]), self.steps, axis=0)
        nudge = learn if nudge is None else nudge
        beta = np.full(10, self.model.learning.beta if nudge else 0.0)
        return Protocol(x=x, target=target, beta=beta, learn=learn, x0=self.X[order[:, 0]])

    def ends(self, order) -> list[int]:
        """Step counts at which each presentation of ``order`` ends."""
        return [(j + 1) * self.steps for j in range(order.shape[1])]

    def present(self, engine, order, learn: bool, record=(), every=1, progress=None, nudge=None):
        """Show the images; return end-of-presentation outputs (lanes, slots, 10) and recordings."""
        protocol = self.protocol(order, learn, nudge)
        rec, ends = engine.run_protocol(protocol, record, every, self.ends(order), progress)
        return np.swapaxes(ends, 0, 1), rec

    def score(self, order, real, ends) -> dict:
        pred, true = ends.argmax(axis=-1)[real], self.y[order][real]
        confusion = np.zeros((10, 10), int)
        np.add.at(confusion, (true, pred), 1)
        return {"accuracy": float(np.mean(pred == true)), "confusion": confusion.tolist(),
                "test_samples": int(real.sum()), "presentation": self.model.task.presentation}

    def test_order(self):
        order, real = self.lanes_order(self.test_idx)
        if self.model.task.duration is not None:
            keep = max(1, int(round(self.model.task.duration / self.model.task.presentation)))
            order, real = order[:, :keep], real[:, :keep]
        return order, real

    def accuracy(self, engine, progress=None) -> dict:
        order, real = self.lanes_order(self.test_idx)
        ends, _ = self.present(engine, order, learn=False, progress=progress)
        return self.score(order, real, ends)

    def _extras(self, engine) -> dict:
        """Microcircuit: the alignment angle of each hidden layer (degrees)."""
        if engine.weights.W_IP is None:
            return {}
        return {"alignment_angle_deg": alignment_angles(engine.weights, engine.structure)}

    # -- training, unit by unit (see tasks.run_training): pre-learning epochs, then epochs ------
    def prelearn_epochs(self) -> int:
        return self.model.microcircuit.prelearn_epochs if self.model.microcircuit else 0

    def train_units(self) -> int:
        return self.prelearn_epochs() + self.model.task.epochs

    def train_start(self, engine) -> Training:
        before = self.accuracy(engine)["accuracy"]
        extras = self._extras(engine)
        curve = [dict({"epoch": 0, "test_accuracy": before}, **extras)] if extras else []
        return Training(curve=curve, before={"accuracy_before_training": before})

    def train_resume(self, engine, state: Training) -> None:
        """The learning rate as it was after ``state.unit`` units (decayed once per epoch)."""
        for _ in range(max(0, state.unit - self.prelearn_epochs())):
            engine.scale_eta(self.model.task.eta_decay)

    def train_unit(self, engine, k: int, state: Training, progress=None) -> None:
        if k < self.prelearn_epochs():
            self.prelearn(engine, k, state, progress)
            return
        epoch = k - self.prelearn_epochs()
        rng = rng_for(self.model.seed, "task", "shuffle", str(epoch))
        order, real = self.lanes_order(rng.permutation(self.train_idx))
        ends, _ = self.present(engine, order, learn=True, progress=progress)
        train_cost = cost(ends[real], self.targets(self.y[order][real]))
        result = self.accuracy(engine)
        state.curve.append(dict({"epoch": epoch + 1, "test_accuracy": result["accuracy"], "train_cost": train_cost},
                                **self._extras(engine)))
        engine.scale_eta(self.model.task.eta_decay)

    def prelearn(self, engine, k: int, state: Training, progress=None) -> None:
        """Microcircuit pre-learning epoch k: only W_IP, W_PI learn, without nudging."""
        engine.set_plastic(forward=False)
        rng = rng_for(self.model.seed, "task", "prelearn", str(k))
        order, _ = self.lanes_order(rng.permutation(self.train_idx))
        self.present(engine, order, learn=True, progress=progress, nudge=False)
        engine.set_plastic(forward=True)
        state.curve.append(dict({"epoch": 0, "prelearn_epoch": k + 1}, **self._extras(engine)))

    def train_finish(self, engine, state: Training) -> tuple[list, dict]:
        final = self.accuracy(engine)
        metrics = {"accuracy": final["accuracy"], "confusion": final["confusion"],
                   "test_samples": final["test_samples"], "train_samples": int(len(self.train_idx))}
        metrics.update(state.before)
        metrics.update(self._extras(engine))
        return state.curve, metrics

    def train(self, engine, progress=None) -> tuple[list, dict]:
        return run_training(self, engine, progress)

    def train_steps(self) -> int:
        slots = -(-len(self.train_idx) // self.lanes)
        return self.train_units() * slots * self.steps

    def eval_protocol(self) -> Protocol:
        """The evaluation run as one protocol (what `neuromorph compile` shows)."""
        return self.protocol(self.test_order()[0], learn=False)

    def eval_steps(self) -> int:
        return self.test_order()[0].shape[1] * self.steps

    def evaluate(self, engine, record=(), every=1, progress=None) -> tuple[dict, dict]:
        order, real = self.test_order()
        ends, traces = self.present(engine, order, learn=False, record=record, every=every, progress=progress)
        return traces, self.score(order, real, ends)
