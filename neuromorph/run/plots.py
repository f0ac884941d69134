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
    """One panel per recorded variable against time, drawn as the family asks
    (:meth:`~neuromorph.families.base.Family.plot_kind`): with the (w, mu) plane (Kim's Figs 4, 6),
    or lane 0 of (T, lanes, n) arrays."""
    from .. import families

    kind = families.of(model).plot_kind(model)
    if kind == "lanes":
        return plot_lanes(model, result, path)
    plt = _pyplot()
    names = list(result.traces)
    phase = kind == "phase_plane" and {"mu", "w"} <= set(names)
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
    fig.suptitle(f"{model.name}  ({result.info.backend})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


#: Curve entries that say where a point is, not what was measured.
POSITION_KEYS = ("epoch", "time", "prelearn_epoch")


def plot_learning_curve(model, curve: list, path) -> None:
    """The task's metrics over training, one panel per metric that any entry of the curve has
    (entries without it, such as pre-learning epochs without a test, are left out of its panel)."""
    plot_learning_curves({model.name: curve}, model.name, path)


def plot_learning_curves(curves: dict, title: str, path, reference: str | None = None) -> None:
    """Several runs' curves (name -> curve), one panel per metric, one line per run (the
    ``reference`` drawn thicker); a legend when there are several."""
    plt = _pyplot()
    keys = list(dict.fromkeys(k for c in curves.values() for e in c for k in e if k not in POSITION_KEYS))
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.3 * max(1, len(keys)), 3.3), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, curve in curves.items():
            xkey = "epoch" if curve and "epoch" in curve[0] else "time"
            points = [(c.get(xkey, np.nan), c[key]) for c in curve if key in c]
            ax.plot([p[0] for p in points], np.array([p[1] for p in points], dtype=float), "o-", ms=3, label=name,
                    lw=2.0 if name == reference else 1.2)
            ax.set_xlabel("epoch" if xkey == "epoch" else "training time (s)")
        ax.set_title(key.replace("_", " "))
        ax.grid(alpha=0.3)
        if "cost" in key:
            ax.set_yscale("log")
        if len(curves) > 1:
            ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_lanes(model, result, path) -> None:
    """Each recorded variable of lane 0 against time (up to MAX_LINES neurons)."""
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
