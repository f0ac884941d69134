"""``neuromorph check MODEL --profile NAME``: every hardware rule, the cores and chips needed,
what would have to change; for a profile with a simulator backend (Loihi 1: NengoLoihi) also what
that backend's own build reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, cast

from . import estimate, rules
from .profile import load


@dataclass
class CheckReport:
    model: str
    profile: str
    blocks: list
    findings: list
    cores: int
    chips: int | None
    simulator_build: dict | None = None
    caveats: list = field(default_factory=list)
    simulator: str | None = None

    @property
    def errors(self) -> list:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def verdict(self) -> str:
        if self.errors:
            return f"does not fit ({len(self.errors)} error(s))"
        return f"fits: {self.cores} core(s) on {self.chips} chip(s)" if self.chips else "fits"

    def as_dict(self) -> dict:
        return {"model": self.model, "profile": self.profile, "verdict": self.verdict, "cores": self.cores,
                "chips": self.chips, "findings": [f.as_dict() for f in self.findings],
                "blocks": [b.as_dict() for b in self.blocks], "simulator": self.simulator,
                "simulator_build": self.simulator_build, "caveats": self.caveats}


def trained_weights(model, base_dir):
    """The model's trained weights, if it names a file that loads (else None)."""
    from .. import families
    from ..errors import NeuromorphError

    family = families.of(model)
    if family.needs_training(model, base_dir):
        return None
    try:
        return family.weights(model, base_dir)
    except NeuromorphError:
        return None


def simulator_build(model, profile, base_dir) -> dict | None:
    """What the profile's simulator backend's own build of the network uses (cores), or
    {'error': ...} when that build fails."""
    from .. import backends

    backend = backends.get(profile.simulator)
    return backend.resources(backend.compile(model, base_dir=base_dir).graph)


def run(model, profile_name: str, base_dir=None, build: bool = True) -> CheckReport:
    """Check ``model`` against the profile; with ``build``, and for a profile that names a
    simulator backend, also build the network with it and report its cores."""
    from .target import graphs

    profile = load(profile_name)
    lowered, legal = graphs(model, profile, base_dir)
    blocks = estimate.blocks(legal, profile)
    ctx = rules.Context(model, profile, blocks, lowered, legal, trained_weights(model, base_dir))
    findings = rules.run_all(ctx)
    per_chip = cast(Optional[int], profile.chip.cores.value)
    chips = -(-len(blocks) // per_chip) if per_chip else None
    built = None
    too_big = any(f.rule in ("input_axons_per_core", "output_axons_per_core") for f in findings
                  if f.severity == "error")
    if build and profile.simulator and not too_big:
        built = simulator_build(model, profile, base_dir)
    if built and "error" in built:
        findings.append(rules.Finding("simulator_build", "error", f"the {profile.simulator} backend's build fails: "
                                      f"{built['error']}", "it splits this network differently from the estimate "
                                      "above; reduce the layer's fan-in or size"))
    return CheckReport(model.name, profile.name, blocks, findings, len(blocks), chips, built, list(profile.caveats),
                       profile.simulator)


def text(report: CheckReport) -> str:
    out = [f"{report.model} on {report.profile}: {report.verdict}"]
    built = report.simulator_build or {}
    out.append(f"cores: {report.cores} (estimated from the model's structure)"
               + (f"; the {report.simulator} backend's own build: {built['cores']}" if "cores" in built else ""))
    for b in report.blocks:
        out.append(f"  {b.population}[{b.index}]: {b.neurons} neurons, {b.input_axons} input axons, "
                   f"{b.output_axons} output axons, {b.synapse_bits} synapse bits")
    for f in report.findings:
        line = f"{f.severity}: [{f.rule}] {f.message}"
        out.append(line + (f"\n    to fit: {f.fix}" if f.fix and f.severity == "error" else
                           (f"\n    {f.fix}" if f.fix else "")))
    out += [f"caveat: {c}" for c in report.caveats]
    return "\n".join(out)
