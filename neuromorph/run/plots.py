"""Plots of a run's traces (PNG, via matplotlib's non-interactive Agg backend)."""

from __future__ import annotations

import numpy as np

#: At most this many synapses/neurons are drawn per panel.
MAX_LINES = 10


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_traces(model, result, path) -> None:
    """One panel per recorded variable against time; for BM also the (w, mu) plane (Figs 4, 6)."""
    plt = _pyplot()
    if model.family == "nla":
        return plot_nla_traces(model, result, path)
    names = list(result.traces)
    phase = model.family == "bm" and {"mu", "w"} <= set(names)
    cols = len(names) + (1 if phase else 0)
    fig, axes = plt.subplots(1, cols, figsize=(3.6 * cols, 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        y = np.asarray(result.traces[name])
        ax.plot(result.t, y if y.ndim == 1 else y[:, :MAX_LINES], lw=1.2)
        ax.set_xlabel("t (s)")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    if phase:
        ax = axes[0][-1]
        w, mu = np.asarray(result.traces["w"]), np.asarray(result.traces["mu"])
        ax.plot(w if w.ndim == 1 else w[:, :MAX_LINES], mu if mu.ndim == 1 else mu[:, :MAX_LINES], lw=1.2)
        ax.plot(np.atleast_1d(w[0])[:MAX_LINES], np.atleast_1d(mu[0])[:MAX_LINES], "o", color="tab:red", ms=4)
        ax.set_xlabel("w")
        ax.set_ylabel("mu")
        ax.set_title("state plane")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{model.name}  ({result.info.get('integrator', '')})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_learning_curve(model, curve: list, path) -> None:
    """The task's metric over training (one panel per metric in the curve)."""
    plt = _pyplot()
    keys = [k for k in curve[0] if k not in ("epoch", "time")] if curve else []
    xkey = "epoch" if curve and "epoch" in curve[0] else "time"
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.2 * max(1, len(keys)), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        ax.plot([c[xkey] for c in curve], [c[key] for c in curve], "o-", ms=3)
        ax.set_xlabel("epoch" if xkey == "epoch" else "training time (s)")
        ax.set_title(key.replace("_", " "))
        ax.grid(alpha=0.3)
        if "cost" in key:
            ax.set_yscale("log")
    fig.suptitle(model.name, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_nla_traces(model, result, path) -> None:
    """NLA: each recorded variable of lane 0 against time (up to MAX_LINES neurons)."""
    plt = _pyplot()
    names = list(result.traces)
    fig, axes = plt.subplots(len(names), 1, figsize=(8, 2.2 * len(names)), squeeze=False, sharex=True)
    for ax, name in zip(axes[:, 0], names):
        y = np.asarray(result.traces[name])
        lane0 = y[:, 0, :MAX_LINES] if y.ndim == 3 else y
        ax.plot(result.t, lane0, lw=0.9)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("t (s), lane 0")
    metric = ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items() if isinstance(v, float))
    fig.suptitle(f"{model.name}  {metric}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
