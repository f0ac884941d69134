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
