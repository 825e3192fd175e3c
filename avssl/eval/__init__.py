"""Evaluation: retrieval, kNN, linear probe, fine-tuning, audio classification, reports.

Plots live in `avssl.eval.report_plots` and are not imported here, so metrics do not need
matplotlib.
"""

from avssl.eval.retrieval import retrieval_recall, top_k_neighbours

__all__ = ["retrieval_recall", "top_k_neighbours"]
