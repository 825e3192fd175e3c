"""Evaluation: retrieval, kNN, linear probe, fine-tuning, audio classification, reports.

The protocol functions exported here take feature tensors only (any modality, any extractor).
They are imported on first use (PEP 562), so that `avssl.config`, which needs the `eval:` schema,
does not pull in scikit-learn or FAISS. Plots live in `avssl.eval.report_plots`.
"""

from importlib import import_module

_EXPORTS = {
    "svm_cross_validation": "audio_svm", "svm_decision_values": "audio_svm", "svm_video_accuracy": "audio_svm",
    "average_per_video": "classification_metrics", "confusion_matrix": "classification_metrics",
    "top1_accuracy": "classification_metrics", "video_accuracy": "classification_metrics",
    "video_scores": "classification_metrics",
    "KNNResult": "knn_classifier", "knn_classify": "knn_classifier",
    "ClassifierRecipe": "linear_classifier", "LinearClassifier": "linear_classifier",
    "linear_probe": "linear_classifier",
    "retrieval_recall": "retrieval", "top_k_neighbours": "retrieval",
}

__all__ = [
    "ClassifierRecipe", "KNNResult", "LinearClassifier", "average_per_video", "confusion_matrix", "knn_classify",
    "linear_probe", "retrieval_recall", "svm_cross_validation", "svm_decision_values", "svm_video_accuracy",
    "top1_accuracy", "top_k_neighbours", "video_accuracy", "video_scores",
]
assert sorted(__all__) == sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'avssl.eval' has no attribute {name!r}")
    value = getattr(import_module(f"avssl.eval.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
