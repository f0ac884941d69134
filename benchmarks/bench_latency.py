"""Accuracy, gap to the rate model, spikes and energy per inference against presentation time.

A digits model (``--model``, default the shipped nla_digits) on loihi (emulator), nengo and
brian2-spiking, at 5 to 200 ms per image, 3 spiking seeds each (mean and 95 % Student-t interval),
in these configurations (``--configs``): the shipped spec (``shipped``: Poisson inputs, alpha
synapses and ``latency: auto``, the compiler's choices below the mapping's delay); the design
card's mapping as written (``design_fixed``: the read-out's value at the end of each
presentation); the best latency choices recorded so far (``best``, as
``deploy/digits_on_loihi_fast.yaml``: regular inputs at 900 Hz, no synaptic filter, spike counts
over the presentation, units three times as fast (four on Loihi), weights calibrated on each
target's LIF curve and counts, every target at the chip's 1 ms step); and first-order synapses
with the prospective
kick (``lowpass_kick``). Gap = rate accuracy at the same presentation time minus spiking accuracy,
in points. Energy per inference on the Loihi 1 and Loihi 2 profiles (hardware/energy.py). The
runs go through ``neuromorph sweep``; ``--workers N`` spreads them over N processes, ``--times``
picks presentation times (s, comma-separated), ``--quick`` is 20, 50 and 100 ms and one seed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from scipy import stats

from neuromorph import api, spec
from neuromorph.hardware import energy, profile

from _common import report

MODEL = "models/nla_digits.yaml"
BACKENDS = ["rate", "loihi", "nengo", "brian2-spiking"]
TIMES = "0.005,0.01,0.02,0.05,0.1,0.2"
FIXED = ["spiking.latency=fixed"]
CONFIGS = {
    "shipped": [],
    "design_fixed": FIXED,
    "best": FIXED + ["spiking.encoding=regular", "spiking.synapse=none", "spiking.readout=count",
                     "spiking.rate_scale=3.0", "spiking.input_rate=900.0", "spiking.dt=0.001"],
    "lowpass_kick": FIXED + ["spiking.encoding=regular", "spiking.synapse=lowpass", "spiking.readout=count",
                             "spiking.prospective=true"],
}


#: Spiking keys a grid cannot set (nested sections), written into a copy of the spec.
SECTIONS = {"best": {"calibrate": {"epochs": 10, "eta": 0.02}}}


def spec_copy(path: str, name: str, folder: Path) -> str:
    """``path``, or a copy of it in ``folder`` with the configuration's SECTIONS (weights by
    absolute path)."""
    if name not in SECTIONS:
        return path
    data = spec.to_data(spec.load(path))
    data["spiking"].update(SECTIONS[name])
    if data.get("weights"):
        data["weights"] = str((Path(path).parent / data["weights"]).resolve())
    out = folder / f"{Path(path).stem}_{name}.yaml"
    out.write_text(spec.to_yaml(spec.validate_data(data)[0]))
    return str(out)


def interval(values: list) -> tuple[float, float]:
    """(mean, half-width of the 95 % Student-t interval)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), 0.0
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def per_inference(out: Path, row: dict, name: str) -> tuple[float | None, float | None]:
    """(energy J, spikes) per inference on profile ``name`` (hardware/energy.py's counts)."""
    summary = json.loads((out / "runs" / row["run"] / "summary.json").read_text())
    model, _ = spec.validate_data(summary["spec"], file=MODEL)
    est = energy.estimate(model, summary, profile.load(name), base_dir="models")
    return est.get("energy_j"), (est["counts"] or {}).get("spikes")


def table(doc: dict, out: Path, own: float) -> dict:
    """Per backend and presentation time: accuracy, gap (to the rate model at the same time),
    gap_own (to the rate model at the spec's own presentation time ``own``, the issue's reference,
    when the sweep ran it), spikes and energy per inference."""
    rows: dict = {}
    reference = [r["accuracy"] for r in doc["rows"] if r["backend"] == "rate" and r["status"] == "ok"
                 and abs(r["point"]["task.presentation"] - own) < 1e-12]
    for r in doc["rows"]:
        if r["backend"] == "rate" or r["status"] != "ok":
            continue
        key = f"{r['backend']} {r['point']['task.presentation'] * 1e3:g} ms"
        entry = rows.setdefault(key, {"accuracy": [], "gap": [], "gap_own": [], "spikes": [], "loihi1_uj": [],
                                      "loihi2_uj": []})
        entry["accuracy"].append(r["accuracy"])
        entry["gap"].append(100 * r["gap"])
        entry["gap_own"].append(100 * (reference[0] - r["accuracy"]) if reference else None)
        for name in ("loihi1", "loihi2"):
            joules, spikes = per_inference(out, r, name)
            entry[f"{name}_uj"].append(None if joules is None else joules * 1e6)
        entry["spikes"].append(spikes)
    result = {}
    for key, entry in rows.items():
        for metric, values in entry.items():
            values = [v for v in values if v is not None]
            if values:
                mean, half = interval(values)
                result[f"{key} {metric}"] = f"{mean:.4g} ± {half:.2g}"
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--times")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args()
    times, seeds = ("0.02,0.05,0.1", 1) if args.quick else (TIMES, 3)
    times = args.times or times
    folder = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    try:
        for name in args.configs.split(","):
            out = folder / name
            model = spec_copy(args.model, name, folder)
            doc = api.sweep(model, [f"task.presentation={times}"] + CONFIGS[name], BACKENDS, seeds=seeds,
                            out=out, workers=args.workers)
            own = spec.load(args.model).task.presentation
            report(f"latency_{Path(args.model).stem}_{name}", table(doc, out, own))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
