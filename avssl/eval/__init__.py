"""Evaluation: retrieval, kNN, linear probe, fine-tuning, audio classification, reports.

The protocol functions here take feature tensors only (any modality, any extractor). Plots live
in `avssl.eval.report_plots` and are not imported here, so metrics do not need matplotlib.
"""

from avssl.eval.audio_svm import svm_cross_validation, svm_decision_values, svm_video_accuracy
from avssl.eval.classification_metrics import (
    average_per_video,
    confusion_matrix,
    top1_accuracy,
    video_accuracy,
    video_scores,
)
from avssl.eval.knn_classifier import KNNResult, knn_classify
from avssl.eval.linear_classifier import ClassifierRecipe, LinearClassifier, linear_probe
from avssl.eval.retrieval import retrieval_recall, top_k_neighbours

__all__ = [
    "ClassifierRecipe",
    "KNNResult",
    "LinearClassifier",
    "average_per_video",
    "confusion_matrix",
    "knn_classify",
    "linear_probe",
    "retrieval_recall",
    "svm_cross_validation",
    "svm_decision_values",
    "svm_video_accuracy",
    "top1_accuracy",
    "top_k_neighbours",
    "video_accuracy",
    "video_scores",
]
