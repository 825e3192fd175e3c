"""Weighted k-nearest-neighbour classification on frozen features (Wu et al., CVPR 2018, Sec. 3.4;
the form DINO uses: Caron et al., ICCV 2021).

For a test feature f, take its k most cosine-similar training features s_1..s_k (labels c_i) and
give each the weight exp(s_i / T); the score of class c is sum_i [c_i = c] exp(s_i / T), and the
prediction is the best-scoring class (ties: the lower class code). k = 20 and 200, T = 0.07 are the
values the papers report. The search runs through `avssl.core.knn` (exact by default, ties by the
smaller training index), so the same neighbours come out on CPU and GPU, FAISS or torch.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from avssl.core.knn import knn
from avssl.core.search_spec import SearchSpec
from avssl.eval.class_labels import encode_labels


class KNNResult(NamedTuple):
    """`predictions` (Q,) int64 class codes; `scores` (Q, C) float32 summed weights;
    `classes[c]` is the label value of code c."""

    predictions: torch.Tensor
    scores: torch.Tensor
    classes: list


def _unit_rows(x, name: str) -> torch.Tensor:
    x = torch.as_tensor(x)
    if x.ndim != 2 or not x.is_floating_point():
        raise ValueError(f"{name} must be a 2-D float (N, D) array, got shape {tuple(x.shape)} dtype {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or inf; check the extraction run")
    return F.normalize(x.detach().to("cpu", torch.float32), dim=1)


def knn_classify(train_feats, train_labels, test_feats, k: int = 20, temperature: float = 0.07,
                 spec: SearchSpec | None = None) -> KNNResult:
    """Weighted kNN class scores of every row of `test_feats` against (`train_feats`, `train_labels`).

    Features are (N, D) / (Q, D) tensors or arrays (cosine: rows are L2-normalised here); labels are
    (N,) ints or strings. A k above N uses all N training rows.
    """
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    train, test = _unit_rows(train_feats, "training features"), _unit_rows(test_feats, "test features")
    (codes,), classes = encode_labels(train_labels)
    if codes.shape[0] != train.shape[0]:
        raise ValueError(f"{train.shape[0]} training features but {codes.shape[0]} training labels")
    similarities, neighbours = knn(test, train, min(int(k), train.shape[0]), spec=spec)
    weights = torch.exp(similarities / temperature)
    scores = torch.zeros(test.shape[0], len(classes))
    scores.scatter_add_(1, codes[neighbours], weights)
    return KNNResult(scores.argmax(dim=1), scores, classes)
