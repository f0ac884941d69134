"""``neuromorph deploy MANIFEST``: validate, apply the run settings, check the fit against the
hardware profile, run the target and the backends it is compared with, write the report."""

from __future__ import annotations

import dataclasses

from dataclasses import dataclass
from pathlib import Path

from .. import families, spec
from ..errors import SpecError
from ..spec import manifest as mf
from ..spec.common import Calibration

SPIKING_KEYS = ("input_rate", "tau_syn", "dt", "neurons", "encoding", "synapse", "readout", "readout_window",
                "between", "initial", "prospective", "rate_scale", "latency", "gap", "calibrate")


@dataclass
class Deployment:
    manifest: mf.Manifest
    model: object
    model_file: str
    manifest_file: str
    fit: dict | None = None

    @property
    def profiles(self) -> list:
        """Profiles for the energy estimates and quantized-rate runs."""
        m = self.manifest
        first = [m.hardware_profile] if m.hardware_profile else []
        return list(dict.fromkeys(first + list(m.energy_profiles)))


def load(manifest_file) -> Deployment:
    """The validated manifest and its model with the run settings applied (raises SpecError)."""
    from .. import backends
    from ..hardware import profile_names

    manifest, model, problems = mf.validate_file(manifest_file, backends.names(), profile_names())
    if manifest is None:
        raise SpecError(problems)
    model_file = str(mf.model_path(manifest, manifest_file))
    return Deployment(manifest, apply_settings(model, manifest.run, str(manifest_file)), model_file,
                      str(manifest_file))


def apply_settings(model, run, file: str):
    """The model with the manifest's spiking settings and duration (re-validated); a NIR file's
    settings were applied when it was read."""
    if families.of(model).deploy_settings(model) is None:
        return model
    data = spec.to_data(model)
    for key in SPIKING_KEYS:
        value = getattr(run, key)
        if isinstance(value, Calibration):  # a nested section
            value = dataclasses.asdict(value)
        if value is not None:
            data.setdefault("spiking", {})[key] = value
    if run.duration is not None:
        section, name = families.of(model).override_paths(model)["duration"]
        data[section][name] = run.duration
    new, problems = spec.validate_data(data, file=file)
    if new is None:
        raise SpecError(problems)
    return new


def check_fit(dep: Deployment) -> dict | None:
    """Fit of the model on the manifest's hardware profile (None without a profile)."""
    if dep.manifest.hardware_profile is None:
        return None
    from ..hardware import check

    return check.run(dep.model, dep.manifest.hardware_profile, base_dir=str(Path(dep.model_file).parent)).as_dict()


def deploy(manifest_file, out, progress=None):
    """Run a deployment; returns (deployment, comparison, metrics document)."""
    from . import compare_and_report

    dep = load(manifest_file)
    dep.fit = check_fit(dep)
    m = dep.manifest
    names = [m.target] + [n for n in m.compare_with if n != m.target]
    settings = families.of(dep.model).deploy_settings(dep.model)
    record = {"manifest": dep.manifest_file, "target": m.target, "profile": m.hardware_profile,
              "run": settings if settings is not None else {"dt": dep.model.dt, "input": dep.model.input},
              "fit": dep.fit}
    times = list(m.run.presentation_times) if m.run.presentation_times else None
    comparison, doc = compare_and_report(dep.model, names, times, m.run.seeds, out, spec_file=dep.model_file,
                                         progress=progress, deploy=record, profiles=dep.profiles)
    return dep, comparison, doc
