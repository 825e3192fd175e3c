"""The shared contrastive core: pure loss kernels and the small modules that own their state."""

from avssl.core.memory_bank import MemoryBank
from avssl.core.nce import PartitionFunction, nce_loss
from avssl.core.negative_sampling import NegativeSampler, UniformNegativeSampler, sample_negatives

__all__ = [
    "MemoryBank",
    "NegativeSampler",
    "PartitionFunction",
    "UniformNegativeSampler",
    "nce_loss",
    "sample_negatives",
]
