"""The plots every classification protocol adds to its report: the confusion matrix of its
predictions and a 2-D map of the features it classified, coloured by class."""

from __future__ import annotations

import numpy as np
import torch

from avssl.eval.classification_metrics import confusion_matrix
from avssl.eval.feature_map import project_2d
from avssl.eval.report_plots import plot_confusion_matrix, plot_feature_map


def feature_map_plot(ctx, features: torch.Tensor, codes, class_names: list[str], title: str,
                     name: str = "feature_map.png") -> str:
    report = ctx.eval.report
    points, rows = project_2d(features, report.feature_map, report.max_points, int(ctx.eval.seed))
    plot_feature_map(points, np.asarray(codes)[rows], class_names, ctx.out / name,
                     title=f"{title} ({report.feature_map.upper()}, {len(rows)} videos)")
    return name


def class_plots(ctx, predictions, codes, class_names: list[str], features: torch.Tensor, title: str) -> list[str]:
    """confusion_matrix.png and feature_map.png in the report folder; returns their names."""
    matrix = confusion_matrix(torch.as_tensor(predictions), torch.as_tensor(codes), len(class_names))
    plot_confusion_matrix(matrix, class_names, ctx.out / "confusion_matrix.png", title=f"{title}: confusion matrix")
    return ["confusion_matrix.png", feature_map_plot(ctx, features, codes, class_names, title)]
