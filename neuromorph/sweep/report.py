"""A sweep's report: the table of runs, and the swept metric against each swept key.

For each swept key k and backend b the plot shows the metric's mean over the runs with
k = v (all seeds and all values of the other keys) against v, with the smallest and largest
run as a band; categorical values are spaced evenly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def value_of(row: dict, metric: str):
    return row.get("nrmse_mean") if metric == "nrmse_vs_rate" else row.get(metric)


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def markdown(doc: dict, plots: list) -> str:
    metric = doc["metric"]
    keys = list(doc["grid"])
    extra = "gap" if metric == "accuracy" else None
    lines = [f"# Sweep of {doc['model']} ({doc['family']})", "",
             f"{doc['runs']} runs: grid {', '.join(f'{k} = {v}' for k, v in doc['grid'].items())}; backends "
             f"{', '.join(doc['backends'])} (reference {doc['reference']}, once per point); spiking seeds "
             f"{', '.join(str(s) for s in doc['seeds'])}. Failed: {doc['failed']}."
             + (f" Reused from an earlier run: {doc['resumed']}." if doc.get("resumed") else ""), ""]
    metric_name = "nrmse vs reference (mean over variables)" if metric == "nrmse_vs_rate" else metric
    head = ["run"] + keys + ["backend", "seed", metric_name] + ([extra] if extra else []) + ["spikes", "wall (s)",
                                                                                            "status"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in doc["rows"]:
        ok = r["status"] == "ok"
        cells = [r["run"]] + [_fmt(r["point"][k]) for k in keys] + [r["backend"], str(r["seed"])]
        cells.append(_fmt(value_of(r, metric)) if ok else "–")
        if extra:
            cells.append(_fmt(r.get(extra)) if ok else "–")
        cells += [_fmt(r.get("spike_count")) if ok else "–", _fmt(r.get("wall_s")) if ok else "–",
                  "ok" if ok else "failed: " + str(r.get("error", "")).replace("|", "/")]
        lines.append("| " + " | ".join(cells) + " |")
    if plots:
        lines += ["", "## Plots", ""] + [f"![{Path(p).stem}](plots/{Path(p).name})" for p in plots]
    return "\n".join(lines) + "\n"


def series(doc: dict, key: str, backend: str) -> tuple[list, list, list, list]:
    """(values of ``key``, mean, min, max of the metric over the other keys and seeds)."""
    metric = doc["metric"]
    xs, means, lows, highs = [], [], [], []
    for v in doc["grid"][key]:
        got = [value_of(r, metric) for r in doc["rows"]
               if r["status"] == "ok" and r["backend"] == backend and r["point"][key] == v]
        got = [g for g in got if g is not None]
        if not got:
            continue
        xs.append(v)
        means.append(float(np.mean(got)))
        lows.append(float(np.min(got)))
        highs.append(float(np.max(got)))
    return xs, means, lows, highs


def plots(doc: dict, folder) -> list:
    """One PNG per swept key; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metric = doc["metric"]
    written = []
    for key in doc["grid"]:
        values = doc["grid"][key]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for backend in doc["backends"]:
            if metric == "nrmse_vs_rate" and backend == doc["reference"]:
                continue
            xs, mean, low, high = series(doc, key, backend)
            if not xs:
                continue
            pos = xs if numeric else [values.index(x) for x in xs]
            ax.plot(pos, mean, "o-", label=backend)
            ax.fill_between(pos, low, high, alpha=0.2)
        if not numeric:
            ax.set_xticks(range(len(values)), [str(v) for v in values])
        ax.set_xlabel(key)
        ax.set_ylabel("accuracy" if metric == "accuracy" else "nrmse vs reference")
        if ax.get_lines():
            ax.legend(fontsize=8)
        fig.tight_layout()
        path = folder / f"{metric}_vs_{key.replace('.', '_')}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
