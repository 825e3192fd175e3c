"""`avssl eval finetune`: end-to-end fine-tuning for action recognition, every fold, then the mean.

The official recipe (eval-action-recg.py with ucf/8at16-fold*.yaml of the AVID-CMA release): the
pre-trained encoder's pooled features → dropout 0.5 → Linear; `warmup_epochs` epochs train the
classifier alone (the encoder in train mode but outside the optimiser), then `epochs` epochs train
everything with Adam and a step decay; training clips are augmented (the pre-training transform)
and drawn afresh every epoch. Final evaluation: Clip@1 over `test_clips_per_video` random clips per
test video, Video@1 from the softmax averaged over `dense_clips_per_video` uniformly spaced clips.
Clip length comes from `data.clip` (8 frames at 16 fps, or 32 with data.clip.video_frames=32).

Resumable: after every epoch `<out>/finetune/<fold>.ckpt` holds the network, optimisers and
scheduler, so a rerun continues after the last finished epoch (a finished fold is only evaluated
again); `<fold>.json` holds the fold's figures.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import torch
from torch import nn
from torch.utils.data import DataLoader

from avssl.atomic_io import atomic_path, write_text_atomic
from avssl.eval.classification_metrics import top1_accuracy, video_accuracy, video_scores
from avssl.eval.eval_datasets import clip_dataset
from avssl.eval.feature_sources import FeatureSource
from avssl.eval.features import batch_to, resolve_device
from avssl.eval.linear_classifier import ClassifierRecipe, LinearClassifier, train_epochs
from avssl.eval.protocols.class_plots import class_plots
from avssl.eval.report import ProtocolReport, percent


class EncoderClassifier(nn.Module):
    """source's pooled features → dropout → Linear: the network that is fine-tuned (the source decides
    what the encoder sees, e.g. the middle frame of each clip for an image encoder)."""

    def __init__(self, source: FeatureSource, classifier: nn.Module) -> None:
        super().__init__()
        self.encoder, self.classifier, self.source = source.encoder, classifier, source

    def forward(self, batch: dict) -> torch.Tensor:
        return self.classifier(self.source.pooled(batch))


def run(ctx) -> ProtocolReport:
    cfg = ctx.eval.finetune
    modality = cfg.modality
    data = ctx.data(need_audio=modality == "audio", need_video=modality == "video", all_folds=True)
    results, last = {}, None
    for fold in data.folds:
        results[fold.name], last = _fold(ctx, data, fold, modality)
    mean = {m: sum(r[m] for r in results.values()) / len(results) for m in ("clip_top1", "video_top1")}
    predicted, codes, features, fold_name = last
    plots = class_plots(ctx, predicted, codes, data.class_names, features,
                        f"fine-tuned {modality}, {fold_name}")
    rows = [[name, percent(r["clip_top1"]), percent(r["video_top1"])] for name, r in results.items()]
    rows.append([f"mean of {len(results)}", percent(mean["clip_top1"]), percent(mean["video_top1"])])
    recipe = ClassifierRecipe.from_config(cfg)
    return ProtocolReport(
        "finetune", f"Fine-tuning ({modality}) on {len(results)} fold(s)", {
            "folds": results, "mean": mean, "modality": modality, "warmup_epochs": int(cfg.warmup_epochs),
            "recipe": recipe.__dict__ | {"milestones": list(recipe.milestones)}, "dropout": float(cfg.dropout),
            "clip": {"frames": int(ctx.config.data.clip.video_frames), "fps": float(ctx.config.data.clip.video_fps)},
            "chance": 1.0 / len(data.class_names), "class_names": data.class_names},
        (["fold", "Clip@1", "Video@1"], rows), plots,
        [(f"{cfg.warmup_epochs} warm-up epochs (classifier only), then {cfg.epochs} epochs end to end, Adam "
         f"lr {cfg.lr}, ×{cfg.gamma} at {list(cfg.milestones)}, dropout {cfg.dropout}. Clip@1 over "
         f"{cfg.test_clips_per_video} random clips per test video; Video@1: softmax averaged over "
         f"{cfg.dense_clips_per_video} uniform clips. Confusion matrix and feature map: {fold_name}.")])


def _fold(ctx, data, fold, modality):
    cfg = ctx.eval.finetune
    recipe = ClassifierRecipe.from_config(cfg)
    device = resolve_device(cfg.device)
    folder = ctx.out / "finetune"
    num_classes = len(data.class_names)
    train_codes, test_codes = torch.tensor(data.codes(fold.train)), torch.tensor(data.codes(fold.test))
    torch.manual_seed(recipe.seed)
    pretrained = ctx.model.source(modality)  # a copy is fine-tuned; the checkpoint's stays as loaded
    source = dataclasses.replace(pretrained, encoder=copy.deepcopy(pretrained.encoder), head=None)
    encoder = source.encoder
    classifier = LinearClassifier(int(encoder.out_dim), num_classes, batch_norm=False, dropout=float(cfg.dropout))
    net = EncoderClassifier(source, classifier).to(device)
    warmup_optimizer = torch.optim.Adam(classifier.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    optimizer, scheduler = recipe.optimizer(net.parameters())
    warmup, total = int(cfg.warmup_epochs), int(cfg.warmup_epochs) + recipe.epochs
    start = _resume(folder / f"{fold.name}.ckpt", net, warmup_optimizer, optimizer, scheduler)
    dataset = clip_dataset(ctx.config.data, fold.train, int(cfg.train_clips_per_video), (modality,), data.decoder,
                           augment=True, seed=int(ctx.eval.seed))

    def batches(epoch: int):
        dataset.set_epoch(epoch)
        loader = DataLoader(dataset, batch_size=recipe.batch_size, shuffle=True,
                            drop_last=len(dataset) > recipe.batch_size, num_workers=cfg.num_workers,
                            generator=torch.Generator().manual_seed(recipe.seed * 1_000_003 + epoch))
        for batch in loader:
            yield batch_to(batch, device), train_codes[batch["index"]]

    for epoch in range(start, total):
        net.train()
        warming = epoch < warmup
        encoder.requires_grad_(not warming)  # warm-up: the encoder is outside the optimiser anyway
        opt, sched = (warmup_optimizer, None) if warming else (optimizer, scheduler)
        train_epochs(net, batches, opt, sched, 1, device, ctx.progress,
                     f"{fold.name} {'warm-up' if warming else 'fine-tune'} {epoch + 1}/{total}", first_epoch=epoch)
        _save(folder / f"{fold.name}.ckpt", epoch + 1, net, warmup_optimizer, optimizer, scheduler)
    net.eval()
    random_clips = ctx.extract(data, fold, fold.test, "test", {modality: ["pool"]}, int(cfg.test_clips_per_video),
                               sampling="random", sources=[source])
    dense = ctx.extract(data, fold, fold.test, "test", {modality: ["pool"]}, int(cfg.dense_clips_per_video),
                        sources=[source])
    with torch.no_grad():
        clip_logits = classifier(random_clips[f"{modality}/pool"].to(device)).cpu()
        dense_logits = classifier(dense[f"{modality}/pool"].to(device)).cpu()
    result = {"clip_top1": top1_accuracy(clip_logits, test_codes[random_clips.clip_video]),
              "video_top1": video_accuracy(dense_logits, dense.clip_video, test_codes)}
    write_text_atomic(folder / f"{fold.name}.json", json.dumps(result) + "\n")
    predicted = video_scores(dense_logits, dense.clip_video, len(fold.test)).argmax(dim=1)
    return result, (predicted, test_codes, dense.video_level()[f"{modality}/pool"], fold.name)


def _save(path, epoch: int, net, warmup_optimizer, optimizer, scheduler) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"epoch": epoch, "net": net.state_dict(), "warmup_optimizer": warmup_optimizer.state_dict(),
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp)


def _resume(path, net, warmup_optimizer, optimizer, scheduler) -> int:
    if not path.is_file():
        return 0
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state["net"])
    warmup_optimizer.load_state_dict(state["warmup_optimizer"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    return int(state["epoch"])
