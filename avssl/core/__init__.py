"""The shared contrastive core: pure loss kernels and the small modules that own their state."""

from avssl.core.barlow_twins import barlow_twins_loss
from avssl.core.cma_positives import AGREEMENT_MODES, cma_positives, shared_cma_positives
from avssl.core.differentiable_collectives import all_gather_with_grad, all_reduce_sum_with_grad
from avssl.core.ema import EMA, cosine_momentum
from avssl.core.knn import knn
from avssl.core.memory_bank import MemoryBank
from avssl.core.nce import PartitionFunction, nce_loss
from avssl.core.negative_cosine import negative_cosine
from avssl.core.negative_sampling import NegativeSampler, UniformNegativeSampler, sample_negatives
from avssl.core.queue import Queue
from avssl.core.search_spec import SearchSpec
from avssl.core.sinkhorn import sinkhorn
from avssl.core.swav import swav_loss

__all__ = [
    "AGREEMENT_MODES",
    "EMA",
    "MemoryBank",
    "NegativeSampler",
    "PartitionFunction",
    "Queue",
    "SearchSpec",
    "UniformNegativeSampler",
    "all_gather_with_grad",
    "all_reduce_sum_with_grad",
    "barlow_twins_loss",
    "cma_positives",
    "cosine_momentum",
    "knn",
    "nce_loss",
    "negative_cosine",
    "sample_negatives",
    "shared_cma_positives",
    "sinkhorn",
    "swav_loss",
]
