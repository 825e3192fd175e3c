"""Clip@1, Video@1 and the confusion matrix: the accuracy figures of the AVID-CMA tables.

Clip@1 scores every clip on its own. Video@1 first averages the clips of a video (the softmax of
their logits, as the official evaluation does for its 10 uniformly spaced clips; or raw decision
values, as the ESC-50 SVM protocol does) and then takes the best class. Ties go to the lower class
code (`argmax` returns the first maximum).
"""

from __future__ import annotations

import torch


def _as_tensor(x, name: str, ndim: int) -> torch.Tensor:
    x = torch.as_tensor(x).detach().cpu()
    if x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(x.shape)}")
    return x


def average_per_video(values, video_index, num_videos: int | None = None) -> torch.Tensor:
    """(V, ...) mean of the rows of `values` (N, ...) that belong to each video (`video_index` (N,)).

    Every video 0..V-1 must own at least one row: a video without clips has no mean, and a silent
    zero would pass for a feature.
    """
    values = torch.as_tensor(values).detach().cpu()
    index = _as_tensor(video_index, "video_index", 1).long()
    if index.shape[0] != values.shape[0]:
        raise ValueError(f"{values.shape[0]} rows but {index.shape[0]} video indices")
    num_videos = int(index.max()) + 1 if num_videos is None else int(num_videos)
    counts = torch.bincount(index, minlength=num_videos)
    if counts.shape[0] > num_videos or (counts == 0).any():
        empty = (counts[:num_videos] == 0).nonzero().flatten()[:5].tolist()
        raise ValueError(f"every video 0..{num_videos - 1} needs at least one clip (none for {empty}) and "
                         f"indices must be below {num_videos}")
    dtype = values.dtype if values.is_floating_point() else torch.float32
    sums = torch.zeros((num_videos, *values.shape[1:]), dtype=dtype).index_add_(0, index, values.to(dtype))
    return sums / counts.reshape(-1, *([1] * (values.ndim - 1))).to(dtype)


def top1_accuracy(scores, labels) -> float:
    """Fraction of rows of `scores` (N, C) whose best class is `labels` (N,)."""
    scores, labels = _as_tensor(scores, "scores", 2), _as_tensor(labels, "labels", 1)
    if scores.shape[0] != labels.shape[0] or scores.shape[0] == 0:
        raise ValueError(f"{scores.shape[0]} score rows but {labels.shape[0]} labels (need the same, >= 1)")
    return float((scores.argmax(dim=1) == labels.long()).double().mean())


def video_scores(clip_scores, clip_video, num_videos: int | None = None, softmax: bool = True) -> torch.Tensor:
    """(V, C): per video, the mean over its clips of softmax(logits) (or of the raw scores)."""
    clip_scores = _as_tensor(clip_scores, "clip_scores", 2).double()
    return average_per_video(clip_scores.softmax(dim=1) if softmax else clip_scores, clip_video, num_videos)


def video_accuracy(clip_scores, clip_video, video_labels, softmax: bool = True) -> float:
    """Video@1: accuracy of `video_scores` against `video_labels` (V,)."""
    video_labels = _as_tensor(video_labels, "video_labels", 1)
    return top1_accuracy(video_scores(clip_scores, clip_video, video_labels.shape[0], softmax), video_labels)


def confusion_matrix(predictions, labels, num_classes: int) -> torch.Tensor:
    """(C, C) int64 counts; row = true class, column = predicted class."""
    predictions, labels = _as_tensor(predictions, "predictions", 1).long(), _as_tensor(labels, "labels", 1).long()
    if predictions.shape != labels.shape:
        raise ValueError(f"{predictions.shape[0]} predictions but {labels.shape[0]} labels")
    for values, name in ((predictions, "predictions"), (labels, "labels")):
        if values.numel() and not (0 <= int(values.min()) and int(values.max()) < num_classes):
            raise ValueError(f"{name} must be class codes in 0..{num_classes - 1}, got {values.min()}..{values.max()}")
    flat = torch.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)
