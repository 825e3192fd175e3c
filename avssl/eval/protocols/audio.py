"""`avssl eval audio`: the ESC-50 protocol for the audio encoder on every fold, then the mean.

Features of `eval.audio.clips_per_video` uniformly spaced 2-s clips per recording are extracted once
for all recordings of all folds (`eval.audio.stage`, pooled as `eval.audio.pool`/`pool_size`); for
each fold a linear SVM trains on the other recordings' clips (standardised) and a test recording's
class is the largest decision value averaged over its clips (`avssl.eval.audio_svm`).
"""

from __future__ import annotations

import numpy as np
import torch

from avssl.data.manifest import Manifest
from avssl.eval.audio_svm import svm_video_accuracy
from avssl.eval.eval_datasets import EvalFold
from avssl.eval.feature_sources import StagePooling
from avssl.eval.protocols.class_plots import class_plots
from avssl.eval.report import ProtocolReport, percent


def _union(folds: list[EvalFold]) -> Manifest:
    """Every recording of every fold once, in path order (the folds share one feature extraction)."""
    rows = {row.path: row for fold in folds for m in (fold.train, fold.test) for row in m.rows}
    first = folds[0].train
    return Manifest([rows[p] for p in sorted(rows)], first.source_root, first.manifest_dir)


def run(ctx) -> ProtocolReport:
    cfg = ctx.eval.audio
    data = ctx.data(need_audio=True, need_video=False, all_folds=True)
    everything = _union(data.folds)
    pooling = StagePooling(cfg.pool, tuple(cfg.pool_size) if cfg.pool_size else None)
    key = f"audio/{cfg.stage}"
    clips = ctx.extract(data, EvalFold("all", everything, everything), everything, "all", {"audio": [cfg.stage]},
                        int(cfg.clips_per_video), pooling)
    feats, clip_video = clips[key].numpy(), clips.clip_video.numpy()
    codes = np.asarray(data.codes(everything))
    row_of = {row.path: i for i, row in enumerate(everything.rows)}
    results, all_predicted, all_true, seen = {}, [], [], []
    for fold in data.folds:
        train_rows = np.array([row_of[r.path] for r in fold.train.rows])
        test_rows = np.array([row_of[r.path] for r in fold.test.rows])
        renumber = np.full(len(everything), -1)
        renumber[test_rows] = np.arange(len(test_rows))
        train_clips, test_clips = np.isin(clip_video, train_rows), np.isin(clip_video, test_rows)
        accuracy, per_video = svm_video_accuracy(
            feats[train_clips], codes[clip_video[train_clips]], feats[test_clips], renumber[clip_video[test_clips]],
            codes[test_rows], len(data.class_names), float(cfg.C), seed=int(ctx.eval.seed))
        results[fold.name] = accuracy
        all_predicted.append(per_video.argmax(dim=1))
        all_true.append(torch.from_numpy(codes[test_rows]))
        seen.append(test_rows)
    mean = float(np.mean(list(results.values())))
    videos = clips.video_level()[key]
    plots = class_plots(ctx, torch.cat(all_predicted), torch.cat(all_true), data.class_names,
                        videos[torch.from_numpy(np.concatenate(seen))], f"audio SVM on {key}, all test folds")
    rows = [[name, percent(value)] for name, value in results.items()]
    rows.append([f"mean of {len(results)}", percent(mean)])
    return ProtocolReport(
        "audio", f"Audio classification (linear SVM on {key}) over {len(results)} fold(s)", {
            "folds": results, "mean": mean, "stage": cfg.stage, "pool": cfg.pool,
            "pool_size": list(cfg.pool_size) if cfg.pool_size else None, "C": float(cfg.C),
            "clips_per_video": int(cfg.clips_per_video), "feature_dim": int(feats.shape[1]),
            "chance": 1.0 / len(data.class_names), "counts": {"recordings": len(everything)},
            "class_names": data.class_names},
        (["fold", "Video@1"], rows), plots,
        [(f"Accuracy (%) per recording: standardised {key} features of {cfg.clips_per_video} clips, linear SVM "
          f"(C={cfg.C}), decision values averaged over the clips. The confusion matrix pools every test fold.")])
