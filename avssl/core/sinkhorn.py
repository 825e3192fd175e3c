"""Sinkhorn-Knopp codes of SwAV (Caron et al., NeurIPS 2020, Sec. 3.1, Eq. 3-4; Cuturi, 2013).

Given the scores s_bk = z_b·c_k of B embeddings against K prototypes, SwAV's codes solve an
entropy-regularised transport problem: the soft assignment Q (K × B) closest to exp(s / ε) whose
prototypes each receive an equal share of the batch and whose samples each spread one unit,

    Q = Diag(u) · exp(sᵀ / ε) · Diag(v),   Q·1_B = 1_K / K,   Qᵀ·1_K = 1_B / B        (Eq. 4)

found by alternately rescaling rows and columns (a few iterations suffice; 3 in SwAV). The codes
returned are B·Qᵀ, one row per sample summing to one.

Distributed. B is the global batch: every rank holds its own rows (samples), so the prototype sums
(Q·1_B, a sum over samples) and the total mass are all-reduced, while the per-sample sums are local.
Two ranks thus produce exactly the codes one process computes over the concatenated batch.

Stability. exp(s / ε) overflows float32 once s / ε > 88 (s = 3 with ε = 0.03). Subtracting the
largest score of the global batch first changes nothing: a common factor cancels in the first
normalisation. (A per-sample shift would not: it changes the row sums of the first iteration.)
"""

from __future__ import annotations

import torch

from avssl.core.distributed import all_reduce_max, all_reduce_sum

__all__ = ["sinkhorn"]


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, eps: float = 0.05, iters: int = 3) -> torch.Tensor:
    """(B, K) prototype scores → (B, K) codes: non-negative, each row sums to 1, each prototype
    (column) receives an equal share of the global batch after the last iteration's row step.

    Args:
        scores: (B, K) scores of this rank's samples (e.g. queue rows then the batch); no gradient
            flows through the codes.
        eps: ε, the entropy regularisation (0.05 in SwAV, 0.03 in SEER); smaller is sharper.
        iters: rounds of (prototype normalisation, sample normalisation) (3 in SwAV, 10 in SEER).

    Computed in float32 at least (float64 stays float64).
    """
    if scores.dim() != 2:
        raise ValueError(f"sinkhorn expects scores of shape (B, K); got {tuple(scores.shape)}.")
    if not eps > 0:
        raise ValueError(f"sinkhorn: eps must be > 0; got {eps}.")
    if iters < 1:
        raise ValueError(f"sinkhorn: iters must be >= 1; got {iters}.")
    dtype = torch.promote_types(scores.dtype, torch.float32)
    s = scores.detach().to(dtype)
    num_prototypes = s.shape[1]
    local_max = s.max() if s.numel() else s.new_tensor(float("-inf"))
    q = torch.exp((s - all_reduce_max(local_max)) / eps)  # (B, K); the paper's Q is its transpose
    num_samples = all_reduce_sum(s.new_tensor(float(s.shape[0])))
    q /= all_reduce_sum(q.sum())
    for _ in range(iters):
        q /= all_reduce_sum(q.sum(dim=0, keepdim=True)) * num_prototypes  # each prototype: mass 1/K
        q /= q.sum(dim=1, keepdim=True) * num_samples  # each sample: mass 1/B
    return q / q.sum(dim=1, keepdim=True)
