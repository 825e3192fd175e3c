"""Classifiers on top of (frozen or fine-tuned) features, and the one training loop they share.

The official AVID-CMA evaluations train with Adam and a step decay of the learning rate
(MultiStepLR): linear probes on Kinetics 12 epochs at 1e-4, ×0.1 at epochs 6 and 9, one classifier
per stage, each a BatchNorm1d then a Linear on the pooled, flattened stage output (their
`MOSTWrapper` with `use_bn`); fine-tuning adds dropout 0.5 before the Linear
(`ClassificationWrapper`). `linear_probe` is the pure form on feature tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm


class LinearClassifier(nn.Module):
    """[BatchNorm1d] → [Dropout] → Linear(in_dim, num_classes)."""

    def __init__(self, in_dim: int, num_classes: int, batch_norm: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        if in_dim < 1 or num_classes < 2:
            raise ValueError(f"a classifier needs in_dim >= 1 and >= 2 classes, got {in_dim} and {num_classes}")
        self.norm = nn.BatchNorm1d(in_dim) if batch_norm else nn.Identity()
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.linear = nn.Linear(in_dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(self.norm(x.flatten(1))))


@dataclass(frozen=True)
class ClassifierRecipe:
    """Adam + MultiStepLR, the official schedule (milestones in epochs)."""

    epochs: int = 12
    lr: float = 1e-4
    weight_decay: float = 0.0
    milestones: tuple[int, ...] = (6, 9)
    gamma: float = 0.1
    batch_size: int = 128
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.lr <= 0 or self.batch_size < 1:
            raise ValueError(f"classifier recipe needs epochs >= 0, lr > 0, batch_size >= 1; got {self}")

    @classmethod
    def from_config(cls, cfg) -> ClassifierRecipe:
        """From an `eval.linear` or `eval.finetune` config section (the fields of the same names)."""
        return cls(epochs=int(cfg.epochs), lr=float(cfg.lr), weight_decay=float(cfg.weight_decay),
                   milestones=tuple(int(m) for m in cfg.milestones), gamma=float(cfg.gamma),
                   batch_size=int(cfg.batch_size), seed=int(cfg.seed))

    def optimizer(self, params: Iterable[nn.Parameter]):
        optimizer = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, list(self.milestones), gamma=self.gamma)
        return optimizer, scheduler


Batches = Callable[[int], Iterable[tuple[object, torch.Tensor]]]
"""epoch -> iterable of (inputs, labels); inputs are whatever the model takes."""


def summed_cross_entropy(logits, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of one logits tensor, or the sum over a dict of them (one classifier per stage,
    trained jointly as in the official linear evaluation)."""
    if isinstance(logits, Mapping):
        return sum(F.cross_entropy(value, labels) for value in logits.values())
    return F.cross_entropy(logits, labels)


def train_epochs(model: nn.Module, batches: Batches, optimizer, scheduler, epochs: int, device: torch.device,
                 progress: bool = False, desc: str = "train", first_epoch: int = 0) -> list[float]:
    """Minimise `summed_cross_entropy(model(inputs), labels)`; one scheduler step per epoch.

    `model.train()` is the caller's business (a frozen backbone inside `model` may have to stay in
    eval mode). Returns the mean loss of every epoch.
    """
    history = []
    for epoch in tqdm(range(first_epoch, first_epoch + epochs), desc=desc, unit="epoch", disable=not progress):
        total, count = 0.0, 0
        for inputs, labels in batches(epoch):
            labels = labels.to(device)
            loss = summed_cross_entropy(model(inputs), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * labels.shape[0]
            count += labels.shape[0]
        if scheduler is not None:
            scheduler.step()
        history.append(total / max(count, 1))
    return history


class FeatureDict(nn.Module):
    """One classifier per feature name, applied to a dict of features: {name: logits}."""

    def __init__(self, classifiers: Mapping[str, nn.Module]) -> None:
        super().__init__()
        self.classifiers = nn.ModuleDict(dict(classifiers))

    def forward(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: head(features[name]) for name, head in self.classifiers.items()}


def shuffled_feature_batches(features: Mapping[str, torch.Tensor], labels: torch.Tensor, batch_size: int,
                             seed: int, device: torch.device) -> Batches:
    """Batches of cached features, reshuffled every epoch by a generator seeded with (seed, epoch)."""
    n = labels.shape[0]

    def batches(epoch: int):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            if rows.numel() < 2 and n >= 2:  # BatchNorm1d cannot train on a single row
                continue
            yield {k: v[rows].to(device) for k, v in features.items()}, labels[rows]

    return batches


def _as_feature_dict(feats) -> dict[str, torch.Tensor]:
    if isinstance(feats, Mapping):
        return {k: torch.as_tensor(v).float().flatten(1) for k, v in feats.items()}
    return {"features": torch.as_tensor(feats).float().flatten(1)}


@torch.no_grad()
def predict_logits(model: nn.Module, features: Mapping[str, torch.Tensor], device: torch.device,
                   batch_size: int = 1024) -> dict[str, torch.Tensor]:
    """{name: (N, C) logits} of a `FeatureDict` in eval mode, on the CPU."""
    model.eval()
    n = next(iter(features.values())).shape[0]
    out: dict[str, list[torch.Tensor]] = {}
    for start in range(0, n, batch_size):
        logits = model({k: v[start : start + batch_size].to(device) for k, v in features.items()})
        for name, value in logits.items():
            out.setdefault(name, []).append(value.float().cpu())
    return {name: torch.cat(parts) for name, parts in out.items()}


def linear_probe(train_feats, train_labels, test_feats, num_classes: int,
                 recipe: ClassifierRecipe = ClassifierRecipe(), batch_norm: bool = True,
                 device: str | torch.device = "cpu", progress: bool = False) -> dict[str, torch.Tensor]:
    """Train a linear classifier per feature tensor on (`train_feats`, `train_labels` int codes) and
    return the (Q, C) test logits, keyed like the inputs ("features" for a single tensor)."""
    device = torch.device(device)
    train, test = _as_feature_dict(train_feats), _as_feature_dict(test_feats)
    labels = torch.as_tensor(train_labels).long()
    if set(train) != set(test):
        raise ValueError(f"train features {sorted(train)} and test features {sorted(test)} must have the same keys")
    torch.manual_seed(recipe.seed)
    model = FeatureDict({k: LinearClassifier(v.shape[1], num_classes, batch_norm) for k, v in train.items()})
    model.to(device).train()
    optimizer, scheduler = recipe.optimizer(model.parameters())
    batches = shuffled_feature_batches(train, labels, recipe.batch_size, recipe.seed, device)
    train_epochs(model, batches, optimizer, scheduler, recipe.epochs, device, progress, desc="linear probe")
    return predict_logits(model, test, device)
