"""`avssl.core.knn`: k nearest neighbours by inner product (cosine on unit vectors), exact by default.

Exact search computes score blocks with a matmul and selects with FAISS heaps (CPU) or
`torch.topk` (GPU, or without FAISS): memory stays bounded by `SearchSpec.block_bytes` at any N,
ties are broken by the smaller database index, and a query's own row is excluded by index.
Approximate search (`SearchSpec(index="ivf" | "hnsw")`) goes through a FAISS index, on the GPUs
when FAISS has them.
"""

from __future__ import annotations

import torch

from avssl.core.exact_search import InnerProductScorer, exact_top_k, resolve_device
from avssl.core.faiss_index import build_faiss_index, faiss_search
from avssl.core.search_spec import SearchSpec
from avssl.core.top_k_selection import faiss_available

__all__ = ["knn", "use_faiss"]


def use_faiss(spec: SearchSpec) -> bool:
    """Whether `spec` runs on FAISS here ("auto": when it imports)."""
    if spec.backend == "faiss" and not faiss_available():
        raise ImportError("search backend 'faiss' needs the faiss package: pip install faiss-cpu")
    return spec.backend == "faiss" or (spec.backend == "auto" and faiss_available())


def check_search_inputs(queries: torch.Tensor, database: torch.Tensor, k: int, exclude_self: bool,
                        query_offset: int, name: str = "knn") -> None:
    if queries.dim() != 2 or database.dim() != 2 or queries.shape[1] != database.shape[1]:
        raise ValueError(f"{name}: queries (Q, D) and database (N, D) must be 2-D with the same D; got "
                         f"{tuple(queries.shape)} and {tuple(database.shape)}")
    available = database.shape[0] - (1 if exclude_self else 0)
    if not 1 <= k <= available:
        raise ValueError(f"{name}: k={k} must lie in [1, {available}] (database of {database.shape[0]} rows"
                         f"{', minus each query itself' if exclude_self else ''})")
    if exclude_self and not (0 <= query_offset and query_offset + queries.shape[0] <= database.shape[0]):
        raise ValueError(f"{name}: exclude_self needs query i to be database row query_offset + i; rows "
                         f"{query_offset}..{query_offset + queries.shape[0] - 1} are not all in the database")


def knn(
    queries: torch.Tensor,
    database: torch.Tensor,
    k: int,
    exclude_self: bool = False,
    spec: SearchSpec | None = None,
    query_offset: int = 0,
    progress: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The k database rows with the largest inner product with each query.

    Args:
        queries: (Q, D) float tensor.
        database: (N, D) float tensor.
        k: neighbours per query.
        exclude_self: query i is database row `query_offset + i` and is never returned for itself
            (by index: an exact duplicate elsewhere in the database is still a neighbour).
        spec: how to search (default: exact).
        query_offset: see exclude_self; lets a caller search a slice of the rows (e.g. one rank's share).
        progress: show a progress bar.

    Returns:
        (scores float32 (Q, k), indices int64 (Q, k)) on the CPU, best first; exact search breaks
        ties by the smaller index.
    """
    spec = spec or SearchSpec()
    check_search_inputs(queries, database, k, exclude_self, query_offset)
    faiss_on = use_faiss(spec)
    if spec.exact:
        scorer = InnerProductScorer(queries, database, resolve_device(spec))
        return exact_top_k(scorer, k, spec, exclude_self, query_offset, use_faiss_heap=faiss_on,
                           progress=progress, desc="knn")
    index = build_faiss_index(database, spec)
    extra = 1 if exclude_self else 0
    scores, ids = faiss_search(index, queries, k + extra, spec)
    if exclude_self:
        scores, ids = drop_own_rows(scores, ids, query_offset, k)
    return scores, ids


def drop_own_rows(scores: torch.Tensor, ids: torch.Tensor, query_offset: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Remove query i's own row (id query_offset + i) from its results, keeping the order; first k."""
    own = torch.arange(ids.shape[0]).unsqueeze(1) + query_offset
    is_own = ids == own
    order = torch.argsort(is_own.to(torch.int8), dim=1, stable=True)  # own rows move to the end
    return scores.gather(1, order)[:, :k], ids.gather(1, order)[:, :k]
