"""Deployment manifests (``deploy/*.yaml``): a model, a target backend, a hardware profile and
run settings, validated like model specs (every problem at once, with file, key path and line).

Run settings override the model's ``spiking`` section (``input_rate``, ``tau_syn``, ``dt``,
``neurons`` and, for NLA models, the latency choices ``encoding``, ``synapse``, ``readout``,
``readout_window``, ``between``, ``initial``, ``prospective``, ``rate_scale``, ``latency``), the
presentation times and seeds of the comparison, and the simulated duration.
Paths are relative to the manifest's folder.
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Annotated, Literal, Optional

from pydantic import StrictBool, Field, Strict, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass

from ..errors import Problem, unknown_name
from .common import CONFIG, Calibration, Identifier, ModelName, NonNegativeReal, PositiveReal, describe
from .pydantic_errors import format_path, problems_from_validation
from .documents import read_document
from .yamlio import line_of

FORMAT_VERSION = 1


@dataclass(config=CONFIG, frozen=True)
class RunSettings:
    """``presentation_times`` (s, classification models), ``seeds`` (spiking realizations),
    ``duration`` (s), and spiking overrides: ``input_rate`` (Hz), ``tau_syn`` (s), ``dt`` (s),
    ``neurons`` (per represented dimension), and the latency choices of NLA models (as in a
    spec's ``spiking`` section: ``encoding``, ``synapse``, ``readout``, ``readout_window``,
    ``between``, ``initial``, ``prospective``, ``rate_scale``, ``latency``, ``gap``, ``calibrate``)."""

    presentation_times: Optional[tuple[PositiveReal, ...]] = None
    seeds: Annotated[int, Strict(), Field(ge=1, le=100)] = 1
    duration: Optional[PositiveReal] = None
    input_rate: Optional[PositiveReal] = None
    tau_syn: Optional[PositiveReal] = None
    dt: Optional[PositiveReal] = None
    neurons: Optional[Annotated[int, Strict(), Field(gt=0, le=20000)]] = None
    encoding: Optional[Literal["poisson", "regular"]] = None
    synapse: Optional[Literal["alpha", "lowpass", "none"]] = None
    readout: Optional[Literal["end", "count"]] = None
    readout_window: Optional[Annotated[float, Strict(), Field(gt=0.0, le=1.0)]] = None
    between: Optional[Literal["continuous", "reset", "gap"]] = None
    gap: Optional[NonNegativeReal] = None
    calibrate: Optional[Calibration] = None
    initial: Optional[Literal["random", "rest"]] = None
    prospective: Optional[StrictBool] = None
    rate_scale: Optional[Annotated[float, Strict(), Field(ge=1.0, le=100.0)]] = None
    latency: Optional[Literal["fixed", "auto"]] = None


@dataclass(config=CONFIG, frozen=True)
class Manifest:
    """What ``neuromorph deploy`` runs: ``model`` on ``target``, compared with ``compare_with``;
    fit checked on ``hardware_profile``; energy estimated on it and on ``energy_profiles``.
    ``model`` may be a .nir file; ``input`` then names its ``IN.npz`` (spike counts per input
    node), and ``run.dt`` the step the file is read with."""

    format_version: Annotated[int, Strict()]
    kind: Literal["deployment"]
    name: ModelName
    model: Annotated[str, Strict(), Field(min_length=1)]
    target: Annotated[str, Strict(), Field(min_length=1)]
    hardware_profile: Optional[Identifier] = None
    energy_profiles: tuple[Identifier, ...] = ()
    compare_with: tuple[Annotated[str, Strict()], ...] = ("rate",)
    run: RunSettings = field(default_factory=RunSettings)
    input: Optional[Annotated[str, Strict(), Field(min_length=1)]] = None
    description: str = ""


def _at(file, lines, path, message, severity="error") -> Problem:
    return Problem(message, path=format_path(path), file=file, line=line_of(lines, path), severity=severity)


def check_names(manifest: Manifest, file: str, lines: dict, known: list, profiles: list) -> list:
    """Backends (``known``) and the hardware profiles (``profiles``) must exist."""
    problems = []
    if manifest.target not in known:
        problems.append(_at(file, lines, ("target",), unknown_name("backend", manifest.target, known)))
    for k, name in enumerate(manifest.compare_with):
        if name not in known:
            problems.append(_at(file, lines, ("compare_with", k), unknown_name("backend", name, known)))
    if manifest.hardware_profile is not None and manifest.hardware_profile not in profiles:
        problems.append(_at(file, lines, ("hardware_profile",),
                            unknown_name("hardware profile", manifest.hardware_profile, profiles)))
    for k, name in enumerate(manifest.energy_profiles):
        if name not in profiles:
            problems.append(_at(file, lines, ("energy_profiles", k), unknown_name("hardware profile", name, profiles)))
    return problems


def validate_file(path, backends: list, profiles: list) -> tuple:
    """(manifest or None, model or None, problems) for a manifest file; the model it names is
    validated too, its problems reported against the model's file. ``backends`` and ``profiles``:
    the names a manifest may use."""
    from . import validate_file as validate_model

    file = str(path)
    data, lines, problems = read_document(path, "deployment manifest")
    if problems:
        return None, None, problems
    if not isinstance(data, dict):
        return None, None, [Problem(f"a deployment manifest is a mapping of keys (got {describe(data)})", file=file)]
    if data.get("format_version") != FORMAT_VERSION:
        return None, None, [_at(file, lines, ("format_version",),
                                f"unsupported format version {describe(data.get('format_version'))}; "
                                f"this neuromorph reads: {FORMAT_VERSION}")]
    try:
        manifest = TypeAdapter(Manifest).validate_python(data)
    except ValidationError as e:
        return None, None, problems_from_validation(e, Manifest, file, lines)
    problems = check_names(manifest, file, lines, backends, profiles)
    model_path = Path(path).parent / manifest.model
    if str(model_path).lower().endswith(".nir"):
        model, model_problems = _nir_model(manifest, Path(path).parent, file, lines)
    else:
        if manifest.input is not None:
            problems.append(_at(file, lines, ("input",), "input applies to .nir models (the model is a spec: its "
                                                        "task makes its inputs)"))
        model, model_problems = validate_model(model_path)
    problems += model_problems
    if model is None and not model_problems:
        problems.append(_at(file, lines, ("model",), f"cannot load {str(model_path)!r}"))
    if any(p.severity == "error" for p in problems):
        return None, None, problems
    return manifest, model, problems


def _nir_model(manifest: Manifest, folder: Path, file: str, lines: dict) -> tuple:
    """(NIR model or None, problems): the file read with the manifest's input and step."""
    from ..errors import NeuromorphError
    from ..families.nir import load

    run = manifest.run
    problems = [_at(file, lines, ("run", key), f"run.{key} does not apply to .nir models (only dt and seeds)")
                for key in ("presentation_times", "duration", "input_rate", "tau_syn", "neurons")
                if getattr(run, key) is not None]
    if manifest.input is None:
        problems.append(_at(file, lines, ("model",), "a .nir model needs input: IN.npz (its input spikes)"))
        return None, problems
    try:
        return load(folder / manifest.model, input=folder / manifest.input, dt=run.dt), problems
    except NeuromorphError as e:
        return None, problems + [_at(file, lines, ("model",), str(e))]


def model_path(manifest: Manifest, manifest_file) -> Path:
    return Path(manifest_file).parent / manifest.model
