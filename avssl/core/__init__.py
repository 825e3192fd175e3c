"""The shared contrastive core: pure loss kernels and the small modules that own their state."""

from avssl.core.cma_positives import AGREEMENT_MODES, cma_positives, shared_cma_positives
from avssl.core.knn import knn
from avssl.core.memory_bank import MemoryBank
from avssl.core.nce import PartitionFunction, nce_loss
from avssl.core.negative_sampling import NegativeSampler, UniformNegativeSampler, sample_negatives
from avssl.core.search_spec import SearchSpec

__all__ = [
    "AGREEMENT_MODES",
    "SearchSpec",
    "cma_positives",
    "knn",
    "shared_cma_positives",
    "MemoryBank",
    "NegativeSampler",
    "PartitionFunction",
    "UniformNegativeSampler",
    "nce_loss",
    "sample_negatives",
]
