"""Negatives for instance discrimination: K indices per sample, drawn uniformly with
replacement from every instance but the sample's own (AVID: K = 1024).

The complement is sampled without rejection: draw from {0, …, N−2} and shift every draw
that is >= the sample's own index up by one, which maps {0, …, N−2} one-to-one onto
{0, …, N−1} \\ {index} and so keeps the draws uniform.
"""

from __future__ import annotations

from typing import Protocol

import torch

__all__ = ["GlobalBatchNegativeSampler", "NegativeSampler", "UniformNegativeSampler", "sample_negatives"]


def sample_negatives(
    index: torch.Tensor, size: int, k: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(B, k) int64 negatives on `index`'s device, uniform over {0..size−1} \\ {index[b]}.

    Args:
        index: (B,) instance index of each sample.
        size: number of instances N (>= 2).
        k: negatives per sample.
        generator: optional torch.Generator; draws happen on its device and are then moved
            to `index`'s device (so a CPU generator works for CUDA indices).
    """
    if index.dim() != 1:
        raise ValueError(f"sample_negatives expects index of shape (B,); got {tuple(index.shape)}.")
    if size < 2:
        raise ValueError(f"sample_negatives needs at least 2 instances to exclude one; got size={size}.")
    if k < 0:
        raise ValueError(f"sample_negatives: k must be >= 0; got {k}.")
    draw_device = generator.device if generator is not None else index.device
    draws = torch.randint(0, size - 1, (index.shape[0], k), generator=generator, device=draw_device)
    draws = draws.to(index.device)
    return draws + (draws >= index.to(torch.int64).unsqueeze(1)).to(torch.int64)


class NegativeSampler(Protocol):
    """Anything that maps (B,) instance indices to (B, K) negative indices.

    Methods take a sampler rather than calling `sample_negatives` themselves, so a test can
    inject fixed negatives and CMA can exclude a whole positive set.
    """

    def __call__(self, index: torch.Tensor) -> torch.Tensor: ...


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

    def __call__(self, index: torch.Tensor) -> torch.Tensor:
        return sample_negatives(index, self.size, self.k, self.generator)

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

    def __call__(self, index: torch.Tensor) -> torch.Tensor:
        from avssl.core.distributed import gather_rows_with_offset

        global_index, offset = gather_rows_with_offset(index)
        negatives = sample_negatives(global_index.cpu(), self.size, self.k, self.generator)
        return negatives[offset : offset + index.shape[0]].to(index.device)

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
