"""``neuromorph check MODEL --profile NAME``: every hardware rule, the cores and chips needed,
what would have to change; for Loihi 1 also what NengoLoihi's own build reports."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    nengo_loihi: dict | None = None
    caveats: list = field(default_factory=list)

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
                "blocks": [b.as_dict() for b in self.blocks], "nengo_loihi": self.nengo_loihi,
                "caveats": self.caveats}


def model_weights(model, base_dir):
    if model.family != "nla" or model.weights is None:
        return None
    from ..families import nla

    try:
        return nla.model_weights(model, nla.structure(model), base_dir)
    except nla.WeightsFileError:
        return None


def nengo_loihi_cores(model, base_dir) -> dict | None:
    """Cores from NengoLoihi's own build of the compiled network (Loihi 1 only)."""
    from ..backends.nengo import LoihiBackend
    from ..backends.nengo.common import quiet, simulator
    from ..backends.nengo.loihi import resources

    from ..backends.nengo.common import import_nengo

    backend = LoihiBackend()
    built = backend.compile(model, base_dir=base_dir)
    try:
        with quiet(), simulator(built.net, "loihi", 0, "sim", getattr(built, "decode_tau", None)) as sim:
            return resources(sim)
    except import_nengo().exceptions.BuildError as e:
        return {"error": str(e)}


def run(model, profile_name: str, base_dir=None, build: bool = True) -> CheckReport:
    """Check ``model`` against the profile; with ``build``, and for a profile named loihi1, also
    build the network with NengoLoihi and report its cores."""
    profile = load(profile_name)
    blocks = estimate.blocks(model, profile)
    ctx = rules.Context(model, profile, blocks, model_weights(model, base_dir))
    findings = rules.run_all(ctx)
    per_chip = profile.chip.cores.value
    chips = -(-len(blocks) // per_chip) if per_chip else None
    built = None
    too_big = any(f.rule in ("input_axons_per_core", "output_axons_per_core") for f in findings
                  if f.severity == "error")
    if build and profile.name == "loihi1" and not too_big:
        built = nengo_loihi_cores(model, base_dir)
    if built and "error" in built:
        findings.append(rules.Finding("nengo_loihi_build", "error", f"NengoLoihi's build fails: {built['error']}",
                                      "NengoLoihi splits this network differently from the estimate above; "
                                      "reduce the layer's fan-in or size"))
    return CheckReport(model.name, profile.name, blocks, findings, len(blocks), chips, built, list(profile.caveats))


def text(report: CheckReport) -> str:
    out = [f"{report.model} on {report.profile}: {report.verdict}"]
    built = report.nengo_loihi or {}
    out.append(f"cores: {report.cores} (estimated from the model's structure)"
               + (f"; NengoLoihi's build: {built['cores']}" if "cores" in built else ""))
    for b in report.blocks:
        out.append(f"  {b.population}[{b.index}]: {b.neurons} neurons, {b.input_axons} input axons, "
                   f"{b.output_axons} output axons, {b.synapse_bits} synapse bits")
    for f in report.findings:
        line = f"{f.severity}: [{f.rule}] {f.message}"
        out.append(line + (f"\n    to fit: {f.fix}" if f.fix and f.severity == "error" else
                           (f"\n    {f.fix}" if f.fix else "")))
    out += [f"caveat: {c}" for c in report.caveats]
    return "\n".join(out)
