"""Negatives for instance discrimination: K indices per sample, drawn uniformly with
replacement from every instance but the sample's own (AVID: K = 1024).

The complement is sampled without rejection. With E excluded indices (the sample's own, and for
CMA its positive set), sorted as e_0 < e_1 < … < e_{E−1}, draw r uniformly from {0, …, N−E−1} and
return the r-th (0-based) index that is not excluded:

    x = r + #{j : e_j − j <= r}

(e_j − j counts the allowed indices below e_j). The map r → x is one-to-one from {0, …, N−E−1}
onto {0, …, N−1} minus the excluded set, so the draws stay uniform over the complement. With only
the own index excluded this is "shift every draw >= index up by one".
"""

from __future__ import annotations

from typing import Protocol

import torch

__all__ = ["GlobalBatchNegativeSampler", "NegativeSampler", "UniformNegativeSampler", "sample_negatives"]


def sample_negatives(
    index: torch.Tensor,
    size: int,
    k: int,
    generator: torch.Generator | None = None,
    exclude: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, k) int64 negatives on `index`'s device, uniform over {0..size−1} minus {index[b]} and exclude[b].

    Args:
        index: (B,) instance index of each sample.
        size: number of instances N.
        k: negatives per sample.
        generator: optional torch.Generator; draws happen on its device and are then moved
            to `index`'s device (so a CPU generator works for CUDA indices).
        exclude: optional (B, P) further indices to exclude per sample (CMA: the positive set),
            distinct within a row and never the sample's own index.
    """
    if index.dim() != 1:
        raise ValueError(f"sample_negatives expects index of shape (B,); got {tuple(index.shape)}.")
    if k < 0:
        raise ValueError(f"sample_negatives: k must be >= 0; got {k}.")
    excluded = exclusion_table(index, exclude)
    draws = draw_ranks(index.shape[0], size, excluded.shape[1], k, generator, index.device)
    return map_ranks_to_complement(draws, excluded)


def exclusion_table(index: torch.Tensor, exclude: torch.Tensor | None) -> torch.Tensor:
    """(B, E) sorted excluded indices per sample: its own index, plus `exclude` rows if given."""
    own = index.to(torch.int64).unsqueeze(1)
    if exclude is None:
        return own
    if exclude.dim() != 2 or exclude.shape[0] != index.shape[0]:
        raise ValueError(f"sample_negatives: exclude must be (B, P) with B={index.shape[0]}; got {tuple(exclude.shape)}")
    return torch.cat([own, exclude.to(device=index.device, dtype=torch.int64)], dim=1).sort(dim=1).values


def draw_ranks(rows: int, size: int, excluded: int, k: int, generator: torch.Generator | None,
               device: torch.device) -> torch.Tensor:
    """(rows, k) uniform ranks in the complement of `excluded` indices out of `size`."""
    if size - excluded < 1:
        raise ValueError(
            f"sample_negatives: no negatives left: {size} instances, {excluded} excluded per sample "
            f"(the instance itself and its positives); use fewer positives or more data.")
    draw_device = generator.device if generator is not None else device
    return torch.randint(0, size - excluded, (rows, k), generator=generator, device=draw_device).to(device)


def map_ranks_to_complement(ranks: torch.Tensor, excluded: torch.Tensor) -> torch.Tensor:
    """The ranks[b, j]-th index not in excluded[b] (excluded sorted ascending; module docstring)."""
    excluded = excluded.to(ranks.device)
    allowed_below = excluded - torch.arange(excluded.shape[1], device=ranks.device)
    return ranks + torch.searchsorted(allowed_below.contiguous(), ranks.contiguous(), right=True)


class NegativeSampler(Protocol):
    """Anything that maps (B,) instance indices to (B, K) negative indices.

    Methods take a sampler rather than calling `sample_negatives` themselves, so a test can
    inject fixed negatives. `exclude` (B, P) lists further indices to avoid (CMA: positive sets).
    """

    def __call__(self, index: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor: ...


class UniformNegativeSampler:
    """`sample_negatives` with its size, K and generator bound.

    Args:
        size: number of instances N.
        k: negatives per sample.
        generator: optional torch.Generator; None uses torch's global RNG, which training
            seeds and checkpoints.
    """

    def __init__(self, size: int, k: int, generator: torch.Generator | None = None) -> None:
        if size < 2:
            raise ValueError(f"UniformNegativeSampler needs at least 2 instances; got size={size}.")
        if k < 0:
            raise ValueError(f"UniformNegativeSampler: k must be >= 0; got {k}.")
        self.size = int(size)
        self.k = int(k)
        self.generator = generator

    def __call__(self, index: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
        return sample_negatives(index, self.size, self.k, self.generator, exclude)

    def __repr__(self) -> str:
        return f"UniformNegativeSampler(size={self.size}, k={self.k})"


class GlobalBatchNegativeSampler:
    """Uniform negatives drawn for the whole global batch, of which each rank keeps its rows.

    Every rank holds the generator in the same state and draws the same (global B, K) tensor, so
    the negatives of an instance do not depend on how the global batch is split over ranks: a
    2-process run draws exactly what one process over the same global batch draws. The
    generator's state goes into checkpoints (`state_dict`), so a resumed run draws what the
    uninterrupted one would have. Draws happen on the CPU (B·K integers: ~2 ms for 256×1024).
    """

    def __init__(self, size: int, k: int, seed: int = 0) -> None:
        if size < 2:
            raise ValueError(f"GlobalBatchNegativeSampler needs at least 2 instances; got size={size}.")
        self.size = int(size)
        self.k = int(k)
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, index: torch.Tensor, exclude: torch.Tensor | None = None) -> torch.Tensor:
        from avssl.core.distributed import gather_rows_with_offset

        # Only the global batch size and this rank's offset matter: ranks are drawn for every row
        # of the global batch (identically on every rank), then mapped through local exclusions.
        global_index, offset = gather_rows_with_offset(index)
        excluded = exclusion_table(index, exclude)
        ranks = draw_ranks(global_index.shape[0], self.size, excluded.shape[1], self.k, self.generator,
                           torch.device("cpu"))
        return map_ranks_to_complement(ranks[offset : offset + index.shape[0]].to(index.device), excluded)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"generator": self.generator.get_state()}

    def __getstate__(self) -> dict:
        # A torch.Generator pickles its state through shared memory, which fails when DDP spawns
        # workers ("unable to resize file"); plain bytes travel everywhere.
        return {"size": self.size, "k": self.k, "state": bytes(self.generator.get_state().numpy())}

    def __setstate__(self, state: dict) -> None:
        self.size, self.k = state["size"], state["k"]
        self.generator = torch.Generator()
        self.generator.set_state(torch.frombuffer(bytearray(state["state"]), dtype=torch.uint8))

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["generator"])

    def __repr__(self) -> str:
        return f"GlobalBatchNegativeSampler(size={self.size}, k={self.k})"
