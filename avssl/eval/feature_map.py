"""2-D maps of features for reports: PCA (fast, linear, faithful to global structure) or t-SNE
(slower, shows clusters; distances between clusters mean little). Features are L2-normalised first,
the geometry retrieval and kNN use. Large sets are subsampled with a seeded generator."""

from __future__ import annotations

import numpy as np
import torch

METHODS = ("pca", "tsne")


def project_2d(features, method: str = "pca", max_points: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(points (M, 2), rows (M,)): the map of at most `max_points` rows of `features` (N, D) and which
    rows they are."""
    if method not in METHODS:
        raise ValueError(f"feature map method {method!r}: choose one of {', '.join(METHODS)}")
    x = torch.as_tensor(features).detach().double().cpu().numpy()
    if x.ndim != 2 or len(x) < 3:
        raise ValueError(f"a feature map needs (N >= 3, D) features, got shape {x.shape}")
    rows = np.arange(len(x))
    if len(x) > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(len(x), max_points, replace=False))
    x = x[rows] / np.maximum(np.linalg.norm(x[rows], axis=1, keepdims=True), 1e-12)
    if x.shape[1] == 1:
        return np.concatenate([x, np.zeros_like(x)], axis=1), rows
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x), rows
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3.0)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x), rows
