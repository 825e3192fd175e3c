"""Clip@1, Video@1 (softmax averaged over a video's clips) and confusion matrices, against loops here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.eval.classification_metrics import (
    average_per_video,
    confusion_matrix,
    top1_accuracy,
    video_accuracy,
    video_scores,
)


def direct_video_accuracy(logits, clip_video, video_labels, softmax=True):
    hits = 0
    for v, label in enumerate(video_labels):
        rows = logits[clip_video == v]
        if softmax:
            rows = np.exp(rows - rows.max(axis=1, keepdims=True))
            rows = rows / rows.sum(axis=1, keepdims=True)
        hits += int(np.argmax(rows.mean(axis=0)) == label)
    return hits / len(video_labels)


@pytest.mark.parametrize("softmax", [True, False])
def test_video_accuracy_matches_a_direct_loop(softmax):
    rng = np.random.default_rng(0)
    clip_video = rng.permutation(np.repeat(np.arange(30), 10))  # 10 clips per video, shuffled order
    logits = 3.0 * rng.standard_normal((300, 7))
    labels = rng.integers(0, 7, 30)
    assert video_accuracy(logits, clip_video, labels, softmax) == pytest.approx(
        direct_video_accuracy(logits, clip_video, labels, softmax), abs=1e-12)


def test_softmax_averaging_differs_from_logit_averaging():
    # Clip 1 prefers class 0 by 3 logits, clips 2 and 3 prefer class 1 by 1. The logit mean (1, 2/3)
    # follows the single confident clip; the softmax mean (0.497, 0.503) the two others.
    logits = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    clip_video, labels = np.zeros(3, dtype=np.int64), np.array([1])
    assert video_accuracy(logits, clip_video, labels, softmax=True) == 1.0
    assert video_accuracy(logits, clip_video, labels, softmax=False) == 0.0


def test_clip_accuracy_counts_rows():
    scores = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert top1_accuracy(scores, torch.tensor([1, 0, 0, 0])) == 0.75


def test_ties_go_to_the_lower_class():
    assert top1_accuracy(torch.tensor([[0.5, 0.5]]), torch.tensor([0])) == 1.0


def test_average_per_video_is_the_mean_of_each_videos_rows():
    values = torch.arange(12.0).reshape(6, 2)
    got = average_per_video(values, torch.tensor([2, 0, 2, 1, 0, 2]))
    torch.testing.assert_close(got, torch.stack([values[[1, 4]].mean(0), values[3], values[[0, 2, 5]].mean(0)]))


def test_a_video_without_clips_is_an_error():
    with pytest.raises(ValueError, match="at least one clip"):
        average_per_video(torch.ones(3, 2), torch.tensor([0, 0, 2]))
    with pytest.raises(ValueError, match="at least one clip"):
        average_per_video(torch.ones(3, 2), torch.tensor([0, 1, 1]), num_videos=3)


def test_video_scores_rows_sum_to_one_with_softmax():
    rng = np.random.default_rng(1)
    scores = video_scores(rng.standard_normal((20, 4)), np.repeat(np.arange(5), 4))
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(5, dtype=torch.float64))


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix(torch.tensor([0, 1, 1, 2, 0]), torch.tensor([0, 1, 2, 2, 1]), 3)
    assert matrix.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 1]]
    with pytest.raises(ValueError, match="class codes"):
        confusion_matrix(torch.tensor([3]), torch.tensor([0]), 3)
