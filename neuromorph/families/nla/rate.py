"""Rate reference for the ``nla`` family: the NumPy engine that tasks drive."""

from __future__ import annotations

import numpy as np

from ...errors import NeuromorphError
from .. import nla
from . import dynamics as dyn


class Diverged(NeuromorphError):
    """The network's state or weights became non-finite."""


class LaneState:
    """What every NLA engine that keeps rate-model state holds: the model, its structure,
    settings and weights, and the lanes' state (voltages, their derivatives, filtered input,
    target)."""

    stats: dict  # what the engine ran: steps, learning_steps (set by each engine)

    def __init__(self, model, weights=None, base_dir=None):
        self.model = model
        self.structure = nla.structure(model)
        self.settings = nla.settings(model, self.structure)
        self.weights = weights.copy() if weights is not None else nla.model_weights(model, self.structure, base_dir)
        self.lanes = model.learning.lanes
        self.state = None

    # -- lifecycle ---------------------------------------------------------------------------
    def reset(self, x0, target0=None) -> None:
        """Lanes start at rest on the forward solution for input ``x0`` (L, n_in); ``target0``
        (L, n_out) is the target already in place (so it causes no step at t = 0)."""
        x0 = np.atleast_2d(np.asarray(x0, dtype=float))
        u0 = dyn.forward(self.weights, self.structure, self.settings.rho, x0)
        target = np.zeros_like(u0) if target0 is None else nla.full_target(self.structure, target0)
        self.state = dyn.State(u=u0, udot=np.zeros_like(u0), xbar=x0.copy(), target=target)

    def outputs(self) -> np.ndarray:
        """Output voltages of every lane now, (L, n_out)."""
        return self.state.u[:, self.structure.out].copy()

    def state_arrays(self) -> dict:
        """The lanes' state as arrays (for checkpoints); empty before the first reset."""
        st = self.state
        if st is None:
            return {}
        return {"u": st.u, "udot": st.udot, "xbar": st.xbar, "target": st.target, "t": np.array(st.t)}

    def load_state_arrays(self, arrays: dict) -> None:
        if arrays:
            self.state = dyn.State(u=np.array(arrays["u"]), udot=np.array(arrays["udot"]),
                                   xbar=np.array(arrays["xbar"]), target=np.array(arrays["target"]),
                                   t=float(arrays["t"]))

    def learning_account(self) -> dict:
        """The plastic weights (weights and biases with a learning rate) and their updates: one
        per plastic weight and model step of learning (the lanes' changes are averaged into it)."""
        s = self.settings
        plastic = int(np.count_nonzero(s.eta_W) + np.count_nonzero(s.eta_in) + np.count_nonzero(s.eta_b))
        steps = self.stats["learning_steps"]
        return {"synapses": plastic, "interval_s": self.model.dynamics.dt, "updates": plastic * steps,
                "learning_s": steps * self.model.dynamics.dt}

    def save_state(self):
        st = self.state
        return None if st is None else dyn.State(st.u.copy(), st.udot.copy(), st.xbar.copy(), st.target.copy(), st.t)

    def restore_state(self, saved) -> None:
        self.state = saved

    def set_plastic(self, forward: bool = True) -> None:
        """Switch the forward weights' plasticity (W, W_in, b) off or back on; the
        microcircuit's lateral weights keep learning."""
        if not hasattr(self, "_forward_eta"):
            self._forward_eta = (self.settings.eta_W, self.settings.eta_in, self.settings.eta_b)
        if forward:
            self.settings.eta_W, self.settings.eta_in, self.settings.eta_b = self._forward_eta
        else:
            self._forward_eta = (self.settings.eta_W, self.settings.eta_in, self.settings.eta_b)
            zeros = (np.zeros_like(a) for a in self._forward_eta)
            self.settings.eta_W, self.settings.eta_in, self.settings.eta_b = zeros

    def run_info(self):
        from ...records import RunInfo

        steps = self.stats["steps"]
        return RunInfo(backend="rate", dt=self.settings.dt, steps=steps, simulated_s=steps * self.settings.dt,
                       hardware={"runs_on": "CPU (NumPy)"}, details={"engine": dict(self.stats)})

    def scale_eta(self, factor: float) -> None:
        for name in ("eta_W", "eta_in", "eta_b", "eta_IP", "eta_PI"):
            value = getattr(self.settings, name)
            if value is not None:
                setattr(self.settings, name, value * factor)


class NLAEngine(LaneState):
    """Runs lanes of an NLA network step by step (see :mod:`neuromorph.families.nla.dynamics`).

    The interface every NLA backend engine offers to tasks:

    - ``reset(x0)``: lanes start on the forward solution for input rates ``x0`` (L, n_in);
    - ``run_protocol(protocol, record, every, marks)``: run a :class:`~neuromorph.tasks.Protocol`,
      returning recordings and the output voltages at the marked step counts;
    - ``weights`` (read/write), ``scale_eta(f)``, ``save_state()`` / ``restore_state(s)``, ``stats``.
    """

    def __init__(self, model, weights=None, base_dir=None):
        super().__init__(model, weights, base_dir)
        self.stats = {"steps": 0, "learning_steps": 0, "dense_fallback_steps": 0, "not_positive_definite_steps": 0}

    # -- running -----------------------------------------------------------------------------
    def run(self, x, target, beta, learn: bool, steps: int, record=(), every: int = 1, offset: int = 0) -> dict:
        if self.state is None:
            raise RuntimeError("call reset() before run()")
        beta_vec = nla.beta_vector(self.structure, beta)
        x = np.asarray(x, dtype=float)
        target = nla.full_target(self.structure, target)
        per_step_x, per_step_t = x.ndim == 3, target.ndim == 3
        out: dict[str, list] = {name: [] for name in record}
        for k in range(steps):
            xk = x[k] if per_step_x else x
            tk = target[k] if per_step_t else target
            try:
                q = dyn.step(self.state, xk, tk, beta_vec, self.weights, self.structure, self.settings, learn)
            except np.linalg.LinAlgError as e:
                raise self._diverged(f"the linear solve failed ({e})") from None
            if record and (offset + k) % every == 0:
                for name in record:
                    out[name].append(self._variable(name, q, tk))
        self._account(steps, learn)
        if not (np.isfinite(self.state.u).all() and np.isfinite(self.weights.W).all()):
            raise self._diverged("voltages or weights are no longer finite")
        return {name: np.array(values) for name, values in out.items()}

    def run_protocol(self, protocol, record=(), every: int = 1, marks=(), progress=None, chunk: int = 1000):
        """Run a :class:`~neuromorph.tasks.Protocol`.

        Returns
        -------
        (recordings, outputs)
            ``recordings``: each variable every ``every`` steps, (K // every, L, ·), sampled at the
            start of a step; ``outputs``: output voltages after ``m`` steps for each ``m`` in
            ``marks``, (len(marks), L, n_out).
        """
        if protocol.x0 is not None:
            self.reset(protocol.x0, protocol.target0)
        wanted = sorted(set(marks))
        outs, chunks, done = {}, [], 0
        stops = sorted(set(wanted) | set(range(chunk, protocol.steps, chunk)) | {protocol.steps})
        for stop in stops:
            if stop <= done:
                continue
            n = stop - done
            rec = self.run(protocol.x[done:stop], protocol.target[done:stop], protocol.beta, protocol.learn, n,
                           record, every, offset=done)
            if record:
                chunks.append(rec)
            done = stop
            if done in wanted:
                outs[done] = self.outputs()
            if progress is not None:
                progress(n)
        from ...tasks import collect

        marked = np.stack([outs[m] for m in marks]) if marks else np.zeros((0, self.lanes, self.structure.n_out))
        return collect(chunks), marked

    def _variable(self, name, q: dyn.Terms, target_full):
        st = self.structure
        if name == "u":
            return q.u
        if name == "u_out":
            return q.u[:, st.out]
        if name == "r_bar":
            return q.r_bar
        if name == "e_bar":
            return q.e_bar
        if name == "target":
            return target_full[:, st.out]
        if name == "input":
            return q.xbar
        raise KeyError(name)

    def _account(self, steps: int, learn: bool) -> None:
        self.stats["steps"] += steps
        if learn:
            self.stats["learning_steps"] += steps
        for key in ("dense_fallback_steps", "not_positive_definite_steps"):
            self.stats[key] += self.state.stats[key]
            self.state.stats[key] = 0

    def _diverged(self, what: str) -> Diverged:
        return Diverged(
            f"the NLA dynamics diverged after {self.state.t:.4g} s of simulated time: {what}; "
            "lower learning.eta (or dynamics.dt), or use the explicit scheme"
        )
