"""AVID: audio-visual instance discrimination with memory banks and NCE
(Morgado, Vasconcelos & Misra, "Audio-Visual Instance Discrimination with Cross-Modal
Agreement", CVPR 2021, Sec. 3).

Each training instance i (a video and its sound) has one memory per modality, m^v_i and
m^a_i (Sec. 3, "memory bank"): slowly updated, unit-norm copies of past embeddings, which
provide many negatives per step without encoding them. The paper's objectives differ only in
which memory an embedding is contrasted against (Sec. 3):

    Cross-AVID (the paper's best):  video emb vs audio memories (v2a), audio emb vs video
                                    memories (a2v). Positives come from the other modality,
                                    so the encoders must agree across modalities.
    Self-AVID:                      video emb vs video memories (v2v), audio vs audio (a2a).
    Joint-AVID:                     all four terms.

The coefficients `cross` and `self_` weight the two pairs of terms: Cross = (1, 0),
Self = (0, 1), Joint = (1, 1) (`AVID_VARIANTS`).

Each term is the NCE loss of Wu et al. (CVPR 2018) as used by AVID (`avssl.core.nce_loss`):
one positive (the memory of the same instance, other or same modality) against K negatives
(memories of K uniformly drawn other instances), scores s = e·m / τ with τ = 0.07, and a
partition function Z estimated on the first batch and then frozen. One Z is shared by all
terms, as in the official code: the first term computed (in the order v2a, a2v, v2v, a2a,
skipping inactive ones) sets it.

The step itself (memories read before the update, one negative draw shared by all terms) is
`AVMemoryMethod`'s.
"""

from __future__ import annotations

from torch import nn

from avssl.core.nce import PartitionFunction
from avssl.core.negative_sampling import NegativeSampler
from avssl.methods.av_memory_method import AVMemoryMethod, Term

__all__ = ["AVID", "AVID_VARIANTS"]

#: (cross, self_) coefficients of the paper's three AVID variants (Sec. 3).
AVID_VARIANTS: dict[str, tuple[float, float]] = {
    "cross": (1.0, 0.0),
    "self": (0.0, 1.0),
    "joint": (1.0, 1.0),
}

# Term name -> (modality of the embedding, modality of the memory), in the order computed.
TERMS: dict[str, tuple[str, str]] = {
    "v2a": ("video", "audio"),
    "a2v": ("audio", "video"),
    "v2v": ("video", "video"),
    "a2a": ("audio", "audio"),
}


class AVID(AVMemoryMethod):
    """Audio-visual instance discrimination (Morgado et al., CVPR 2021, Sec. 3).

    Args:
        encoders: ModuleDict with "video" ((B,3,T,H,W) -> (B,C_v)) and "audio"
            ((B,1,T,F) -> (B,C_a)) encoders.
        heads: ModuleDict with "video" and "audio" projection heads to `embed_dim`
            (AVID: 512 -> 512 -> 512 -> 128 MLPs, `avssl.models.mlp_head`).
        num_instances: N, the number of training instances (rows of each memory bank).
        embed_dim: embedding / memory dimension (128 in AVID).
        cross: weight of the cross-modal terms v2a and a2v.
        self_: weight of the within-modal terms v2v and a2a.
        temperature: τ in s = e·m / τ (0.07 in AVID).
        num_negatives: K, used by the default sampler (1024 in AVID).
        momentum: memory momentum m in M ← normalise(m·M + (1 − m)·e) (0.5 in AVID).
        sampler: maps (B,) instance indices to (B, K) negative indices; default
            `GlobalBatchNegativeSampler(num_instances, num_negatives, seed)`: same negatives however the
            global batch is split over ranks, generator state checkpointed.
            One draw per step is shared by all terms (each term reads its own memory bank
            at those indices).
        partition: the NCE partition-function policy; default "first_batch" (AVID's).
        seed: seed of the memory banks' random unit-norm initial rows (video uses `seed`,
            audio `seed + 1`, so the two banks start different).
    """

    def __init__(
        self,
        encoders: nn.ModuleDict,
        heads: nn.ModuleDict,
        num_instances: int,
        embed_dim: int = 128,
        cross: float = 1.0,
        self_: float = 0.0,
        temperature: float = 0.07,
        num_negatives: int = 1024,
        momentum: float = 0.5,
        sampler: NegativeSampler | None = None,
        partition: PartitionFunction | None = None,
        seed: int = 0,
    ) -> None:
        if cross < 0 or self_ < 0 or (cross == 0 and self_ == 0):
            raise ValueError(
                f"AVID: loss coefficients must be >= 0 and not both zero; got cross={cross}, self_={self_}."
            )
        super().__init__(encoders, heads, num_instances, embed_dim, temperature, num_negatives, momentum,
                         sampler, partition, seed)
        self.cross = float(cross)
        self.self_ = float(self_)

    @classmethod
    def variant(cls, name: str, **kwargs) -> AVID:
        """Build Cross-, Self- or Joint-AVID by name ("cross", "self", "joint")."""
        try:
            cross, self_ = AVID_VARIANTS[name]
        except KeyError:
            raise ValueError(f"unknown AVID variant {name!r}; valid: {', '.join(AVID_VARIANTS)}") from None
        return cls(cross=cross, self_=self_, **kwargs)

    def coefficient(self, term: str) -> float:
        """Weight of a term: `cross` for v2a / a2v, `self_` for v2v / a2a."""
        emb_mod, mem_mod = TERMS[term]
        return self.cross if emb_mod != mem_mod else self.self_

    @property
    def active_terms(self) -> tuple[str, ...]:
        return tuple(t for t in TERMS if self.coefficient(t) != 0)

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(Term(t, *TERMS[t], weight=self.coefficient(t)) for t in self.active_terms)

    def extra_repr(self) -> str:
        return (
            f"num_instances={self.num_instances}, embed_dim={self.embed_dim}, cross={self.cross}, "
            f"self_={self.self_}, temperature={self.temperature}, sampler={self.sampler!r}"
        )
