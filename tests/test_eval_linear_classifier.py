"""Linear probe on feature tensors: learns separable classes, follows the official schedule."""

from __future__ import annotations

import numpy as np
import torch

from avssl.eval.classification_metrics import top1_accuracy
from avssl.eval.linear_classifier import ClassifierRecipe, LinearClassifier, linear_probe, train_epochs


def blobs(seed, n, dim=10, classes=4, spread=0.6):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).standard_normal((classes, dim)) * 2
    y = rng.integers(0, classes, n)
    return torch.from_numpy(centres[y] + spread * rng.standard_normal((n, dim))).float(), torch.from_numpy(y)


def test_linear_probe_separates_gaussian_blobs():
    train_x, train_y = blobs(0, 400)
    test_x, test_y = blobs(1, 200)
    recipe = ClassifierRecipe(epochs=30, lr=1e-2, milestones=(20,), batch_size=32)
    logits = linear_probe(train_x, train_y, test_x, num_classes=4, recipe=recipe)
    assert set(logits) == {"features"} and logits["features"].shape == (200, 4)
    assert top1_accuracy(logits["features"], test_y) > 0.95


def test_one_classifier_per_feature_key():
    train_x, train_y = blobs(2, 120)
    test_x, _ = blobs(3, 30)
    noise = torch.randn(120, 5)
    logits = linear_probe({"pool": train_x, "noise": noise}, train_y, {"pool": test_x, "noise": torch.randn(30, 5)},
                          num_classes=4, recipe=ClassifierRecipe(epochs=2, batch_size=16))
    assert {k: tuple(v.shape) for k, v in logits.items()} == {"pool": (30, 4), "noise": (30, 4)}


def test_same_seed_same_logits():
    train_x, train_y = blobs(4, 100)
    test_x, _ = blobs(5, 20)
    recipe = ClassifierRecipe(epochs=3, batch_size=16, seed=7)
    a = linear_probe(train_x, train_y, test_x, 4, recipe)["features"]
    b = linear_probe(train_x, train_y, test_x, 4, recipe)["features"]
    torch.testing.assert_close(a, b)


def test_schedule_decays_the_learning_rate_at_the_milestones():
    model = LinearClassifier(3, 2, batch_norm=False)
    recipe = ClassifierRecipe(epochs=5, lr=1.0, milestones=(2, 4), gamma=0.3)
    optimizer, scheduler = recipe.optimizer(model.parameters())
    seen = []

    def batches(epoch):
        seen.append(optimizer.param_groups[0]["lr"])
        yield torch.randn(4, 3), torch.tensor([0, 1, 0, 1])

    train_epochs(model, batches, optimizer, scheduler, recipe.epochs, torch.device("cpu"))
    np.testing.assert_allclose(seen, [1.0, 1.0, 0.3, 0.3, 0.09])
