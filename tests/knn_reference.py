"""Independent references for the kNN tests: float64 numpy brute force with stable tie-breaking,
and embeddings whose inner products are exact in float32 (so ties are real ties)."""

from __future__ import annotations

import numpy as np
import torch


def exact_grid_vectors(n: int, dim: int, seed: int, duplicates: int = 0) -> torch.Tensor:
    """Entries in {−1, −0.5, 0, 0.5, 1}: every inner product is a multiple of 0.25 and exact in
    float32 whatever the summation order, so equal scores are bitwise equal. The last
    `duplicates` rows copy earlier rows (duplicate memories)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(n, dim)).astype(np.float32) / 2
    for i in range(duplicates):
        x[n - 1 - i] = x[rng.integers(0, n - duplicates)]
    return torch.from_numpy(x)


def clustered_unit_vectors(n: int, dim: int, clusters: int, spread: float, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + spread * rng.standard_normal((n, dim))
    return torch.from_numpy((x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32))


def reference_top_k(scores: np.ndarray, k: int, exclude_self: bool, query_offset: int = 0) -> np.ndarray:
    """(Q, k) indices by score descending, ties by smaller index, own row excluded by index."""
    scores = scores.astype(np.float64).copy()
    if exclude_self:
        rows = np.arange(scores.shape[0])
        scores[rows, rows + query_offset] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def reference_agreement(video: torch.Tensor, audio: torch.Tensor, mode: str) -> np.ndarray:
    v = video.double().numpy()
    a = audio.double().numpy()
    sv, sa = v @ v.T, a @ a.T
    return {"consensus": np.minimum(sv, sa), "union": np.maximum(sv, sa), "video": sv, "audio": sa}[mode]


def recall(found: torch.Tensor, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / k for f, t in zip(found, truth)]))
