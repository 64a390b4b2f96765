"""Charts of the comparison report (matplotlib, headless Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from utils.io import atomic_path  # noqa: E402

REFERENCE_STYLE = {"color": "0.5", "linestyle": "--", "linewidth": 1}


def save_figure(fig: Any, path: Path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=120)
    plt.close(fig)


def bar_chart(names: list[str], means: list[float], stds: list[float], path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(1.4 * len(names) + 2, 4))
    colors = [f"C{i}" for i in range(len(names))]
    bars = ax.bar(names, means, yerr=stds, capsize=5, color=colors, alpha=0.85)
    for bar, m in zip(bars, means, strict=True):
        ax.annotate(f"{m:.0f}", (bar.get_x() + bar.get_width() / 2, m), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("score per game (mean ± std)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, path)


def box_plot(names: list[str], scores: list[np.ndarray], path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(1.4 * len(names) + 2, 4))
    ax.boxplot(scores, tick_labels=names, showmeans=True)
    for i, s in enumerate(scores, start=1):  # every game as a dot
        ax.scatter(np.full(len(s), i) + np.random.default_rng(i).uniform(-0.12, 0.12, len(s)), s, s=8, alpha=0.4, color=f"C{i - 1}")
    ax.set_ylabel("score per game")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, path)


def learning_curves(curves: dict[str, dict[str, Any]], references: dict[str, float], path: Path, title: str) -> None:
    """``curves[name] = {"x": frames, "y": score, "band": std or None, "label": str, "raw": (x, y) or None}``."""
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, (name, c) in enumerate(curves.items()):
        color = f"C{i}"
        if c.get("raw") is not None and len(c["raw"][0]):
            ax.plot(c["raw"][0], c["raw"][1], color=color, alpha=0.25, linewidth=0.8)
        x, y = np.asarray(c["x"], dtype=float), np.asarray(c["y"], dtype=float)
        ax.plot(x, y, color=color, marker="o" if len(x) < 40 else None, markersize=3, label=c.get("label", name))
        if c.get("band") is not None:
            band = np.asarray(c["band"], dtype=float)
            ax.fill_between(x, y - band, y + band, color=color, alpha=0.12)
    for name, value in references.items():
        ax.axhline(value, **REFERENCE_STYLE)
        ax.annotate(f"{name} {value:.0f}", (1, value), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                    textcoords="offset points", fontsize=8, color="0.4", ha="right")
    ax.set_xscale("log")
    ax.set_xlabel("emulator frames used in training")
    ax.set_ylabel("score per game")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    save_figure(fig, path)
