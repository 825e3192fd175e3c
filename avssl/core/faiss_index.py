"""FAISS indices for inner-product search: exact flat, IVF and HNSW, on the GPUs when FAISS has them.

IVF trains k-means on a seeded sample of the database (at most 64 points per cell: FAISS wants at
least 39), so an approximate search is repeatable. With several GPUs the index is sharded over
all of them (each holds N / G rows). HNSW has no GPU implementation and stays on the CPU.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from avssl.core.search_spec import SearchSpec
from avssl.core.top_k_selection import faiss

__all__ = ["build_faiss_index", "faiss_search", "gpu_count"]


def gpu_count() -> int:
    return faiss.get_num_gpus() if faiss is not None and hasattr(faiss, "get_num_gpus") else 0


def _as_float32_numpy(x: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().to("cpu", torch.float32).numpy())


def build_faiss_index(database: torch.Tensor, spec: SearchSpec):
    """An inner-product FAISS index over the rows of `database` (N, D), built as `spec` says."""
    if faiss is None:
        raise ImportError("search backend 'faiss' needs the faiss package: pip install faiss-cpu (or faiss-gpu-cu12)")
    x = _as_float32_numpy(database)
    n, dim = x.shape
    if spec.index == "flat":
        index = faiss.IndexFlatIP(dim)
    elif spec.index == "ivf":
        nlist = spec.ivf_nlist or max(1, round(4 * math.sqrt(n)))
        nlist = min(nlist, max(1, n // 39))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = spec.seed
        sample = np.random.default_rng(spec.seed).choice(n, size=min(n, 64 * nlist), replace=False)
        index.train(x[np.sort(sample)])
        index.nprobe = min(spec.ivf_nprobe, nlist)
    else:
        index = faiss.IndexHNSWFlat(dim, spec.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = spec.hnsw_ef_construction
    if spec.use_gpu and gpu_count() > 0 and spec.index != "hnsw":
        options = faiss.GpuMultipleClonerOptions()
        options.shard = True
        index = faiss.index_cpu_to_all_gpus(index, co=options)
    index.add(x)
    return index


def faiss_search(index, queries: torch.Tensor, k: int, spec: SearchSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, ids) of the k best rows per query; missing results are −inf / −1."""
    if spec.index == "hnsw":
        index.hnsw.efSearch = max(spec.hnsw_ef_search, k)
    scores, ids = index.search(_as_float32_numpy(queries), k)
    scores = torch.from_numpy(scores)
    ids = torch.from_numpy(ids)
    return scores.masked_fill(ids < 0, float("-inf")), ids
