"""Exact top-k search over any score that is computed block by block (inner products, or the
agreement of two modalities for CMA), in bounded memory.

A `BlockScorer` says how to score a block of queries against a block of database rows; the
search walks query blocks × database blocks, keeps each query's k+1 best (`StreamingTopK`), masks
each query's own row when asked (by index, never by rank position), and resolves ties at the k-th
place from the full row (`finish_top_k`). The block sizes follow from `SearchSpec.block_bytes`.
"""

from __future__ import annotations

from typing import Protocol

import torch
from tqdm.auto import tqdm

from avssl.core.search_spec import SearchSpec
from avssl.core.top_k_selection import StreamingTopK, finish_top_k

__all__ = ["BlockScorer", "InnerProductScorer", "exact_top_k", "resolve_device"]


class BlockScorer(Protocol):
    """Scores of query rows [q0, q1) against database rows [c0, c1) as a (q1−q0, c1−c0) float32 tensor."""

    num_queries: int
    num_database: int
    matrices: int  # score matrices alive at once per block (memory accounting)
    device: torch.device

    def block(self, q0: int, q1: int, c0: int, c1: int) -> torch.Tensor: ...


class InnerProductScorer:
    """queries · databaseᵀ (cosine similarity for unit vectors)."""

    matrices = 1

    def __init__(self, queries: torch.Tensor, database: torch.Tensor, device: torch.device) -> None:
        self.device = device
        self.queries = queries.to(device=device, dtype=torch.float32).contiguous()
        self.database = database.to(device=device, dtype=torch.float32).contiguous()
        self.num_queries, self.num_database = self.queries.shape[0], self.database.shape[0]

    def block(self, q0: int, q1: int, c0: int, c1: int) -> torch.Tensor:
        return self.queries[q0:q1] @ self.database[c0:c1].T


def resolve_device(spec: SearchSpec) -> torch.device:
    if spec.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(spec.device)


def _block_shape(scorer: BlockScorer, width: int, spec: SearchSpec) -> tuple[int, int]:
    """(query rows, database rows) per block so that the scorer's matrices fit in block_bytes."""
    elements = max(1, spec.block_bytes // (4 * scorer.matrices))
    columns = min(scorer.num_database, max(width, elements // 1024))
    rows = max(1, min(scorer.num_queries, elements // columns))
    return rows, columns


def exact_top_k(
    scorer: BlockScorer,
    k: int,
    spec: SearchSpec,
    exclude_self: bool = False,
    query_offset: int = 0,
    use_faiss_heap: bool = True,
    progress: bool = False,
    desc: str = "exact search",
) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, indices), each (Q, k) on the CPU: the k best database rows per query by score
    descending, ties by index ascending. With `exclude_self`, query i is database row
    `query_offset + i` and never its own neighbour."""
    rows_per_block, columns_per_block = _block_shape(scorer, k + 1, spec)
    out_scores = torch.empty(scorer.num_queries, k)
    out_ids = torch.empty(scorer.num_queries, k, dtype=torch.int64)
    starts = range(0, scorer.num_queries, rows_per_block)
    for q0 in tqdm(starts, desc=desc, unit="block", disable=not progress, leave=False):
        q1 = min(q0 + rows_per_block, scorer.num_queries)
        selection = StreamingTopK(q1 - q0, k + 1, scorer.device, use_faiss_heap)
        for c0 in range(0, scorer.num_database, columns_per_block):
            c1 = min(c0 + columns_per_block, scorer.num_database)
            scores = scorer.block(q0, q1, c0, c1)
            if exclude_self:
                _mask_own_rows(scores, query_offset + q0, c0)
            selection.add(scores, c0)
        values, ids = selection.result()

        def full_rows(local: torch.Tensor, q0: int = q0) -> torch.Tensor:
            rows = []
            for i in local.tolist():
                row = scorer.block(q0 + i, q0 + i + 1, 0, scorer.num_database)
                if exclude_self:
                    _mask_own_rows(row, query_offset + q0 + i, 0)
                rows.append(row.cpu())
            return torch.cat(rows)

        values, ids = finish_top_k(values.cpu(), ids.cpu(), k, full_rows)
        out_scores[q0:q1], out_ids[q0:q1] = values, ids
    return out_scores, out_ids


def _mask_own_rows(scores: torch.Tensor, first_query: int, first_column: int) -> None:
    """Set score[i, j] = −inf where query first_query+i is database row first_column+j."""
    rows = torch.arange(scores.shape[0], device=scores.device)
    columns = rows + (first_query - first_column)
    inside = (columns >= 0) & (columns < scores.shape[1])
    scores[rows[inside], columns[inside]] = float("-inf")
