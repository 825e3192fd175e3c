"""The ESC-50 protocol for audio features: a linear SVM per cross-validation fold.

Following the AVID-CMA evaluation (configs/benchmark/esc50/audio-svm.yaml of the release: conv5x
average-pooled to 4×4, C = 10, 10 clips per recording): every training clip is one SVM sample,
features are standardised with the training clips' mean and standard deviation, and a recording's
prediction is the class with the largest decision value averaged over its clips. The dataset's
five folds each serve once as the test set; the figure is the mean over folds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from avssl.eval.classification_metrics import top1_accuracy, video_scores


def _numpy(x, name: str, ndim: int) -> np.ndarray:
    array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {array.shape}")
    return array


def svm_decision_values(train_x, train_y, test_x, num_classes: int, C: float = 10.0, max_iter: int = 5000,
                        seed: int = 0) -> torch.Tensor:
    """(Q, num_classes) one-vs-rest decision values of a standardised linear SVM; classes absent from
    training get −inf (they can never win)."""
    train_x, test_x = _numpy(train_x, "train_x", 2).astype(np.float64), _numpy(test_x, "test_x", 2).astype(np.float64)
    train_y = _numpy(train_y, "train_y", 1).astype(np.int64)
    present = np.unique(train_y)
    if len(present) < 2:
        raise ValueError(f"the SVM needs training clips of at least 2 classes, got {present.tolist()}")
    scaler = StandardScaler().fit(train_x)
    svm = LinearSVC(C=C, max_iter=max_iter, random_state=seed).fit(scaler.transform(train_x), train_y)
    decision = svm.decision_function(scaler.transform(test_x))
    if decision.ndim == 1:  # two classes: sklearn returns the score of classes_[1] only
        decision = np.stack([-decision, decision], axis=1)
    out = torch.full((test_x.shape[0], num_classes), float("-inf"), dtype=torch.float64)
    out[:, torch.from_numpy(svm.classes_.astype(np.int64))] = torch.from_numpy(decision)
    return out


def svm_video_accuracy(train_x, train_y, test_x, test_clip_video, test_video_labels, num_classes: int,
                       C: float = 10.0, seed: int = 0) -> tuple[float, torch.Tensor]:
    """(Video@1, (V, C) clip-averaged decision values) of one train/test fold."""
    labels = torch.as_tensor(test_video_labels).long()
    decision = svm_decision_values(train_x, train_y, test_x, num_classes, C, seed=seed)
    per_video = video_scores(decision, test_clip_video, labels.shape[0], softmax=False)
    return top1_accuracy(per_video, labels), per_video


def svm_cross_validation(clip_feats, clip_video, video_labels, video_folds, C: float = 10.0,
                         seed: int = 0) -> dict:
    """Leave-one-fold-out SVM accuracy over all folds in `video_folds` (V,).

    `clip_feats` (N, D) with `clip_video` (N,) giving each clip's video; `video_labels` (V,) int
    codes. Returns {"folds": {fold: Video@1}, "mean": mean over folds}.
    """
    feats = _numpy(clip_feats, "clip_feats", 2)
    clip_video = _numpy(clip_video, "clip_video", 1).astype(np.int64)
    labels = _numpy(video_labels, "video_labels", 1).astype(np.int64)
    folds = _numpy(video_folds, "video_folds", 1)
    if feats.shape[0] != clip_video.shape[0] or labels.shape != folds.shape:
        raise ValueError(f"{feats.shape[0]} clips for {clip_video.shape[0]} clip→video entries, "
                         f"{labels.shape[0]} labels for {folds.shape[0]} folds: the counts must agree")
    num_classes = int(labels.max()) + 1
    results: Mapping[int, float] = {}
    for fold in sorted(set(folds.tolist())):
        test_videos = np.flatnonzero(folds == fold)
        renumber = np.full(labels.shape[0], -1)
        renumber[test_videos] = np.arange(len(test_videos))
        is_test = folds[clip_video] == fold
        accuracy, _ = svm_video_accuracy(feats[~is_test], labels[clip_video[~is_test]], feats[is_test],
                                         renumber[clip_video[is_test]], labels[test_videos], num_classes, C, seed)
        results[int(fold)] = accuracy
    return {"folds": dict(results), "mean": float(np.mean(list(results.values())))}
