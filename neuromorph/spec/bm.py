"""Spec IR of the ``bm`` family (synaptic Bayesian mechanics, Kim 2024) and its checks.

Parameter names follow the paper (Table 1): ``m_mu, m_w, gamma_mu, gamma_w, mu_d, w_d``, plus
the Hebbian sign ``hebbian_sign`` of Eq 20 (-1 reproduces the published figures; see
:mod:`neuromorph.families.bm`). The input is ``s`` (Eq 23-26), the recorded variables are
``mu, w, p_mu, p_w``.
"""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Literal, Optional

import numpy as np
from pydantic import Strict
from pydantic.dataclasses import dataclass

from .. import expr
from ..families.bm import maths
from .checks import Checks, check_noise_size, check_record, check_time_grid, input_names, time_points
from .common import (
    CONFIG,
    Identifier,
    InputSignal,
    ModelName,
    Noise,
    Param,
    PopulationSize,
    PositiveParam,
    Record,
    Seed,
    Sign,
    SmoothNoise,
    Spiking,
    Time,
    default_record,
)


@dataclass(config=CONFIG, frozen=True)
class BMParams:
    """Table 1 of the paper: masses (precisions), frictions (1/s) and prior means."""

    m_mu: PositiveParam
    m_w: PositiveParam
    gamma_mu: PositiveParam
    gamma_w: PositiveParam
    hebbian_sign: Sign
    mu_d: Param = 0.0
    w_d: Param = 0.0


@dataclass(config=CONFIG, frozen=True)
class BMInputs:
    """The presynaptic input s(t): a number, an expression of ``t``, or one per synapse."""

    s: InputSignal


@dataclass(config=CONFIG, frozen=True)
class BMInitial:
    """Initial state; the paper starts from (mu, w) = (0, 0) or (5, 5) with zero momenta."""

    mu: Param = 0.0
    w: Param = 0.0
    p_mu: Param = 0.0
    p_w: Param = 0.0


@dataclass(config=CONFIG, frozen=True)
class BMModel:
    """A synaptic Bayesian-mechanics model (one synapse, or a population of independent ones)."""

    format_version: Annotated[int, Strict()]
    family: Literal["bm"]
    name: ModelName
    params: BMParams
    inputs: BMInputs
    time: Time
    initial: BMInitial = field(default_factory=BMInitial)
    record: Record = default_record(maths.STATE)
    noise: dict[Identifier, Noise] = field(default_factory=dict)
    population: Optional[PopulationSize] = None
    spiking: Spiking = field(default_factory=Spiking)
    seed: Seed = 0
    description: str = ""
    source: str = ""


MODEL = BMModel
STATE = maths.STATE


def check(model: BMModel) -> list:
    """Checks across keys, run once every key is well-formed. Returns problems (errors, warnings)."""
    c = Checks()
    n = model.population.size if model.population else None
    _check_lengths(c, model, n)
    check_time_grid(c, model.time, model.record)
    check_record(c, model.record, STATE)
    check_noise_size(c, model.noise, n or 1, model.time.duration)
    allowed = input_names(c, model.noise)
    tree_ok = _check_input_names(c, model.inputs.s, allowed)
    if not c.errors and tree_ok:
        _check_input_values_and_dt(c, model)
    for key, default in (("encoding", "poisson"), ("synapse", "alpha"), ("readout", "end"), ("between", "continuous"),
                         ("initial", "random"), ("prospective", False), ("rate_scale", 1.0),
                         ("latency", "fixed"), ("calibrate", None), ("gap", 0.0), ("learning_eta", 1.0)):
        if getattr(model.spiking, key) != default:
            c.error(f"spiking.{key}", "applies to NLA models mapped neuron by neuron; population codes (bm) choose "
                                      "their own encoding and read-out (remove the key)")
    if model.spiking.nir_exact:
        c.error("spiking.nir_exact", "population codes (decoded projections, host nodes) have no exact NIR form; "
                                     "export them with --approximate")
    return c.problems


def _check_lengths(c: Checks, model: BMModel, n) -> None:
    sections = {"params": model.params, "initial": model.initial, "inputs": model.inputs}
    for section, obj in sections.items():
        for key, value in vars(obj).items():
            if not isinstance(value, tuple):
                continue
            path = f"{section}.{key}"
            if n is None:
                c.error(path, f"a list of {len(value)} values needs population.size (no population given)")
            elif len(value) != n:
                c.error(path, f"has {len(value)} values, but population.size is {n}")


def _check_input_names(c: Checks, value, allowed) -> bool:
    items = value if isinstance(value, tuple) else (value,)
    ok = True
    for k, item in enumerate(items):
        if not isinstance(item, str):
            continue
        path = "inputs.s" if not isinstance(value, tuple) else f"inputs.s[{k}]"
        try:
            expr.check_names(expr.parse(item), allowed)
        except expr.ExprError as e:
            c.error(path, str(e))
            ok = False
    return ok


def _check_input_values_and_dt(c: Checks, model: BMModel) -> None:
    system = maths.resolve(model)
    t = time_points(model.time, system.n)
    s = system.signal(t)
    bad = ~np.isfinite(s)
    if bad.any():
        first = t[np.argmax(bad.any(axis=-1))]
        c.error("inputs.s", f"the input is not a finite number at t = {first:g} s (found {s[bad][0]})")
        return
    if model.time.integrator == "scipy":
        return
    rate = maths.fastest_rate(s, system.params)
    for spec in model.noise.values():
        if isinstance(spec, SmoothNoise):
            rate = max(rate, 2 * np.pi * spec.cutoff)
    if rate > 0 and model.time.dt * rate > 0.1:
        c.warning(
            "time.dt",
            f"{model.time.dt:g} s is coarse for the fastest time scale of this model "
            f"({1 / rate:.3g} s, from the eigenvalues of R(s) and the input bandwidth); "
            f"a step of at most {0.1 / rate:.2g} s keeps the fixed-step error small",
        )

