"""The comparison's figures (PNG, matplotlib Agg). Each function draws one figure from a
:class:`~neuromorph.compare.runner.Comparison` (first seed) or its metrics, and returns False
when there is nothing to draw."""

from __future__ import annotations

import numpy as np

from ..run.plots import _pyplot

#: Colours in the order backends appear in a comparison (the reference, first, is black).
PALETTE = ("black", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
           "tab:olive", "tab:cyan", "tab:gray")
_order: dict = {}


def _color(name: str) -> str:
    """A stable colour per backend name, in the order names are first drawn."""
    if name not in _order:
        _order[name] = len(_order)
    return PALETTE[_order[name] % len(PALETTE)]


def _save(fig, path) -> bool:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return True


def _first(comparison, name):
    """Backend ``name``'s first-seed run at the spec's presentation time (or the only run)."""
    from .metrics import reference_run

    return reference_run(comparison, comparison.runs[name][0])


def trajectories(comparison, path) -> bool:
    """The reference vs each backend, per variable that changes, and |error| over time below."""
    if comparison.classification:
        return False
    plt = _pyplot()
    reference = comparison.backends[0]
    rate = _first(comparison, reference).result
    names = [v for v, y in rate.traces.items() if np.std(y) > 0]
    if not names:
        return False
    fig, axes = plt.subplots(2, len(names), figsize=(5.5 * len(names), 5.6), squeeze=False, sharex=True)
    for col, var in enumerate(names):
        ref = np.asarray(rate.traces[var])
        ref1 = ref if ref.ndim == 1 else ref[:, 0]
        for name in comparison.backends:
            res = _first(comparison, name).result
            if var not in res.traces:  # e.g. membranes the chip reports in its own units
                continue
            y = np.asarray(res.traces[var])
            y1 = (y if y.ndim == 1 else y[:, 0])[: len(ref1)]
            t = rate.t[: len(y1)]
            axes[0, col].plot(t, y1, color=_color(name), lw=1.6 if name == reference else 1.0, label=name)
            if name != reference:
                axes[1, col].plot(t, np.abs(y1 - ref1[: len(y1)]), color=_color(name), lw=0.8, label=name)
        axes[0, col].set_title(var + ("" if ref.ndim == 1 else " (synapse 0)"))
        axes[1, col].set_title(f"|{var} - rate|")
        axes[1, col].set_xlabel("t (s)")
        for ax in axes[:, col]:
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    return _save(fig, path)


def accuracy(metrics: dict, path) -> bool:
    """Held-out accuracy against presentation time per backend (95 % interval with seeds)."""
    if metrics["kind"] != "classification":
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, m in metrics["backends"].items():
        keys = sorted(m["accuracy"], key=float)
        x = [float(k) * 1e3 for k in keys]
        vals = [m["accuracy"][k] for k in keys]
        if isinstance(vals[0], dict):
            mean = [v["mean"] for v in vals]
            lo = [v["ci95"][0] for v in vals]
            hi = [v["ci95"][1] for v in vals]
            ax.fill_between(x, lo, hi, color=_color(name), alpha=0.2)
            vals = mean
        ax.plot(x, vals, "o-", color=_color(name), label=name)
    ax.set_xlabel("presentation time (ms)")
    ax.set_ylabel("held-out accuracy")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _spiking(comparison) -> list:
    out = []
    for name in comparison.backends:
        info = _first(comparison, name).result.info
        if info.raster:
            out.append((name, info))
    return out


def rasters(comparison, path) -> bool:
    """Spike rasters of the first neurons of each spiking backend."""
    found = _spiking(comparison)
    if not found:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(len(found), 1, figsize=(8, 1.9 * len(found)), squeeze=False, sharex=True)
    for ax, (name, info) in zip(axes[:, 0], found):
        r = info.raster
        ax.scatter(r["t"], r["i"], s=2, marker="|", color=_color(name))
        ax.set_ylabel(f"{name}\n{r['group']} neuron", fontsize=8)
        ax.set_ylim(-1, r["neurons"])
    axes[-1, 0].set_xlabel("t (s)")
    return _save(fig, path)


def rate_histograms(comparison, path) -> bool:
    """Histograms of per-neuron firing rates of each spiking backend."""
    found = [(n, info) for n, info in _spiking(comparison) if info.rates_hz]
    if not found:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(found), figsize=(3.6 * len(found), 3), squeeze=False)
    for ax, (name, info) in zip(axes[0], found):
        h = info.rates_hz
        edges = np.asarray(h["edges"])
        ax.bar(edges[:-1], h["histogram"], width=np.diff(edges), align="edge", color=_color(name))
        ax.set_title(f"{name}: mean {h['mean']:.1f} Hz", fontsize=9)
        ax.set_xlabel("rate (Hz)")
    axes[0, 0].set_ylabel("neurons")
    return _save(fig, path)


def confusions(comparison, path) -> bool:
    """Confusion matrices at the longest presentation time, one per backend."""
    if not comparison.classification:
        return False
    plt = _pyplot()
    p = max(comparison.presentations)
    names = comparison.backends
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        m = np.asarray(comparison.runs[name][0][p].summary["metrics"]["confusion"])
        ax.imshow(m, cmap="Blues")
        ax.set_title(f"{name} ({p * 1e3:g} ms)", fontsize=9)
        ax.set_xlabel("predicted")
        ax.set_xticks(range(10))
        ax.set_yticks(range(10))
        ax.tick_params(labelsize=6)
    axes[0, 0].set_ylabel("true")
    return _save(fig, path)


def quantization(comparison, path) -> bool:
    """Float weights against the weights a chip realizes, for each backend whose runs measured it."""
    found = [(name, _first(comparison, name).result.info.quantization) for name in comparison.backends]
    found = [(name, q) for name, q in found if q and "histogram" in q]
    if not found:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(found), figsize=(6 * len(found), 3.4), squeeze=False)
    for ax, (name, q) in zip(axes[0], found):
        h = q["histogram"]
        edges = np.asarray(h["edges"])
        ax.stairs(h["float"], edges, label="float (trained)", color="black")
        ax.stairs(h["realized"], edges, label=f"realized ({q.get('bits', '?')} bit)", color=_color(name))
        ax.set_yscale("log")
        ax.set_xlabel("weight")
        ax.set_ylabel("count")
        ax.set_title(f"{name}: relative rms error {q['relative_rms_error']:.2%}", fontsize=9)
        ax.legend(fontsize=8)
    return _save(fig, path)


def wall_times(metrics: dict, path) -> bool:
    """Wall time per backend (all presentation times together)."""
    plt = _pyplot()
    names = list(metrics["backends"])
    vals = [metrics["backends"][n]["wall_s"] for n in names]
    vals = [v["mean"] if isinstance(v, dict) else v for v in vals]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(names, vals, color=[_color(n) for n in names])
    ax.set_ylabel("wall time (s)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3, axis="y")
    return _save(fig, path)


#: (file name, title, function, needs) in report order; needs: "comparison" or "metrics".
FIGURES = [
    ("trajectories.png", "Trajectories: rate vs each backend, and the error over time", trajectories, "comparison"),
    ("accuracy.png", "Accuracy against presentation time", accuracy, "metrics"),
    ("confusion.png", "Confusion matrices", confusions, "comparison"),
    ("rasters.png", "Spike rasters", rasters, "comparison"),
    ("rates.png", "Firing-rate histograms", rate_histograms, "comparison"),
    ("quantization.png", "Weight quantization on chip", quantization, "comparison"),
    ("wall.png", "Run time per backend", wall_times, "metrics"),
]
