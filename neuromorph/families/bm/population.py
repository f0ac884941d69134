r"""Population coding of BM (Kim 2024): tuning, ranges and decoders (backend-neutral NumPy).

Per synapse k, one ensemble of LIF neurons represents x = (mu / R_mu, w / R_w, s / R_s), each
coordinate within +-1/sqrt(3) so the vector stays in the unit ball (R: the rate reference's
extreme values x ``spiking.radius_margin``). A recurrent connection whose synapse has the
transfer function 1 / ((t1 s + 1)(t2 s + 1)) realizes dx/dt = f(x) when it decodes

    g(x) = x + (t1 + t2) f(x) + t1 t2 (df/dx) f(x)

(an alpha synapse is t1 = t2 = tau) when s is constant. A changing s adds t1 t2 (df/ds) ds/dt;
f is linear in s, so the ensemble represents s ahead by c = t1 t2 / (t1 + t2),
s~(t) = s(t) + (s(t + c) - s(t - c)) / 2 (:func:`ahead`), and the (t1 + t2) f term supplies it
to first order (bounded where s jumps: the difference quotient spans 2c). The read-out's
alpha synapse (``spiking.tau_syn``) delays what it decodes by 2 tau on average, so the read-out
decodes the same g with t1 = t2 = tau_syn: filtered, it is x(t) itself to second order (for
kim_fig3_solid the delay alone was an nrmse of 0.041 in mu, most of Nengo's error). The momenta
stay exactly 0 from p(0) = 0 (Eqs 25-26 are homogeneous in p) and are not represented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...encoding import Ensemble, decoders, make_ensemble, unit_ball
from ...errors import NeuromorphError
from ...seeds import rng_for, spiking_seed
from . import maths as bm

#: Decoder regularization (relative to the largest rate), as Nengo's default solver: the chip's
#: (its decode weights keep their bits with it).
REG = 0.05
#: Off chip: regularization shrinks every decoded value towards 0, and in the loop that shrinkage
#: is extra damping common to every seed (kim_fig3_solid, Nengo, 1200 per dimension, seeds 0-3:
#: nrmse 0.051 / 0.054 at 0.05, 0.039 / 0.045 at 0.01).
REG_OFF_CHIP = 0.01
#: Step (s) of the backward integration that gives the trajectory before t = 0.
HISTORY_DT = 0.0005


class MappingError(NeuromorphError):
    """A model the population-coding compiler cannot map."""


@dataclass
class SynapseCode:
    """One synapse's ensemble: tuning, scales and decoders."""

    ens: Ensemble
    scale: np.ndarray  # (3,): R_mu, R_w, R_s
    recurrent: np.ndarray  # (n, 2) decoders of g(x) (scaled units)
    readout: np.ndarray  # (n, 2) decoders of (mu, w) ahead by the read-out synapse, in model units


@dataclass
class Mapping:
    """The population code of a BM model: one :class:`SynapseCode` per synapse."""

    system: object
    replicas: list  # per synapse, its independent ensembles (one unless the target needs more)
    taus: tuple  # (t1, t2) of the recurrent synapse (s)
    reg: float = REG  # decoder regularization, relative to the largest rate

    @property
    def populations(self) -> list:
        """Per synapse, its first ensemble (the one there is without replicas)."""
        return [group[0] for group in self.replicas]

    @property
    def signal(self):
        """The represented input: s ahead by the loop's lead (:func:`ahead`)."""
        return ahead(self.system.signal, lead(self.taus))  # type: ignore[attr-defined]

    @property
    def n_neurons(self) -> int:
        return sum(p.ens.n for group in self.replicas for p in group)


#: Rate trajectories already computed in this process, by the spec's canonical JSON.
_REFERENCES: dict = {}


def reference(model):
    """The rate reference's (mu, w) on the model's time grid: (t, mu, w), arrays (T,), (T, n)
    (computed once per spec in a process: lowering for several targets reuses it)."""
    import dataclasses
    import json

    from ... import spec
    from ...spec.common import Record
    from .rate import simulate_bm

    key = json.dumps(spec.to_data(model), sort_keys=True)
    if key not in _REFERENCES:
        ref = simulate_bm(dataclasses.replace(model, record=Record(variables=("mu", "w"), dt=None)))
        flat = [np.asarray(ref.traces[v]).reshape(len(ref.t), -1) for v in ("mu", "w")]
        if len(_REFERENCES) >= 8:
            _REFERENCES.pop(next(iter(_REFERENCES)))
        _REFERENCES[key] = (ref.t, *flat)
    return _REFERENCES[key]


def lead(taus) -> float:
    """c = t1 t2 / (t1 + t2) (s): how far ahead the loop needs its input."""
    t1, t2 = taus
    return t1 * t2 / (t1 + t2)


def ahead(signal, c: float):
    r"""The represented input, t -> s(t) + (s(t + c) - s(t - c)) / 2 (:math:`\approx s + c\,\dot s`)."""
    def represented(t):
        t = np.asarray(t, dtype=float)
        return np.asarray(signal(t), dtype=float) + (np.asarray(signal(t + c)) - np.asarray(signal(t - c))) / 2

    return represented


def ranges(model, signal, s_times) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Representation ranges (mu, w, s) per synapse: the rate reference's extremes x margin
    (the represented input ``signal`` over ``s_times``)."""
    _, mu, w = reference(model)
    s = np.asarray(signal(s_times)).reshape(len(s_times), -1)
    margin = model.spiking.radius_margin

    def span(values):
        top = np.max(np.abs(values), axis=0) * margin
        return np.where(top > 0, top, 1.0)

    return span(mu), span(w), span(s)


def dynamics(scale, params, k):
    """f(x) and its Jacobian df/dx for synapse k in scaled units (x: (P, 3) -> (P, 2))."""
    h, gm, gw, md, wd = params.hebbian_sign, params.gamma_mu[k], params.gamma_w[k], params.mu_d[k], params.w_d[k]

    def f(x):
        mu, w, s = (x * scale).T
        return np.stack([(-gm * (mu - md) + w * s) / scale[0], (-gw * (w - wd) + h * s * mu) / scale[1]], axis=1)

    def jac(x):
        s = x[:, 2] * scale[2]
        J = np.empty((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1] = -gm, s * scale[1] / scale[0]
        J[:, 1, 0], J[:, 1, 1] = h * s * scale[0] / scale[1], -gw
        return J

    return f, jac


def feedback(x, f, jac, taus) -> np.ndarray:
    """g(x) = x[:, :2] + (t1 + t2) f(x) + t1 t2 (df/dx) f(x) for a two-stage synapse."""
    t1, t2 = taus
    fx = f(x)
    return x[:, :2] + (t1 + t2) * fx + t1 * t2 * np.einsum("pij,pj->pi", jac(x), fx)


def build(model, s_times, taus, tau_ref: float, rate_fn=None, max_rates=None, intercepts=None,
          reg: float = REG, replicas: int = 1) -> Mapping:
    """The population code of ``model``.

    Parameters
    ----------
    s_times : ndarray
        Times (s) at which the simulator samples s(t) (its range sets R_s).
    taus : (float, float)
        Time constants (s) of the recurrent synapse's two stages.
    tau_ref : float
        Refractory period (s) of the tuning curves the decoders are solved for (the simulator's
        effective one).
    rate_fn : callable, optional
        Steady rate (Hz) of the target's neurons for a current J, if not the LIF curve.
    max_rates : (float, float), optional
        Range of maximum rates (Hz) instead of ``spiking.max_rates``.
    intercepts : (float, float), optional
        Range of intercepts instead of ``spiking.intercepts``.
    reg : float
        Decoder regularization, relative to the largest rate.
    replicas : int
        Independent ensembles per synapse that share its 3 ``spiking.neurons`` neurons (as equal
        as they divide), each with its own tuning and decoders; the first is the one a single
        ensemble would be.
    """
    system = bm.resolve(model)
    if np.any(system.y0[2:] != 0):
        raise MappingError("initial momenta must be 0 for the spiking mapping (Eqs 25-26 grow like "
                           "exp(gamma t) from any other start and cannot be represented)")
    sp = model.spiking
    signal = ahead(system.signal, lead(taus))
    R_mu, R_w, R_s = (r * np.sqrt(3.0) for r in ranges(model, signal, s_times))
    rng = rng_for(spiking_seed(model), "spiking", "points")
    t_ref, ref_mu, ref_w = reference(model)
    ref_s = np.asarray(signal(t_ref)).reshape(len(t_ref), -1)
    groups = []
    sizes = [len(part) for part in np.array_split(np.arange(3 * sp.neurons), replicas)]
    for k in range(system.n):
        scale = np.array([R_mu[k], R_w[k], R_s[k]])
        # evaluation points: half over the whole ball, half near the states the rate reference visits
        visited = np.stack([ref_mu[:, k], ref_w[:, k], ref_s[:, k]], axis=1) / scale
        near = visited[rng.integers(0, len(visited), 3000)] + rng.normal(0, 0.03, (3000, 3))
        pts = np.concatenate([unit_ball(rng, 3000, 3), near[np.linalg.norm(near, axis=1) < 1]])
        f, jac = dynamics(scale, system.params, k)
        target = feedback(pts, f, jac, taus)
        read = feedback(pts, f, jac, (sp.tau_syn, sp.tau_syn))  # cancels the read-out synapse's delay
        group = []
        for r, n in enumerate(sizes):
            key = str(k) if r == 0 else f"{k}.{r}"
            ens = make_ensemble(rng_for(spiking_seed(model), "spiking", "ensemble", key), n, 3,
                                max_rates or sp.max_rates, intercepts or sp.intercepts, sp.tau_rc, tau_ref)
            ens.rate_fn = rate_fn
            group.append(SynapseCode(ens=ens, scale=scale, recurrent=decoders(ens, pts, target, reg=reg),
                                     readout=decoders(ens, pts, read, reg=reg) * scale[:2]))
        groups.append(group)
    return Mapping(system=system, replicas=groups, taus=tuple(taus), reg=reg)


def past(system, span: float, signal=None) -> np.ndarray:
    """(mu, w, s) at t = -k h for k = 0..span/h (h = HISTORY_DT), integrating Eqs 23-24
    backwards from the initial state (momenta 0): shape (steps, 3, n); s as ``signal`` gives it
    (default: the model's own)."""
    from ...numerics import rk4_step

    steps = int(np.ceil(span / HISTORY_DT)) + 1
    y = system.y0.copy()
    out = np.empty((steps, 3, system.n))
    for k in range(steps):
        t = -k * HISTORY_DT
        out[k, 0], out[k, 1], out[k, 2] = y[0], y[1], (signal or system.signal)(t)
        y = rk4_step(lambda tt, yy: -bm.derivatives(yy, system.signal(-tt), system.params), -t, y, HISTORY_DT)
    return out


def notes(mapping, read_tau: float) -> list:
    p, m = mapping.populations[0], len(mapping.replicas[0])
    t1, t2 = mapping.taus
    synapse = f"alpha synapse, tau = {t1 * 1e3:g} ms" if t1 == t2 else \
        f"two-stage synapse, tau = {t1 * 1e3:g} ms and {t2 * 1e3:g} ms"
    ensembles = f"one ensemble of {p.ens.n}" if m == 1 else f"{m} independent ensembles of about {p.ens.n}"
    return [f"population coding: per synapse {ensembles} LIF neurons represents "
            f"(mu/{p.scale[0]:.3g}, w/{p.scale[1]:.3g}, s/{p.scale[2]:.3g}) (ranges: rate reference x margin)",
            f"recurrent decoders realize dx/dt = f(x) through the {synapse}: "
            "g = x + (t1 + t2) f + t1 t2 (df/dx) f",
            f"the state is read out through alpha synapses of {read_tau * 1e3:g} ms, decoding "
            "x + 2 tau f + tau^2 (df/dx) f so that the filtered read-out is not delayed",
            f"decoders: least squares regularized at {mapping.reg:g} x the largest rate"]
