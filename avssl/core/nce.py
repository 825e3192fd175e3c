"""Noise-contrastive estimation (NCE) loss of AVID (Morgado et al., CVPR 2021, Sec. 3 and
Wu et al., CVPR 2018, Eq. 5-6), and the policy that fixes its partition function Z.

The AVID objective scores an embedding e against memory-bank entries m with s = e·m / τ.
One positive (or a set of P positives, as in CMA) competes with K negatives drawn uniformly
from the memory bank (noise distribution P_n = 1/N). NCE asks a binary classifier to tell
data from noise, with

    p(D=1 | s) = exp(s) / (exp(s) + K·Z)          (Z: the partition function, estimated once)
    loss       = −mean_p log p(D=1 | s_pos) − Σ_k log(1 − p(D=1 | s_neg,k)).

Writing c = log(K·Z):  p(D=1 | s) = σ(s − c), 1 − p(D=1 | s) = σ(c − s) and −log σ(x) =
softplus(−x), so

    loss = mean_p softplus(c − s_pos) + Σ_k softplus(s_neg,k − c),

which is the same number without ever forming exp(s): no overflow in low precision, and
no log(1 − p) cancellation when p is close to one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from avssl.core.distributed import all_reduce_sum

__all__ = ["PartitionFunction", "nce_loss"]


def nce_loss(pos_scores: torch.Tensor, neg_scores: torch.Tensor, log_z: float | torch.Tensor) -> torch.Tensor:
    """NCE loss of AVID, averaged over the batch.

    Args:
        pos_scores: (B, P) scores of the positives, already divided by the temperature.
        neg_scores: (B, K) scores of the negatives, already divided by the temperature;
            K, the number of noise samples, is read from this shape.
        log_z: log of the partition function Z (a Python float or a 0-dim tensor, no gradient
            needed), e.g. from `PartitionFunction`.

    Returns:
        A scalar: mean over the batch of
        mean_p softplus(c − s_pos) + Σ_k softplus(s_neg − c), with c = log K + log Z.
        See the module docstring for why this equals the product form of the original code.
    """
    if pos_scores.dim() != 2 or neg_scores.dim() != 2:
        raise ValueError(
            f"nce_loss expects pos_scores (B, P) and neg_scores (B, K); got {tuple(pos_scores.shape)} "
            f"and {tuple(neg_scores.shape)}. Add a trailing dimension for a single positive: s.unsqueeze(1)."
        )
    if pos_scores.shape[0] != neg_scores.shape[0]:
        raise ValueError(
            f"nce_loss: batch sizes differ, pos_scores has {pos_scores.shape[0]} rows and neg_scores "
            f"{neg_scores.shape[0]}."
        )
    num_negatives = neg_scores.shape[1]
    if num_negatives < 1 or pos_scores.shape[1] < 1:
        raise ValueError("nce_loss needs at least one positive and one negative per sample.")
    c = math.log(num_negatives) + log_z
    pos_term = F.softplus(c - pos_scores).mean(dim=1)
    neg_term = F.softplus(neg_scores - c).sum(dim=1)
    return (pos_term + neg_term).mean()


class PartitionFunction(nn.Module):
    """The NCE partition function Z, an explicit and checkpointed policy.

    Modes:
        "first_batch": Z = mean exp(s_neg) over the negatives of the first batch seen, then
            frozen (AVID's choice). Under DDP the sum of exp(s_neg) and the number of scores are
            all-reduced, so every rank freezes the same Z, equal to the estimate over the global
            batch (also when ranks hold different batch sizes).
        "fixed": Z = `value`, given by the user.

    Restoring: Z and whether it is frozen are buffers, so `load_state_dict` restores them
    (e.g. CMA starting from an AVID checkpoint), whatever the mode was at construction.

    Calling the module with the negatives' scores returns log Z as a 0-dim float64 tensor
    (estimating it first if needed), ready for `nce_loss`.
    """

    MODES = ("first_batch", "fixed")

    def __init__(self, mode: str = "first_batch", value: float | None = None) -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"PartitionFunction mode must be one of {self.MODES}; got {mode!r}.")
        if mode == "fixed":
            if value is None or not value > 0 or not math.isfinite(value):
                raise ValueError(f"PartitionFunction(mode='fixed') needs a finite value > 0; got {value!r}.")
        elif value is not None:
            raise ValueError("PartitionFunction: `value` is only used with mode='fixed'.")
        self.mode = mode
        self.register_buffer(
            "z", torch.tensor(float(value) if value is not None else float("nan"), dtype=torch.float64)
        )
        self.register_buffer("frozen", torch.tensor(mode == "fixed"))

    @property
    def is_frozen(self) -> bool:
        return bool(self.frozen)

    @property
    def log_z(self) -> torch.Tensor:
        if not self.is_frozen:
            raise RuntimeError(
                "PartitionFunction: Z is not set yet; call the module with a batch of negative scores "
                "first, or restore it from a checkpoint."
            )
        return self.z.log()

    @torch.no_grad()
    def forward(self, neg_scores: torch.Tensor) -> torch.Tensor:
        """Return log Z; on the first call in "first_batch" mode, estimate and freeze Z."""
        if not self.is_frozen:
            scores = neg_scores.detach().to(torch.float64)
            stats = torch.stack(
                [
                    scores.exp().sum(),
                    torch.tensor(float(scores.numel()), dtype=torch.float64, device=scores.device),
                ]
            )
            total, count = all_reduce_sum(stats).to(self.z.device).unbind()
            if count == 0:
                raise ValueError("PartitionFunction: cannot estimate Z from an empty batch of negatives.")
            self.z.copy_(total / count)
            self.frozen.fill_(True)
        return self.log_z

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, z={float(self.z):.6g}, frozen={self.is_frozen}"
