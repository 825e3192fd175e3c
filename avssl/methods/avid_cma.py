"""AVID+CMA: audio-visual instance discrimination with cross-modal agreement
(Morgado, Vasconcelos & Misra, CVPR 2021, Sec. 4).

AVID treats every other video as a negative, even one that looks and sounds the same. CMA widens
the positives: instances whose memories agree with instance i in both modalities (consensus; or
union / video / audio, `avssl.core.cma_positives`) form i's positive set P_i (k = 32), found
over the memory banks of a trained AVID model and recomputed every `resample_every` epochs.

Four NCE terms, each in both directions (v→·, a→·), averaged over the two directions:

    cross-modal instance      video emb vs the instance's own audio memory (and a vs v), K negatives
    within-modal instance     video emb vs the instance's own video memory (and a vs a), first n_w
    cross-modal positive-set  video emb vs the audio memories of P_i (and a vs v), K negatives
    within-modal positive-set video emb vs the video memories of P_i (and a vs a), first n_w

Negatives are K = 1024 draws, uniform with replacement over the complement of P_i ∪ {i}; the
within-modal terms use the first n_w = 64 of them. The total loss is Σ_g w_g / Σ w · term_g with
release weights cross-instance : within-positive = 1 : 1 (the paper-era runs used 1 : 3).

Differences from the official release, on purpose: the within-modal instance terms work (there
they are written under the cross-modal keys and silently do nothing), and an instance is never its
own negative (there negatives avoid P_i but not i itself).

Partition function: as released, one Z, restored from the AVID checkpoint, serves every term
(`partition_per_term=False`). Within-modal similarities are distributed unlike cross-modal ones (on
the demo's AVID banks the mean within-modal cosine is 0.50 video / 0.75 audio against −0.05 across),
so with the shared Z every within-modal negative scores above c = log(K·Z) and those terms dwarf the
rest. `partition_per_term=True` gives each term its own Z, estimated on that term's negatives at its
first step (then frozen and checkpointed, like AVID's).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from avssl.core.cma_positives import AGREEMENT_MODES, shared_cma_positives
from avssl.core.nce import PartitionFunction
from avssl.core.negative_sampling import NegativeSampler
from avssl.core.search_spec import SearchSpec
from avssl.methods.av_memory_method import AVMemoryMethod, Term

__all__ = ["AVIDCMA", "CMAWeights"]


@dataclass
class CMAWeights:
    """Weights of the four term groups (normalised by their sum). Release: 1, 0, 0, 1; paper-era
    runs: 1, 0, 0, 3. Also the `method.cma.weights` config schema."""

    cross_instance: float = 1.0
    within_instance: float = 0.0
    cross_positive: float = 0.0
    within_positive: float = 1.0


# group -> (positives, within-modal?, ((term name, embedding modality, memory modality), ...))
GROUPS = {
    "cross_instance": ("self", False, (("inst_v2a", "video", "audio"), ("inst_a2v", "audio", "video"))),
    "within_instance": ("self", True, (("inst_v2v", "video", "video"), ("inst_a2a", "audio", "audio"))),
    "cross_positive": ("set", False, (("pos_v2a", "video", "audio"), ("pos_a2v", "audio", "video"))),
    "within_positive": ("set", True, (("pos_v2v", "video", "video"), ("pos_a2a", "audio", "audio"))),
}


class AVIDCMA(AVMemoryMethod):
    """AVID with cross-modal-agreement positive sets (module docstring).

    Args:
        encoders, heads, num_instances, embed_dim, temperature, momentum, partition, seed: as in AVID.
        weights: the four group weights (default: the release's).
        num_positives: k, the size of each positive set (32).
        agreement: "consensus" (default), "union", "video" or "audio".
        resample_every: recompute the positive sets every this many epochs (5 Kinetics, 10 AudioSet).
        num_negatives: K (1024).
        num_negatives_within: negatives of the within-modal terms, the first of the K (64).
        search: how positives are searched (default exact).
        sampler: negatives for (index, exclude=positive sets); default `GlobalBatchNegativeSampler`.
        partition_per_term: one Z per term, each estimated on its own first batch (module docstring).
    """

    def __init__(
        self,
        encoders: nn.ModuleDict,
        heads: nn.ModuleDict,
        num_instances: int,
        embed_dim: int = 128,
        weights: CMAWeights | None = None,
        num_positives: int = 32,
        agreement: str = "consensus",
        resample_every: int = 5,
        num_negatives: int = 1024,
        num_negatives_within: int = 64,
        temperature: float = 0.07,
        momentum: float = 0.5,
        search: SearchSpec | None = None,
        sampler: NegativeSampler | None = None,
        partition: PartitionFunction | None = None,
        seed: int = 0,
        partition_per_term: bool = False,
    ) -> None:
        weights = weights if weights is not None else CMAWeights()
        values = [getattr(weights, g) for g in GROUPS]
        if min(values) < 0 or sum(values) == 0:
            raise ValueError(f"AVIDCMA: weights must be >= 0 and not all zero; got {weights}")
        if agreement not in AGREEMENT_MODES:
            raise ValueError(f"AVIDCMA: agreement={agreement!r}; choose one of {', '.join(AGREEMENT_MODES)}")
        if not 1 <= num_positives <= num_instances - 2:
            raise ValueError(f"AVIDCMA: num_positives={num_positives} must lie in [1, N−2={num_instances - 2}] "
                             "(the instance and its positives leave no negatives otherwise)")
        if not 1 <= num_negatives_within <= num_negatives:
            raise ValueError(f"AVIDCMA: num_negatives_within={num_negatives_within} must lie in [1, K={num_negatives}]")
        if resample_every < 1:
            raise ValueError(f"AVIDCMA: resample_every={resample_every} must be >= 1 epoch")
        super().__init__(encoders, heads, num_instances, embed_dim, temperature, num_negatives, momentum,
                         sampler, partition, seed)
        self.weights = weights
        self.num_positives = int(num_positives)
        self.agreement = agreement
        self.resample_every = int(resample_every)
        self.num_negatives_within = int(num_negatives_within)
        self.search = search or SearchSpec()
        # Positive sets and the epoch they were computed at are checkpointed with the banks.
        self.register_buffer("positives", torch.full((self.num_instances, self.num_positives), -1, dtype=torch.int64))
        self.register_buffer("positives_epoch", torch.tensor(-1, dtype=torch.int64))
        total = sum(values)
        self._terms = tuple(
            Term(name, emb, mem, positives, num_negatives_within if within else None, getattr(weights, group) / total / 2)
            for group, (positives, within, pairs) in GROUPS.items() if getattr(weights, group) > 0
            for name, emb, mem in pairs
        )
        self.term_partitions = nn.ModuleDict(
            {t.name: PartitionFunction("first_batch") for t in self._terms} if partition_per_term else {})

    @property
    def terms(self) -> tuple[Term, ...]:
        return self._terms

    def partition_for(self, term: Term) -> PartitionFunction:
        return self.term_partitions[term.name] if self.term_partitions else self.partition

    @property
    def has_positives(self) -> bool:
        return int(self.positives_epoch) >= 0

    def _require_positives(self) -> None:
        if not self.has_positives:
            raise RuntimeError("AVIDCMA: positive sets are not computed yet; call update_positives(epoch) "
                               "(training does it at the start of the first epoch)")

    def draw_negatives(self, index: torch.Tensor) -> torch.Tensor:
        self._require_positives()
        return self.sampler(index, exclude=self.positives[index.to(self.positives.device)])

    def positive_index(self, index: torch.Tensor, kind: str) -> torch.Tensor:
        if kind != "set":
            return super().positive_index(index, kind)
        self._require_positives()
        return self.positives[index.to(self.positives.device)]

    def positives_due(self, epoch: int) -> bool:
        """True at the first epoch and every `resample_every` epochs after the last computation."""
        return not self.has_positives or epoch - int(self.positives_epoch) >= self.resample_every

    @torch.no_grad()
    def update_positives(self, epoch: int, progress: bool = False) -> float:
        """Recompute every positive set from the current memory banks; returns the seconds taken.

        Under DDP the rows are split over the ranks and gathered, so every rank holds the same sets.
        """
        started = time.perf_counter()
        positives = shared_cma_positives(self.banks["video"].memory, self.banks["audio"].memory,
                                         self.num_positives, self.agreement, self.search, progress=progress)
        self.positives.copy_(positives.to(self.positives.device))
        self.positives_epoch.fill_(int(epoch))
        return time.perf_counter() - started

    def on_train_epoch_start(self, epoch: int, progress: bool = False) -> dict[str, float]:
        """Training hook: refresh the positive sets when due; returns what to log."""
        if not self.positives_due(epoch):
            return {}
        return {"cma/positives_seconds": self.update_positives(epoch, progress)}

    def extra_repr(self) -> str:
        return (f"num_instances={self.num_instances}, embed_dim={self.embed_dim}, weights={self.weights}, "
                f"num_positives={self.num_positives}, agreement={self.agreement!r}, "
                f"resample_every={self.resample_every}, num_negatives_within={self.num_negatives_within}, "
                f"partition_per_term={bool(self.term_partitions)}")
