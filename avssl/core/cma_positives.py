"""Cross-modal agreement (CMA) positives: for every instance, the k others whose memories agree
with it (Morgado, Vasconcelos & Misra, CVPR 2021, Sec. 4).

With video memories v and audio memories a (unit rows of the two memory banks), the agreement of
instances i and j is

    consensus: min(v_i·v_j, a_i·a_j)   near in both modalities (the paper's choice)
    union:     max(v_i·v_j, a_i·a_j)   near in either
    video:     v_i·v_j                 audio:  a_i·a_j

and the positive set of i is the k instances j ≠ i with the highest agreement.

Exact (default): blocks of both similarity matrices are computed, combined, and their top-k
selected (`exact_search`), self masked by index, ties broken by the smaller index; memory is
bounded by the block size, never N × N.

Approximate consensus / union (`SearchSpec(index="ivf" | "hnsw")`): FAISS has no "min (max) of two
inner products" metric, so an index proposes candidate_factor·k candidates per instance, which are
re-scored exactly, and the best k kept. Where candidates come from follows from the two bounds
min(x, y) ≤ (x + y)/2 ≤ max(x, y):
- consensus: one index over the joint rows [v_i, a_i]/√2, whose inner product is the *mean* of
  the two similarities. Every j with min ≥ t has mean ≥ t, so the consensus positives lie near the
  top of the mean ranking. (The union of per-modality lists, tried first, misses most of them:
  recall@32 0.14 on unstructured memories at N = 100k with 4k candidates each, against 0.98 for
  the mean list, measured with exact lists.)
- union: each modality's index returns its own list; the top k by max lie in the union of the two
  per-modality top-k lists exactly, so only the indices' own misses cost recall.
tools/bench_knn.py measures the recall against exact search.

The official code searches all N × N similarities by brute force on GPUs only, in worker
processes; this runs on any device, and `shared_cma_positives` splits the rows over DDP ranks.
"""

from __future__ import annotations

import torch

from avssl.core.distributed import gather_rows_with_offset, is_distributed
from avssl.core.exact_search import exact_top_k, resolve_device
from avssl.core.knn import check_search_inputs, knn, use_faiss
from avssl.core.search_spec import SearchSpec

__all__ = ["AGREEMENT_MODES", "cma_positives", "shared_cma_positives"]

AGREEMENT_MODES = ("consensus", "union", "video", "audio")


class AgreementScorer:
    """Blocks of min / max of the video and audio similarities (see module docstring)."""

    matrices = 2

    def __init__(self, video: torch.Tensor, audio: torch.Tensor, rows: tuple[int, int], mode: str,
                 device: torch.device) -> None:
        self.device = device
        self.video = video.to(device=device, dtype=torch.float32).contiguous()
        self.audio = audio.to(device=device, dtype=torch.float32).contiguous()
        self.first_query = rows[0]
        self.num_queries, self.num_database = rows[1] - rows[0], self.video.shape[0]
        self.combine = torch.minimum if mode == "consensus" else torch.maximum

    def block(self, q0: int, q1: int, c0: int, c1: int) -> torch.Tensor:
        q0, q1 = q0 + self.first_query, q1 + self.first_query
        scores = self.video[q0:q1] @ self.video[c0:c1].T
        return self.combine(scores, self.audio[q0:q1] @ self.audio[c0:c1].T, out=scores)


def cma_positives(
    video_mem: torch.Tensor,
    audio_mem: torch.Tensor,
    k: int,
    mode: str = "consensus",
    spec: SearchSpec | None = None,
    rows: tuple[int, int] | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """(R, k) int64 positive sets, each row sorted ascending, self excluded by index.

    Args:
        video_mem, audio_mem: (N, D) memories of the same N instances (row i = instance i).
        k: positives per instance (32 in AVID-CMA).
        mode: "consensus", "union", "video" or "audio" (module docstring).
        spec: search settings (default exact).
        rows: compute the positives of instances [start, stop) only (default all N).
        progress: show a progress bar.
    """
    if mode not in AGREEMENT_MODES:
        raise ValueError(f"cma_positives: mode={mode!r}; choose one of {', '.join(AGREEMENT_MODES)}")
    if video_mem.shape != audio_mem.shape:
        raise ValueError(f"cma_positives: video and audio memories must have the same shape (N, D); got "
                         f"{tuple(video_mem.shape)} and {tuple(audio_mem.shape)}")
    spec = spec or SearchSpec()
    start, stop = rows if rows is not None else (0, video_mem.shape[0])
    check_search_inputs(video_mem[start:stop], video_mem, k, True, start, name="cma_positives")
    if mode in ("video", "audio"):
        memory = video_mem if mode == "video" else audio_mem
        _, ids = knn(memory[start:stop], memory, k, exclude_self=True, spec=spec, query_offset=start,
                     progress=progress)
    elif spec.exact:
        scorer = AgreementScorer(video_mem, audio_mem, (start, stop), mode, resolve_device(spec))
        _, ids = exact_top_k(scorer, k, spec, exclude_self=True, query_offset=start,
                             use_faiss_heap=use_faiss(spec), progress=progress, desc=f"CMA {mode}")
    else:
        ids = _approximate_agreement(video_mem, audio_mem, k, mode, spec, start, stop, progress)
    return ids.sort(dim=1).values


def _approximate_agreement(video_mem: torch.Tensor, audio_mem: torch.Tensor, k: int, mode: str,
                           spec: SearchSpec, start: int, stop: int, progress: bool) -> torch.Tensor:
    """Candidates from approximate indices, re-scored exactly (module docstring)."""
    width = min(spec.candidate_factor * k, video_mem.shape[0] - 1)
    if mode == "consensus":
        joint = torch.cat([video_mem.float(), audio_mem.float()], dim=1) / 2 ** 0.5
        candidates = knn(joint[start:stop], joint, width, exclude_self=True, spec=spec, query_offset=start,
                         progress=progress)[1]
    else:
        candidates = torch.cat([
            knn(memory[start:stop], memory, width, exclude_self=True, spec=spec, query_offset=start,
                progress=progress)[1]
            for memory in (video_mem, audio_mem)
        ], dim=1)
    candidates, _ = candidates.sort(dim=1)
    repeated = torch.zeros_like(candidates, dtype=torch.bool)
    repeated[:, 1:] = candidates[:, 1:] == candidates[:, :-1]
    invalid = repeated | (candidates < 0)
    safe = candidates.clamp(min=0)
    combine = torch.minimum if mode == "consensus" else torch.maximum
    video, audio = video_mem.float().cpu(), audio_mem.float().cpu()
    scores = torch.empty(candidates.shape)
    for r0 in range(0, stop - start, 1024):  # (rows, width, D) gathers in bounded memory
        r1 = min(r0 + 1024, stop - start)
        own = slice(start + r0, start + r1)
        ids = safe[r0:r1]
        v = torch.einsum("rd,rcd->rc", video[own], video[ids])
        a = torch.einsum("rd,rcd->rc", audio[own], audio[ids])
        scores[r0:r1] = combine(v, a)
    scores = scores.masked_fill(invalid, float("-inf"))
    order = torch.argsort(scores, dim=1, descending=True, stable=True)[:, :k]  # ids ascending on ties
    return candidates.gather(1, order)


@torch.no_grad()
def shared_cma_positives(video_mem: torch.Tensor, audio_mem: torch.Tensor, k: int, mode: str = "consensus",
                         spec: SearchSpec | None = None, progress: bool = False) -> torch.Tensor:
    """`cma_positives` for all N instances, the rows split over the DDP ranks and all-gathered.

    Every rank holds identical memory banks (see MemoryBank), computes its contiguous share of
    rows, and receives everyone's: all ranks end with the same (N, k) tensor, bit for bit. Without
    a process group this is `cma_positives` on one process.
    """
    n = video_mem.shape[0]
    if not is_distributed():
        return cma_positives(video_mem, audio_mem, k, mode, spec, progress=progress)
    import torch.distributed as dist

    world, rank = dist.get_world_size(), dist.get_rank()
    bounds = [n * r // world for r in range(world + 1)]
    mine = cma_positives(video_mem, audio_mem, k, mode, spec, rows=(bounds[rank], bounds[rank + 1]),
                         progress=progress and rank == 0)
    gathered, _ = gather_rows_with_offset(mine.to(video_mem.device))
    return gathered.cpu()
