"""How nearest neighbours are searched: one small, validated value that configs map onto.

Exact search is the default everywhere. Approximate indices (IVF, HNSW) are an explicit opt-in
whose recall must be measured on the data at hand (tools/bench_knn.py prints it): on
unstructured vectors they reach only 0.3-0.4 recall@32, on clustered ones far more.
"""

from __future__ import annotations

from dataclasses import dataclass

BACKENDS = ("auto", "faiss", "torch")
INDEXES = ("flat", "ivf", "hnsw")


@dataclass
class SearchSpec:
    """Settings of `avssl.core.knn` and `avssl.core.cma_positives` (also the `search:` config schema).

    Attributes:
        backend: "faiss" (FAISS indices; FAISS heaps select the top-k of exact score blocks),
            "torch" (chunked matmul + topk, any device, no FAISS needed) or "auto" (FAISS when
            it imports, else torch).
        index: "flat" (exact), "ivf" or "hnsw" (approximate, FAISS only).
        ivf_nlist: IVF cells; None picks 4·sqrt(N) (FAISS guidance: 4-16·sqrt(N)).
        ivf_nprobe: IVF cells visited per query.
        hnsw_m: HNSW graph degree.
        hnsw_ef_construction: HNSW candidate list while building.
        hnsw_ef_search: HNSW candidate list while searching (>= k is enforced).
        candidate_factor: consensus / union with an approximate index: each modality's index
            returns candidate_factor·k neighbours, whose agreement scores are then computed
            exactly and the best k kept.
        block_bytes: memory for one block of exact scores (queries × database columns, float32):
            bounds peak memory whatever N is.
        device: where exact torch scoring runs: "auto" (CUDA when present), "cpu", "cuda", "cuda:1".
        use_gpu: put FAISS indices on every visible GPU (sharded) when FAISS has GPU support.
        seed: seed of IVF's k-means, so an approximate search is repeatable.
    """

    backend: str = "auto"
    index: str = "flat"
    ivf_nlist: int | None = None
    ivf_nprobe: int = 16
    hnsw_m: int = 32
    hnsw_ef_construction: int = 64
    hnsw_ef_search: int = 128
    candidate_factor: int = 4
    block_bytes: int = 256 << 20
    device: str = "auto"
    use_gpu: bool = True
    seed: int = 1234

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"search backend={self.backend!r}: choose one of {', '.join(BACKENDS)}")
        if self.index not in INDEXES:
            raise ValueError(f"search index={self.index!r}: choose one of {', '.join(INDEXES)}")
        if self.index != "flat" and self.backend == "torch":
            raise ValueError(f"search index={self.index!r} is a FAISS index: use backend=faiss or auto, or index=flat")
        for name in ("ivf_nprobe", "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "candidate_factor"):
            if getattr(self, name) < 1:
                raise ValueError(f"search {name}={getattr(self, name)} must be >= 1")
        if self.ivf_nlist is not None and self.ivf_nlist < 1:
            raise ValueError(f"search ivf_nlist={self.ivf_nlist} must be >= 1 (or None for 4·sqrt(N))")
        if self.block_bytes < 1 << 16:
            raise ValueError(f"search block_bytes={self.block_bytes} is too small (>= 65536)")

    @property
    def exact(self) -> bool:
        return self.index == "flat"
