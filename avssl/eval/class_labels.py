"""Labels of several sets (train / test, queries / database) as int64 codes over one vocabulary.

Protocols compare labels across sets whose own class lists may differ (a test split can miss a
class; manifests list only the classes they hold), so labels are carried as names or integers and
coded together: code i is the i-th of the sorted distinct values of all sets.
"""

from __future__ import annotations

import numpy as np
import torch


def as_label_array(labels, name: str, length: int | None = None) -> np.ndarray:
    """A 1-D numpy array of labels (ints or strings) from a tensor, array or sequence."""
    array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.ndim != 1 or (length is not None and array.shape[0] != length):
        want = f"({length},)" if length is not None else "1-D"
        raise ValueError(f"{name} must have shape {want}, got {array.shape}")
    return array


def encode_labels(*label_sets) -> tuple[list[torch.Tensor], list]:
    """([codes of each set as int64 tensors], class values sorted), one shared vocabulary."""
    arrays = [as_label_array(labels, f"label set {i}") for i, labels in enumerate(label_sets)]
    classes, codes = np.unique(np.concatenate(arrays), return_inverse=True)
    codes = torch.from_numpy(codes.astype(np.int64).reshape(-1))
    out, start = [], 0
    for array in arrays:
        out.append(codes[start : start + len(array)])
        start += len(array)
    return out, classes.tolist()
