"""`avssl eval linear`: a linear classifier per stage on frozen features; Clip@1 and Video@1.

Default (frozen): the backbone stays in eval mode, so its BatchNorm layers normalise with the
running statistics learnt in pre-training; features of `train_clips_per_video` uniformly spaced
clips per training video are extracted once and the classifiers train on them (no augmentation:
this is what makes one extraction enough). `--bn-drift` reproduces the official AVID-CMA probe:
the backbone is frozen (no gradients) but left in train mode, so every training batch is
normalised with its own statistics and the running statistics drift towards the probe's data;
fresh augmented clips are drawn every epoch and the test features are computed with the drifted
statistics. Test: Clip@1 over `eval.features.clips_per_video` uniform clips, Video@1 by averaging
their softmax.
"""

from __future__ import annotations

import copy

import torch
from torch.utils.data import DataLoader

from avssl.eval.classification_metrics import top1_accuracy, video_accuracy, video_scores
from avssl.eval.eval_datasets import clip_dataset
from avssl.eval.features import batch_to, resolve_device
from avssl.eval.linear_classifier import (
    ClassifierRecipe,
    FeatureDict,
    LinearClassifier,
    predict_logits,
    shuffled_feature_batches,
    train_epochs,
)
from avssl.eval.protocols.class_plots import class_plots
from avssl.eval.report import ProtocolReport, percent


def run(ctx) -> ProtocolReport:
    cfg = ctx.eval.linear
    modality, stages = cfg.modality, list(ctx.eval.features.stages)
    data = ctx.data(need_audio=modality == "audio", need_video=modality == "video")
    fold = data.folds[0]
    train_codes, test_codes = torch.tensor(data.codes(fold.train)), torch.tensor(data.codes(fold.test))
    num_classes = len(data.class_names)
    recipe = ClassifierRecipe.from_config(cfg)
    device = resolve_device(ctx.eval.features.device)
    test_clips = int(ctx.eval.features.clips_per_video)
    if cfg.bn_drift:
        test, classifier = _drifting_probe(ctx, data, fold, modality, stages, train_codes, num_classes, recipe, device)
    else:
        train = ctx.extract(data, fold, fold.train, "train", {modality: stages}, int(cfg.train_clips_per_video))
        feats = {s: train[f"{modality}/{s}"] for s in stages}
        torch.manual_seed(recipe.seed)
        classifier = FeatureDict({s: LinearClassifier(v.shape[1], num_classes, bool(cfg.batch_norm))
                                  for s, v in feats.items()}).to(device).train()
        optimizer, scheduler = recipe.optimizer(classifier.parameters())
        batches = shuffled_feature_batches(feats, train_codes[train.clip_video], recipe.batch_size, recipe.seed, device)
        train_epochs(classifier, batches, optimizer, scheduler, recipe.epochs, device, ctx.progress, "linear probe")
        test = ctx.extract(data, fold, fold.test, "test", {modality: stages}, test_clips)
    logits = predict_logits(classifier, {s: test[f"{modality}/{s}"] for s in stages}, device)
    clip_codes = test_codes[test.clip_video]
    results = {s: {"clip_top1": top1_accuracy(logits[s], clip_codes),
                   "video_top1": video_accuracy(logits[s], test.clip_video, test_codes)} for s in stages}
    first = stages[0]
    predicted = video_scores(logits[first], test.clip_video, len(fold.test)).argmax(dim=1)
    mode = "bn-drift (official)" if cfg.bn_drift else "frozen BatchNorm"
    plots = class_plots(ctx, predicted, test_codes, data.class_names, test.video_level()[f"{modality}/{first}"],
                        f"linear {modality}/{first}, {mode}")
    rows = [[f"{modality}/{s}", percent(r["clip_top1"]), percent(r["video_top1"])] for s, r in results.items()]
    return ProtocolReport(
        "linear", f"Linear probe ({modality}, {mode}) on {fold.name}: {len(fold.train)} training, "
        f"{len(fold.test)} test videos", {
            "fold": fold.name, "modality": modality, "bn_drift": bool(cfg.bn_drift), "accuracy": results,
            "recipe": recipe.__dict__ | {"milestones": list(recipe.milestones)}, "test_clips_per_video": test_clips,
            "chance": 1.0 / num_classes, "counts": {"train": len(fold.train), "test": len(fold.test)},
            "class_names": data.class_names},
        (["stage", "Clip@1", "Video@1"], rows), plots,
        [(f"Clip@1: accuracy over {test_clips} uniformly spaced clips per test video; Video@1: their softmax "
         f"averaged. {recipe.epochs} epochs of Adam (lr {recipe.lr}, ×{recipe.gamma} at {list(recipe.milestones)}).")])


def _drifting_probe(ctx, data, fold, modality, stages, train_codes, num_classes, recipe, device):
    """The official probe: train-mode frozen backbone, augmented clips, classifiers on the fly."""
    cfg = ctx.eval.linear
    source = copy.deepcopy(ctx.model.source(modality))  # its BatchNorm statistics will drift
    for module in source.modules():
        module.to(device).eval().requires_grad_(False)
    dataset = clip_dataset(ctx.config.data, fold.train, int(cfg.drift_clips_per_video), (modality,), data.decoder,
                           augment=True, seed=int(ctx.eval.seed))
    with torch.no_grad():  # feature sizes, in eval mode so the probe batch leaves no trace
        probe = source(batch_to(next(iter(DataLoader(dataset, batch_size=2))), device), stages, ctx.pooling())
    for module in source.modules():
        module.train()
    features = ctx.eval.features

    def batches(epoch: int):
        dataset.set_epoch(epoch)
        loader = DataLoader(dataset, batch_size=recipe.batch_size, shuffle=True, drop_last=len(dataset) > recipe.batch_size,
                            num_workers=features.num_workers,
                            generator=torch.Generator().manual_seed(recipe.seed * 1_000_003 + epoch))
        for batch in loader:
            with torch.no_grad():
                feats = source(batch_to(batch, device), stages, ctx.pooling())
            yield feats, train_codes[batch["index"]]

    torch.manual_seed(recipe.seed)
    classifier = FeatureDict({s: LinearClassifier(v.shape[1], num_classes, bool(cfg.batch_norm))
                              for s, v in probe.items()}).to(device).train()
    optimizer, scheduler = recipe.optimizer(classifier.parameters())
    train_epochs(classifier, batches, optimizer, scheduler, recipe.epochs, device, ctx.progress, "linear probe (bn drift)")
    for module in source.modules():
        module.eval()
    test = ctx.extract(data, fold, fold.test, "test-drifted", {modality: stages}, int(features.clips_per_video),
                       sources=[source])
    return test, classifier
