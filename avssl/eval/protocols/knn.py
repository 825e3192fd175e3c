"""`avssl eval knn`: weighted kNN on frozen video-level features (test videos vote among training
videos), accuracy per stage and per k."""

from __future__ import annotations

import torch

from avssl.eval.knn_classifier import knn_classify
from avssl.eval.protocols.class_plots import class_plots
from avssl.eval.report import ProtocolReport, percent


def run(ctx) -> ProtocolReport:
    cfg = ctx.eval.knn
    modality, stages = cfg.modality, list(ctx.eval.features.stages)
    data = ctx.data(need_audio=modality == "audio", need_video=modality == "video")
    fold = data.folds[0]
    clips = int(ctx.eval.features.clips_per_video)
    feats = {subset: ctx.extract(data, fold, getattr(fold, subset), subset, {modality: stages}, clips).video_level()
             for subset in ("train", "test")}
    train_codes, test_codes = torch.tensor(data.codes(fold.train)), torch.tensor(data.codes(fold.test))
    accuracy: dict[str, dict[str, float]] = {}
    first = None
    for stage in stages:
        key = f"{modality}/{stage}"
        accuracy[stage] = {}
        for k in cfg.ks:
            result = knn_classify(feats["train"][key], train_codes, feats["test"][key], int(k), float(cfg.temperature))
            predicted = torch.tensor(result.classes)[result.predictions]
            accuracy[stage][f"k={k}"] = float((predicted == test_codes).double().mean())
            first = first or (predicted, key, k)
    predicted, key, k = first
    plots = class_plots(ctx, predicted, test_codes, data.class_names, feats["test"][key],
                        f"kNN {key} (k={k}, T={cfg.temperature})")
    header = ["stage", *(f"top-1 k={k}" for k in cfg.ks)]
    rows = [[f"{modality}/{stage}", *(percent(accuracy[stage][f"k={k}"]) for k in cfg.ks)] for stage in stages]
    chance = 1.0 / len(data.class_names)
    return ProtocolReport(
        "knn", f"Weighted kNN ({modality}, T={cfg.temperature}) on {fold.name}: {len(fold.test)} test videos vote "
        f"among {len(fold.train)} training videos", {
            "fold": fold.name, "modality": modality, "temperature": float(cfg.temperature),
            "ks": [int(k) for k in cfg.ks], "accuracy": accuracy, "chance": chance,
            "counts": {"train": len(fold.train), "test": len(fold.test)}, "class_names": data.class_names},
        (header, rows), plots,
        [(f"Top-1 accuracy (%) of the class with the largest sum of exp(cos/T) over the k nearest training "
         f"videos (video feature = mean of {clips} uniformly spaced clips). Chance: {percent(chance)} %.")])
