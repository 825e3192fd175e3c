"""What AVID and AVID+CMA share: two encoders and heads, one memory bank per modality, NCE terms.

A method is a list of `Term`s. Each term contrasts one modality's embedding with one modality's
memories: its positives are either the instance's own memory ("self", instance discrimination)
or the memories of its CMA positive set ("set"), its negatives the first n of the K negatives the
step drew (one draw per step, shared by all terms, as in the official code). The loss is the
weighted sum of the terms' NCE losses (`avssl.core.nce_loss`) with one partition function Z,
estimated by the first term computed.

Order within a step (official code): embeddings are L2-normalised; positives and negatives are read
from the memories *before* this step's update; scores and losses are computed; only then are both
banks updated with M[i] ← normalise(m·M[i] + (1 − m)·e_i) from the detached embeddings. Reading
after the update would let an embedding score against a memory that already contains itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from avssl.core.memory_bank import MemoryBank
from avssl.core.nce import PartitionFunction, nce_loss
from avssl.core.negative_sampling import GlobalBatchNegativeSampler, NegativeSampler

__all__ = ["MODALITIES", "AVMemoryMethod", "Term"]

MODALITIES = ("video", "audio")


@dataclass(frozen=True)
class Term:
    """One NCE term: `embedding` modality vs `memory` modality, positives "self" or "set",
    the first `negatives` negatives (None: all K), weighted by `weight` in the total loss."""

    name: str
    embedding: str
    memory: str
    positives: str = "self"
    negatives: int | None = None
    weight: float = 1.0


class AVMemoryMethod(nn.Module):
    """Encoders + heads + memory banks + NCE over a list of terms (subclasses define the terms).

    Args:
        encoders: ModuleDict with "video" ((B,3,T,H,W) -> (B,C_v)) and "audio" ((B,1,T,F) -> (B,C_a)).
        heads: ModuleDict with "video" and "audio" projection heads to `embed_dim`.
        num_instances: N, rows of each memory bank (instance indices 0..N−1).
        embed_dim: embedding / memory dimension (128 in AVID).
        temperature: τ in s = e·m / τ (0.07 in AVID).
        num_negatives: K drawn per step by the default sampler (1024 in AVID).
        momentum: memory momentum m (0.5 in AVID).
        sampler: maps (B,) indices (and optional (B, P) exclusions) to (B, K) negatives; default
            `GlobalBatchNegativeSampler`: the same negatives however the global batch is split over
            ranks, generator state checkpointed.
        partition: the NCE partition-function policy; default "first_batch" (AVID's).
        seed: seed of the banks' random unit-norm initial rows (video `seed`, audio `seed + 1`).
    """

    def __init__(
        self,
        encoders: nn.ModuleDict,
        heads: nn.ModuleDict,
        num_instances: int,
        embed_dim: int = 128,
        temperature: float = 0.07,
        num_negatives: int = 1024,
        momentum: float = 0.5,
        sampler: NegativeSampler | None = None,
        partition: PartitionFunction | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for label, modules in (("encoders", encoders), ("heads", heads)):
            missing = [m for m in MODALITIES if m not in modules]
            if missing:
                raise ValueError(f"{name}: {label} must have keys {MODALITIES}; missing {missing}.")
        if not temperature > 0:
            raise ValueError(f"{name}: temperature must be > 0; got {temperature}.")
        self.encoders = encoders if isinstance(encoders, nn.ModuleDict) else nn.ModuleDict(encoders)
        self.heads = heads if isinstance(heads, nn.ModuleDict) else nn.ModuleDict(heads)
        self.num_instances = int(num_instances)
        self.embed_dim = int(embed_dim)
        self.temperature = float(temperature)
        self.banks = nn.ModuleDict({
            m: MemoryBank(self.num_instances, self.embed_dim, momentum=momentum, seed=seed + i)
            for i, m in enumerate(MODALITIES)
        })
        self.partition = partition if partition is not None else PartitionFunction("first_batch")
        self.sampler = (
            sampler if sampler is not None else GlobalBatchNegativeSampler(self.num_instances, num_negatives, seed)
        )

    # --- what subclasses define -------------------------------------------------------------
    @property
    def terms(self) -> tuple[Term, ...]:
        raise NotImplementedError

    def draw_negatives(self, index: torch.Tensor) -> torch.Tensor:
        """(B, K) negatives of this step; AVID: uniform over all instances but the own one."""
        return self.sampler(index)

    def partition_for(self, term: Term) -> PartitionFunction:
        """The partition function of `term`: one Z shared by all terms (AVID, and CMA as released)."""
        return self.partition

    def positive_index(self, index: torch.Tensor, kind: str) -> torch.Tensor:
        """(B, P) instance indices whose memories are the positives of a term."""
        if kind == "self":
            return index.unsqueeze(1)
        raise ValueError(f"{type(self).__name__} has no {kind!r} positives")

    # --- the shared step ---------------------------------------------------------------------
    def embed(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """L2-normalised embeddings {"video": (B, D), "audio": (B, D)} (AVID normalises in the loss)."""
        return {m: F.normalize(self.heads[m](self.encoders[m](batch[m])), dim=1) for m in MODALITIES}

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One step's loss; updates both memory banks as a side effect.

        Args:
            batch: {"video": (B,3,T,H,W), "audio": (B,1,T,F), "index": (B,) instance indices}.

        Returns:
            {"loss": weighted sum, one entry per term, "log_z"}, all 0-dim tensors.
        """
        index = batch["index"]
        if index.dim() != 1:
            raise ValueError(f"{type(self).__name__}: batch['index'] must have shape (B,); got {tuple(index.shape)}.")
        emb = self.embed(batch)
        neg_index = self.draw_negatives(index)
        positives = {kind: self.positive_index(index, kind) for kind in {t.positives for t in self.terms}}
        # Every memory needed, read *before* this step's update (`get` returns copies).
        memories = {}
        for term in self.terms:
            bank = self.banks[term.memory]
            memories.setdefault((term.memory, term.positives), bank.get(positives[term.positives]))
            memories.setdefault((term.memory, "negatives"), bank.get(neg_index))

        out: dict[str, torch.Tensor] = {}
        log_z, total = None, None
        for term in self.terms:
            e = emb[term.embedding]
            pos_mem = memories[(term.memory, term.positives)].to(e.dtype)
            neg_mem = memories[(term.memory, "negatives")][:, : term.negatives].to(e.dtype)
            pos = torch.einsum("bd,bpd->bp", e, pos_mem) / self.temperature
            neg = torch.einsum("bd,bkd->bk", e, neg_mem) / self.temperature
            term_log_z = self.partition_for(term)(neg)  # a shared Z is estimated by the first term
            log_z = term_log_z if log_z is None else log_z
            loss = nce_loss(pos, neg, term_log_z)
            out[term.name] = loss
            total = term.weight * loss if total is None else total + term.weight * loss

        with torch.no_grad():
            for m in MODALITIES:
                self.banks[m].update(index, emb[m].detach())
        out["loss"] = total
        out["log_z"] = log_z.detach()
        return out

    # --- checkpoint extras -------------------------------------------------------------------
    def get_extra_state(self) -> dict:
        """The negative sampler's RNG state rides in the state dict, so a resumed run draws the
        same negatives as an uninterrupted one."""
        return {"sampler": self.sampler.state_dict()} if hasattr(self.sampler, "state_dict") else {}

    def set_extra_state(self, state: dict) -> None:
        if state.get("sampler") is not None and hasattr(self.sampler, "load_state_dict"):
            self.sampler.load_state_dict(state["sampler"])
