r"""``metrics.json``: what a comparison measured, per backend (format ``neuromorph.metrics/1``,
schema ``neuromorph/compare/metrics.schema.json``).

Trajectory models, per recorded variable v with a non-constant rate trace r_v and a backend's
trace y_v on the same times:

    rmse_v = sqrt(mean((y_v - r_v)^2)),   nrmse_v = rmse_v / std(r_v),   correlation_v = corr(y_v, r_v).

Classification models: held-out accuracy per presentation time (s). Spike statistics: total spike
count, neurons, mean rate = spikes / (neurons x simulated seconds), of the run at the spec's
presentation time (else the longest compared). With several seeds every
number becomes {"mean", "ci95", "per_seed"}: the mean and its 95 % Student-t interval.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

FORMAT = "neuromorph.metrics/1"


def trajectory(rate, run) -> dict:
    """nrmse, rmse and correlation of ``run`` against ``rate`` per variable (None where the
    rate trace is constant, e.g. momenta that stay 0)."""
    out: dict[str, dict] = {"nrmse_vs_rate": {}, "rmse_vs_rate": {}, "correlation_vs_rate": {}}
    for name, ref in rate.traces.items():
        if name not in run.traces:
            continue
        r, y = np.asarray(ref, dtype=float), np.asarray(run.traces[name], dtype=float)
        n = min(len(r), len(y))
        r, y = r[:n].ravel(), y[:n].ravel()
        rmse = float(np.sqrt(np.mean((y - r) ** 2)))
        spread = float(np.std(r))
        out["rmse_vs_rate"][name] = rmse
        out["nrmse_vs_rate"][name] = rmse / spread if spread > 0 else None
        out["correlation_vs_rate"][name] = float(np.corrcoef(r, y)[0, 1]) if spread > 0 and np.std(y) > 0 else None
    return out


#: Time constant (s) of the van Rossum distance between spike trains.
VAN_ROSSUM_TAU = 0.01


def spike_agreement(reference, run) -> dict:
    r"""Per spike trace (``spikes.<output>``, counts per step): the van Rossum distance to the
    reference's spikes, :math:`D = \sqrt{\frac{1}{\tau}\int (f - g)^2 dt}` with f, g the trains
    filtered by :math:`e^{-t/\tau}` (tau = 10 ms), averaged over neurons (0: the same spikes; about
    sqrt(n/2) for n unmatched spikes), and the correlation of the neurons' spike counts."""
    out = {}
    dt = float(np.mean(np.diff(reference.t))) if len(reference.t) > 1 else 0.0
    for name, ref in reference.traces.items():
        if not name.startswith("spikes.") or name not in run.traces or dt <= 0:
            continue
        a, b = np.asarray(ref, dtype=float), np.asarray(run.traces[name], dtype=float)
        n = min(len(a), len(b))
        decay = np.exp(-dt / VAN_ROSSUM_TAU)
        diff, total = np.zeros(a.shape[1:]), np.zeros(a.shape[1:])
        for k in range(n):
            diff = diff * decay + a[k] - b[k]
            total += diff**2
        counts_a, counts_b = a[:n].sum(axis=0), b[:n].sum(axis=0)
        corr = float(np.corrcoef(counts_a, counts_b)[0, 1]) if np.std(counts_a) > 0 and np.std(counts_b) > 0 \
            else (1.0 if np.array_equal(counts_a, counts_b) else None)
        out[name] = {"van_rossum": float(np.mean(np.sqrt(total * dt / VAN_ROSSUM_TAU))), "count_correlation": corr}
    return out


def task_metrics(summary: dict) -> dict:
    """The model's own scalar metrics of the run (e.g. the withheld channels' nrmse against the
    true signal), so each backend is scored as the rate model is."""
    return {k: float(v) for k, v in summary.get("metrics", {}).items()
            if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)}


def spikes(summary: dict) -> dict:
    """Spike count, neurons and mean rate of a run (None for rate backends)."""
    info = summary["backend_info"]
    counts, neurons = info["spikes"], info["neurons"]
    if not counts:
        return {"spike_count": None, "neurons": None, "mean_rate_hz": None}
    total_spikes, total_neurons = int(sum(counts.values())), int(sum(neurons.values()))
    seconds = info["simulated_s"]
    rate = total_spikes / (total_neurons * seconds) if seconds else None
    return {"spike_count": total_spikes, "neurons": total_neurons, "mean_rate_hz": rate}


def substitutions(summary: dict) -> list:
    return list(summary["backend_info"]["substitutions"])


def hardware(summary: dict) -> dict:
    info = summary["backend_info"]
    out = dict(info["hardware"] or {"runs_on": "CPU (" + summary["backend"] + ")"})
    if info["resources"]:
        out.update(cores=info["resources"]["cores"], chips=info["resources"]["chips"])
    quant = info["quantization"]
    if quant and "relative_rms_error" in quant:
        out["weight_relative_rms_error"] = quant["relative_rms_error"]
    return out


def steps_per_s(summary: dict, run) -> float | None:
    wall = summary["wall_s"]
    return summary["backend_info"]["steps"] / wall if wall > 0 else None


def one_run(comparison, name: str, k: int) -> dict:
    """Metrics of backend ``name``, seed index ``k`` (one number per leaf)."""
    by_time = comparison.runs[name][k]
    first = reference_run(comparison, by_time)  # spike and hardware figures: the spec's presentation
    out: dict = {}
    if comparison.classification:
        out["accuracy"] = {f"{p:g}": run.summary["metrics"]["accuracy"] for p, run in by_time.items()}
    else:
        rate = comparison.runs[comparison.backends[0]][k][None].result
        out.update(trajectory(rate, first.result))
        out["task"] = task_metrics(first.summary)
        agreement = spike_agreement(rate, first.result)
        if agreement:
            out["spike_agreement"] = agreement
    out.update(spikes(first.summary))
    out["wall_s"] = float(sum(run.summary["wall_s"] for run in by_time.values()))
    out["steps_per_s"] = steps_per_s(first.summary, first)
    out["substitutions"] = substitutions(first.summary)
    out["hardware"] = hardware(first.summary)
    if "-quantized:" in name:
        out["hardware"]["weights_quantized_for"] = name.split(":", 1)[1]
    if comparison.profiles and out["spike_count"] is not None:
        out["hardware"]["energy"] = {p: energy_estimate(first, p) for p in comparison.profiles}
        if comparison.classification:  # the accuracy-latency-energy trade-off
            out["hardware"]["energy_by_presentation"] = {
                f"{t:g}": {p: energy_estimate(run, p).get("energy_j") for p in comparison.profiles}
                for t, run in by_time.items()}
    return out


def reference_run(comparison, by_time: dict):
    """The run energy is estimated from: the spec's presentation time if compared, else the longest."""
    if not comparison.classification:
        return by_time[None]
    p = comparison.model.task.presentation
    return by_time[p] if p in by_time else by_time[max(by_time)]


def energy_estimate(run, profile_name: str) -> dict:
    from ..hardware import energy, profile

    return energy.estimate(run.model, run.summary, profile.load(profile_name))


def ci95(values: list) -> dict:
    """Mean and 95 % Student-t interval of ``values`` (None entries dropped)."""
    from scipy import stats

    v = np.array([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return {"mean": None, "ci95": None, "per_seed": values}
    mean = float(v.mean())
    if len(v) < 2:
        return {"mean": mean, "ci95": [mean, mean], "per_seed": values}
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return {"mean": mean, "ci95": [mean - half, mean + half], "per_seed": values}


NUMERIC = ("accuracy", "task", "nrmse_vs_rate", "rmse_vs_rate", "correlation_vs_rate", "spike_count", "mean_rate_hz",
           "wall_s", "steps_per_s")


def pooled(per_seed: list) -> dict:
    """Seeds combined: numeric leaves become {"mean", "ci95", "per_seed"}."""
    if len(per_seed) == 1:
        return per_seed[0]
    out = dict(per_seed[0])
    for key in NUMERIC:
        first = per_seed[0].get(key)
        if isinstance(first, dict):
            out[key] = {sub: ci95([m[key][sub] for m in per_seed]) for sub in first}
        elif key in per_seed[0]:
            out[key] = ci95([m[key] for m in per_seed])
    return out


def build(comparison) -> dict:
    """The ``metrics.json`` document of a comparison."""
    from ..run.provenance import versions

    model = comparison.model
    doc = {
        "format": FORMAT,
        "model": model.name,
        "family": model.family,
        "kind": "classification" if comparison.classification else "trajectory",
        "seeds": comparison.seeds,
        "presentation_times": comparison.presentations,
        "reference": comparison.backends[0],
        "backends": {},
        "versions": versions(),
    }
    if comparison.trained:
        doc["trained"] = comparison.trained
    if comparison.profiles:
        doc["profiles"] = list(comparison.profiles)
    for name in comparison.backends:
        doc["backends"][name] = pooled([one_run(comparison, name, k) for k in range(len(comparison.seeds))])
    return doc


def schema() -> dict:
    return json.loads(resources.files("neuromorph.compare").joinpath("metrics.schema.json").read_text())


def validate(doc: dict) -> None:
    """Raise ``jsonschema.ValidationError`` if ``doc`` does not follow the schema."""
    import jsonschema

    jsonschema.validate(doc, schema())
