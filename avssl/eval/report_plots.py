"""Figures for training and evaluation reports: loss curves, recall@k, retrieval grids, confusion
matrices and 2-D feature maps.

Figures are built on `matplotlib.figure.Figure` with an explicit Agg canvas rather than pyplot, so
no global backend or figure registry is touched (safe in workers and notebooks alike). Every PNG
is written through `atomic_path`: a reader never sees a half-written image. The pixel size of
each PNG is exactly figsize x dpi (no tight bounding box), so reports can lay them out.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from avssl.atomic_io import atomic_path

CORRECT_RGB = (0, 170, 0)
WRONG_RGB = (220, 0, 0)
QUERY_RGB = (60, 60, 60)


def _save(fig: Figure, path: str | os.PathLike, dpi: int) -> None:
    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)


def _finish_line_plot(fig: Figure, ax, xlabel: str, ylabel: str, title: str | None, path, dpi: int) -> None:
    """Labels, grid, legend and title shared by the line plots, then save."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
    _save(fig, path, dpi)


def plot_loss_curves(
    history: Mapping[str, Sequence[tuple[int, float]]],
    path: str | os.PathLike,
    figsize: tuple[float, float] = (6.4, 4.0),
    dpi: int = 100,
    title: str | None = None,
) -> None:
    """One line per loss term (name -> [(step, value), ...]) against the training step."""
    if not history:
        raise ValueError("history is empty: no loss terms to plot")
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    for name, points in history.items():
        points = sorted((int(s), float(v)) for s, v in points)
        steps = [s for s, _ in points]
        values = [v for _, v in points]
        ax.plot(steps, values, label=name, marker="." if len(points) < 30 else None, linewidth=1.2)
    _finish_line_plot(fig, ax, "step", "loss", title, path, dpi)


def plot_recall_at_k(
    curves: Mapping[str, Mapping[int, float]],
    path: str | os.PathLike,
    chance: float | Mapping[int, float] | None = None,
    figsize: tuple[float, float] = (6.4, 4.0),
    dpi: int = 100,
    title: str | None = None,
) -> None:
    """Recall@k (log-scale k) per stage/direction, e.g. {"AVID v->v": {1: 0.3, 5: 0.5}}.

    `chance` is a level drawn as a dashed horizontal line (e.g. recall@1 of a random ranking), or
    a {k: recall} mapping drawn as a dashed curve (chance recall grows with k).
    """
    if not curves:
        raise ValueError("curves is empty: no recall@k results to plot")
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    all_ks: set[int] = set()
    for name, recall in curves.items():
        ks = sorted(int(k) for k in recall)
        all_ks.update(ks)
        ax.plot(ks, [100.0 * recall[k] for k in ks], marker="o", label=name, linewidth=1.5)
    if isinstance(chance, Mapping):
        ks = sorted(int(k) for k in chance)
        ax.plot(ks, [100.0 * chance[k] for k in ks], linestyle="--", color="gray", label="chance")
    elif chance is not None:
        ax.axhline(100.0 * float(chance), linestyle="--", color="gray", linewidth=1.0, label="chance")
    ax.set_xscale("log")
    if all_ks:
        ticks = sorted(all_ks)
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(k) for k in ticks])
        ax.minorticks_off()
    ax.set_ylim(0, 100)
    _finish_line_plot(fig, ax, "k", "recall@k (%)", title, path, dpi)


def _check_image(image, where: str) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"{where} must be an HxWx3 uint8 array, got shape {arr.shape} dtype {arr.dtype}")
    return arr


def _with_border(image: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    width = max(2, round(0.06 * min(image.shape[:2])))
    framed = np.empty((image.shape[0] + 2 * width, image.shape[1] + 2 * width, 3), dtype=np.uint8)
    framed[...] = np.asarray(rgb, dtype=np.uint8)
    framed[width:-width, width:-width] = image
    return framed


def plot_retrieval_grid(
    query_images: Sequence[np.ndarray],
    neighbour_images: Sequence[Sequence[np.ndarray]],
    correct: Sequence[Sequence[bool]],
    path: str | os.PathLike,
    titles: Sequence[str] | None = None,
    cell_inches: float = 1.5,
    dpi: int = 100,
) -> None:
    """One row per query: the query (grey frame), then its neighbours in rank order, framed green
    when `correct[i][j]` (same label) and red otherwise. Images are HxWx3 uint8.

    The PNG is (1 + max neighbours) x rows cells of `cell_inches` at `dpi`.
    """
    n_rows = len(query_images)
    if n_rows == 0:
        raise ValueError("no query images to plot")
    if len(neighbour_images) != n_rows or len(correct) != n_rows:
        raise ValueError(
            f"{n_rows} queries but {len(neighbour_images)} neighbour rows and {len(correct)} correct rows"
        )
    if titles is not None and len(titles) != n_rows:
        raise ValueError(f"{n_rows} queries but {len(titles)} titles")
    for i, (row, flags) in enumerate(zip(neighbour_images, correct)):
        if len(row) != len(flags):
            raise ValueError(f"query {i}: {len(row)} neighbour images but {len(flags)} correct flags")
    n_cols = 1 + max(len(row) for row in neighbour_images)

    fig = Figure(figsize=(n_cols * cell_inches, n_rows * cell_inches), dpi=dpi)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99 - 0.12 / n_rows, wspace=0.05, hspace=0.2)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i in range(n_rows):
        cells = [(_check_image(query_images[i], f"query_images[{i}]"), QUERY_RGB)]
        for j, (image, ok) in enumerate(zip(neighbour_images[i], correct[i])):
            cells.append(
                (_check_image(image, f"neighbour_images[{i}][{j}]"), CORRECT_RGB if ok else WRONG_RGB)
            )
        for j, ax in enumerate(axes[i]):
            ax.set_axis_off()
            if j < len(cells):
                image, rgb = cells[j]
                ax.imshow(_with_border(image, rgb), interpolation="nearest")
        axes[i][0].set_title(titles[i] if titles is not None else "query", fontsize=8)
        for j in range(1, len(cells)):
            axes[i][j].set_title(f"#{j}", fontsize=7)
    _save(fig, path, dpi)


def plot_confusion_matrix(
    matrix,
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str | None = None,
    dpi: int = 100,
) -> None:
    """Row-normalised confusion matrix (row = true class, column = predicted), counts annotated when
    the matrix is small enough to read. The figure grows with the number of classes (up to ~101)."""
    counts = np.asarray(matrix, dtype=np.float64)
    n = counts.shape[0]
    if counts.shape != (n, n) or n == 0 or len(class_names) != n:
        raise ValueError(f"confusion matrix must be (C, C) with C = {len(class_names)} class names, "
                         f"got shape {counts.shape}")
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    side = float(np.clip(0.32 * n + 2.5, 4.0, 24.0))
    fig = Figure(figsize=(side + 1.0, side), dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of the true class")
    fontsize = 8 if n <= 20 else 5
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(class_names, rotation=90, fontsize=fontsize)
    ax.set_yticklabels(class_names, fontsize=fontsize)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if counts[i, j]:
                    ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", fontsize=7,
                            color="white" if rates[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title)
    _save(fig, path, dpi)


def plot_feature_map(
    points,
    labels: Sequence[int],
    class_names: Sequence[str],
    path: str | os.PathLike,
    title: str | None = None,
    figsize: tuple[float, float] = (7.0, 5.6),
    dpi: int = 100,
) -> None:
    """A 2-D map of features (N, 2), one colour per class; a legend when there are <= 20 classes."""
    points = np.asarray(points, dtype=np.float64)
    labels = np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2 or len(labels) != len(points) or len(points) == 0:
        raise ValueError(f"feature map needs (N, 2) points and N labels, got {points.shape} and {labels.shape}")
    fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
    ax = fig.add_subplot()
    colours = _class_colours(len(class_names))
    for code in np.unique(labels):
        rows = labels == code
        ax.scatter(points[rows, 0], points[rows, 1], s=14, color=colours[int(code)], alpha=0.8,
                   label=str(class_names[int(code)]), edgecolors="none")
    if len(class_names) <= 20:
        ax.legend(fontsize="small", markerscale=1.5, loc="best", ncol=2 if len(class_names) > 10 else 1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    _save(fig, path, dpi)


def _class_colours(n: int) -> np.ndarray:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20" if n <= 20 else "turbo"]
    return cmap(np.linspace(0, 1, n) if n > 20 else np.arange(n))
