"""Weighted kNN classification, checked against a direct implementation of Wu et al. / DINO here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.core.search_spec import SearchSpec
from avssl.eval.knn_classifier import knn_classify


def direct_weighted_knn(train, train_labels, test, k, temperature, num_classes):
    """float64: cosine to every training row, the k best by (-similarity, index), exp(s/T) votes."""
    train = train / np.linalg.norm(train, axis=1, keepdims=True)
    test = test / np.linalg.norm(test, axis=1, keepdims=True)
    scores = np.zeros((len(test), num_classes))
    for i, row in enumerate(test @ train.T):
        for j in sorted(range(len(train)), key=lambda j: (-row[j], j))[:k]:
            scores[i, train_labels[j]] += np.exp(row[j] / temperature)
    return scores


def clustered(seed, n_train=150, n_test=40, dim=12, classes=5, noise=1.2):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim))
    train_y, test_y = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)
    return (centres[train_y] + noise * rng.standard_normal((n_train, dim)), train_y,
            centres[test_y] + noise * rng.standard_normal((n_test, dim)), test_y)


@pytest.mark.parametrize("k,temperature", [(1, 0.07), (20, 0.07), (200, 0.07), (7, 0.5)])
def test_scores_match_the_direct_formula(k, temperature):
    train, train_y, test, _ = clustered(0)
    expected = direct_weighted_knn(train, train_y, test, k, temperature, 5)
    result = knn_classify(torch.from_numpy(train), torch.from_numpy(train_y), torch.from_numpy(test), k, temperature)
    np.testing.assert_allclose(result.scores.numpy(), expected, rtol=2e-5)
    np.testing.assert_array_equal(result.predictions.numpy(), expected.argmax(axis=1))
    assert result.classes == [0, 1, 2, 3, 4]


def test_torch_and_faiss_backends_agree():
    train, train_y, test, _ = clustered(1)
    a = knn_classify(train, train_y, test, 20, spec=SearchSpec(backend="torch"))
    b = knn_classify(train, train_y, test, 20, spec=SearchSpec(backend="faiss"))
    torch.testing.assert_close(a.scores, b.scores, rtol=1e-5, atol=0)


def test_planted_duplicate_decides_with_one_neighbour():
    rng = np.random.default_rng(2)
    train = rng.standard_normal((60, 16))
    labels = np.array([f"class_{i % 6}" for i in range(60)])
    picks = rng.choice(60, 15, replace=False)
    test = train[picks] * 3.0  # same direction: cosine 1 with its source row
    result = knn_classify(train, labels, test, k=1)
    assert [result.classes[c] for c in result.predictions] == labels[picks].tolist()


def test_weighting_lets_close_neighbours_outvote_many_far_ones():
    # One training point along the query (s = 1) against three at s = 0.5: exp(1/T) > 3 exp(0.5/T).
    train = np.array([[1.0, 0.0], [0.5, np.sqrt(0.75)], [0.5, -np.sqrt(0.75)], [0.5, np.sqrt(0.75)]])
    result = knn_classify(train, [0, 1, 1, 1], np.array([[1.0, 0.0]]), k=4, temperature=0.07)
    assert result.predictions.tolist() == [0]
    result = knn_classify(train, [0, 1, 1, 1], np.array([[1.0, 0.0]]), k=4, temperature=100.0)
    assert result.predictions.tolist() == [1]  # nearly uniform weights: the majority wins


def test_k_above_the_training_set_uses_all_rows():
    train, train_y, test, _ = clustered(3, n_train=12)
    expected = direct_weighted_knn(train, train_y, test, 12, 0.07, 5)
    np.testing.assert_allclose(knn_classify(train, train_y, test, k=200).scores.numpy(), expected, rtol=2e-5)


@pytest.mark.parametrize("bad", [{"k": 0}, {"temperature": 0.0}])
def test_bad_settings_are_errors(bad):
    train, train_y, test, _ = clustered(4)
    with pytest.raises(ValueError):
        knn_classify(train, train_y, test, **{"k": 5, **bad})


def test_label_count_must_match_features():
    train, train_y, test, _ = clustered(5)
    with pytest.raises(ValueError, match="training labels"):
        knn_classify(train, train_y[:-1], test)
