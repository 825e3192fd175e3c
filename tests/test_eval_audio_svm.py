"""ESC-50 style SVM: decision values averaged over clips, leave-one-fold-out, standardised features."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from avssl.eval.audio_svm import svm_cross_validation, svm_decision_values, svm_video_accuracy


def recordings(seed, videos=50, clips=10, classes=5, dim=8, noise=2.0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim)) * 1.5
    labels = np.arange(videos) % classes
    clip_video = np.repeat(np.arange(videos), clips)
    feats = centres[labels[clip_video]] + noise * rng.standard_normal((videos * clips, dim))
    return feats * 100.0 + 7.0, clip_video, labels  # a large scale and offset: standardisation matters


def test_video_accuracy_is_argmax_of_clip_averaged_decisions():
    feats, clip_video, labels = recordings(0)
    train = clip_video < 30
    test_video = clip_video[~train] - 30
    accuracy, per_video = svm_video_accuracy(feats[train], labels[clip_video[train]], feats[~train], test_video,
                                             labels[30:], num_classes=5)
    scaler = StandardScaler().fit(feats[train])
    svm = LinearSVC(C=10.0, max_iter=5000, random_state=0).fit(scaler.transform(feats[train]),
                                                              labels[clip_video[train]])
    decision = svm.decision_function(scaler.transform(feats[~train]))
    expected = np.stack([decision[test_video == v].mean(axis=0) for v in range(20)])
    np.testing.assert_allclose(per_video.numpy(), expected, rtol=1e-10)
    assert accuracy == pytest.approx(float(np.mean(expected.argmax(axis=1) == labels[30:])))


def test_averaging_clips_beats_single_clips_on_noisy_features():
    feats, clip_video, labels = recordings(1, noise=3.0)
    train = clip_video < 30
    accuracy, _ = svm_video_accuracy(feats[train], labels[clip_video[train]], feats[~train], clip_video[~train] - 30,
                                     labels[30:], 5)
    decision = svm_decision_values(feats[train], labels[clip_video[train]], feats[~train], 5)
    clip_accuracy = float((decision.argmax(1).numpy() == labels[clip_video[~train]]).mean())
    assert accuracy > clip_accuracy


def test_cross_validation_tests_every_fold_once():
    feats, clip_video, labels = recordings(2, noise=0.5)
    folds = (np.arange(50) // 5) % 5 + 1  # every fold holds every class
    result = svm_cross_validation(feats, clip_video, labels, folds)
    assert sorted(result["folds"]) == [1, 2, 3, 4, 5]
    assert result["mean"] == pytest.approx(np.mean(list(result["folds"].values())))
    assert result["mean"] > 0.9


def test_class_missing_from_training_is_never_predicted():
    feats, clip_video, labels = recordings(3)
    train = (labels[clip_video] != 4) & (clip_video < 40)
    decision = svm_decision_values(feats[train], labels[clip_video[train]], feats[~train], 5)
    assert torch.isinf(decision[:, 4]).all() and not (decision.argmax(1) == 4).any()


def test_two_classes_give_two_columns():
    feats, clip_video, labels = recordings(4, classes=2)
    decision = svm_decision_values(feats[:200], labels[clip_video[:200]], feats[200:], 2)
    assert decision.shape == (300, 2)
    torch.testing.assert_close(decision[:, 0], -decision[:, 1])
