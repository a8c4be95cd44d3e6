"""The benchmark's plot: GOSPA per tick, ours against Stone Soup."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_gospa(series: dict[int, tuple[list[float], list[float]]], path: Path) -> Path:
    """One panel per N with both trackers' GOSPA over time (10 Hz ticks); returns ``path``."""
    fig, axes = plt.subplots(1, len(series), figsize=(6 * len(series), 4), squeeze=False)
    for ax, (n, (ours, peer)) in zip(axes[0], sorted(series.items()), strict=True):
        t = [0.1 * (k + 1) for k in range(len(ours))]
        ax.plot(t, peer, label="Stone Soup 1.9", color="tab:orange")
        ax.plot(t, ours, label="fusion (ours)", color="tab:blue")
        ax.set_title(f"N = {n}")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("GOSPA (m), c = 10 m, p = 2")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
