"""Teacher-student regression (our construction; the paper states the paradigm, not a recipe).

A fixed random teacher with the student's layered shape maps the low-pass filtered input to
target voltages, u*(t) = F*(r_bar_in(t)), so the target is an instantaneous function of the
filtered input, as the NLA theory assumes. Inputs: band-limited Gaussian noise (below
``input_cutoff`` Hz, std ``input_std``) through a logistic, independent per lane and channel.
The student learns in real time with nudging beta; the cost C = 1/2 ||u* - u_out||^2 is measured
on a fixed held-out stream with beta = 0 and plasticity off.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ..families.nla import dynamics as dyn
from ..families.nla import settings
from ..families.nla.network import Weights, clipped_normal, structure
from ..seeds import derive_seed, rng_for
from ..signals import NoiseSource
from ..spec.common import SmoothNoise
from . import Protocol, Training, collect, cost, run_training

#: Simulated seconds per protocol while training.
CHUNK = 1.0


class Stream:
    """Input rates x(t) and teacher targets u*(t) for every lane, generated chunk by chunk."""

    def __init__(self, task, seed: int):
        cfg, st = task.model.task, task.structure
        noise = SmoothNoise(kind="smooth", std=cfg.input_std, cutoff=cfg.input_cutoff)
        self.source = NoiseSource(noise, seed, "input", task.lanes * st.n_in, duration=0.0)
        self.task = task
        self.k = 0
        self.xbar: np.ndarray | None = None

    def next(self, n_steps: int):
        """(x, target): (n_steps, L, n_in) rates and (n_steps, L, n_out) targets."""
        task = self.task
        dt, tau_in = task.settings.dt, task.settings.tau_in
        t = (self.k + np.arange(n_steps)) * dt
        x = expit(self.source(t)).reshape(n_steps, task.lanes, task.structure.n_in)
        xbar = np.empty_like(x)
        current = x[0].copy() if self.xbar is None else self.xbar
        for k in range(n_steps):  # the same Euler filter as the engines'
            xbar[k] = current
            current = current + dt / tau_in * (x[k] - current)
        self.xbar = current
        self.k += n_steps
        return x, task.teacher_output(xbar)


class Teacher:
    def __init__(self, model):
        self.model = model
        self.structure = structure(model)
        self.settings = settings(model, self.structure)
        self.lanes = model.learning.lanes
        init = model.task.teacher_init

        def draw(name, shape, mask):
            return clipped_normal(rng_for(model.seed, "teacher", name), shape, init.std, init.clip, init.mean) * mask

        self.weights = Weights(W=draw("W", (self.structure.n, self.structure.n), self.structure.mask_W),
                               W_in=draw("W_in", (self.structure.n, self.structure.n_in), self.structure.mask_in),
                               b=draw("b", (self.structure.n,), np.ones(self.structure.n)))

    def teacher_output(self, xbar) -> np.ndarray:
        return dyn.forward(self.weights, self.structure, self.settings.rho, xbar)[..., self.structure.out]

    def steps(self, seconds: float) -> int:
        return int(round(seconds / self.settings.dt))

    def feed(self, engine, stream, seconds, learn, fresh, record=(), every=1, progress=None):
        """Feed ``seconds`` of ``stream`` in protocols of CHUNK seconds; ``fresh`` resets the
        lanes at the start, otherwise they continue from the engine's state."""
        total, chunks, first = self.steps(seconds), [], fresh
        beta = np.full(self.structure.n_out, self.model.learning.beta if learn else 0.0)
        while total > 0:
            n = min(total, self.steps(CHUNK))
            x, target = stream.next(n)
            p = Protocol(x=x, target=target, beta=beta, learn=learn,
                         x0=x[0] if first else None, target0=target[0] if first else None)
            rec, _ = engine.run_protocol(p, record, every, progress=progress)
            chunks.append(rec)
            first = False
            total -= n
        return collect(chunks)

    def test_run(self, engine, seconds=None, record=(), every=1, progress=None):
        """The held-out stream (the training state is kept aside); every step recorded."""
        saved = engine.save_state()
        stream = Stream(self, derive_seed(self.model.seed, "task", "test"))
        seconds = self.model.task.test_duration if seconds is None else seconds
        wanted = tuple(dict.fromkeys(tuple(record) + ("u_out", "target")))
        rec = self.feed(engine, stream, seconds, learn=False, fresh=True, record=wanted, progress=progress)
        engine.restore_state(saved)
        skip = self.steps(5 * self.model.neuron.tau)
        target = rec["target"][skip:]
        scores = {"cost": cost(rec["u_out"][skip:], target),
                  "cost_of_mean_predictor": cost(target.mean(axis=(0, 1)), target)}
        return {k: rec[k][::every] for k in record}, scores

    # -- training, unit by unit (see tasks.run_training): one evaluation interval per unit -------
    def train_units(self) -> int:
        cfg = self.model.task
        return int(np.ceil(cfg.train_duration / cfg.eval_every - 1e-9))

    def train_stream(self, state: Training) -> Stream:
        """The training input stream, positioned where ``state`` left it."""
        stream = Stream(self, derive_seed(self.model.seed, "task", "train"))
        if "stream_k" in state.extra:
            stream.k = int(state.extra["stream_k"])
            stream.xbar = np.array(state.extra["stream_xbar"])
        return stream

    def train_start(self, engine) -> Training:
        _, first = self.test_run(engine)
        before = {"cost_before_training": first["cost"], "cost_of_mean_predictor": first["cost_of_mean_predictor"],
                  **self.angles(engine.weights, "before_training")}
        return Training(curve=[{"time": 0.0, "test_cost": first["cost"]}], before=before, extra={"done": 0.0})

    def train_resume(self, engine, state: Training) -> None:
        pass  # the stream is repositioned from state.extra, the lanes' state by the caller

    def train_unit(self, engine, k: int, state: Training, progress=None) -> None:
        cfg = self.model.task
        done = float(state.extra["done"])
        stream = self.train_stream(state)
        span = min(cfg.eval_every, cfg.train_duration - done)
        self.feed(engine, stream, span, learn=True, fresh=done == 0.0, progress=progress)
        done += span
        state.curve.append({"time": done, "test_cost": self.test_run(engine)[1]["cost"]})
        state.extra.update(done=done, stream_k=stream.k, stream_xbar=np.asarray(stream.xbar))

    def train_finish(self, engine, state: Training) -> tuple[list, dict]:
        final = state.curve[-1]["test_cost"]
        initial, baseline = state.before["cost_before_training"], state.before["cost_of_mean_predictor"]
        metrics = {"cost": final, "cost_before_training": initial, "cost_reduction": 1.0 - final / initial,
                   "cost_of_mean_predictor": baseline, "cost_relative_to_mean_predictor": final / baseline,
                   **{k: v for k, v in state.before.items() if k.startswith("teacher_angle")},
                   **self.angles(engine.weights)}
        return state.curve, metrics

    def matched(self, weights):
        """The student's weights with each hidden layer's units reordered to match the teacher's
        (hidden units can be permuted without changing the network): the assignment that maximizes
        the summed cosine between their incoming weights (input and network), layer by layer."""
        from scipy.optimize import linear_sum_assignment

        st = self.structure
        order = np.arange(st.n)
        if not st.layered:
            return weights
        for layer in st.layers[:-1]:
            rows = [np.hstack([weights.W_in[layer], weights.W[layer][:, order]]),
                    np.hstack([self.weights.W_in[layer], self.weights.W[layer]])]
            a, b = (r / np.maximum(np.linalg.norm(r, axis=1, keepdims=True), 1e-300) for r in rows)
            _, pick = linear_sum_assignment(-(b @ a.T))  # teacher unit i <- student unit pick[i]
            order[layer] = np.arange(st.n)[layer][pick]
        out = weights.copy()
        out.W_in, out.W, out.b = weights.W_in[order], weights.W[order][:, order], weights.b[order]
        return out

    def angles(self, weights, when: str = "") -> dict:
        """The angle (degrees) between the student's weights, its hidden units matched to the
        teacher's (:meth:`matched`), and the teacher's, flattened, for the input projection
        (``teacher_angle_in_deg``) and the network's (``teacher_angle_deg``): 0 when the student
        has learned the teacher's weights (up to scale). Matching finds some alignment in unrelated
        weights too (the seeded nla_teacher student: 51 degrees for the input weights), so runs
        also report the angle before training."""
        suffix = f"_{when}" if when else ""
        student = self.matched(weights)
        out = {}
        for key, name in (("in", "W_in"), ("", "W")):
            a, b = np.ravel(getattr(student, name)), np.ravel(getattr(self.weights, name))
            norm = np.linalg.norm(a) * np.linalg.norm(b)
            if norm > 0:
                angle = np.degrees(np.arccos(np.clip(a @ b / norm, -1.0, 1.0)))
                out["teacher_angle" + (f"_{key}" if key else "") + f"_deg{suffix}"] = float(angle)
        return out

    def train(self, engine, progress=None) -> tuple[list, dict]:
        return run_training(self, engine, progress)

    def train_steps(self) -> int:
        return self.steps(self.model.task.train_duration)

    def eval_protocol(self) -> Protocol:
        stream = Stream(self, derive_seed(self.model.seed, "task", "test"))
        x, target = stream.next(self.eval_steps())
        return Protocol(x=x, target=target, beta=np.zeros(self.structure.n_out), learn=False, x0=x[0],
                        target0=target[0])

    def eval_steps(self) -> int:
        cfg = self.model.task
        return self.steps(cfg.test_duration if cfg.duration is None else cfg.duration)

    def evaluate(self, engine, record=(), every=1, progress=None):
        rec, scores = self.test_run(engine, self.model.task.duration, record, every, progress)
        return rec, {"cost": scores["cost"]}
