"""Self-supervised methods: each holds its encoders, heads and one objective built from avssl.core."""

from avssl.methods.avid import AVID, AVID_VARIANTS
from avssl.methods.avid_cma import AVIDCMA, CMAWeights

__all__ = ["AVID", "AVIDCMA", "AVID_VARIANTS", "CMAWeights"]
