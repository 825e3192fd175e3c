"""Self-supervised methods: each holds its encoders, heads and one objective built from avssl.core."""

from avssl.methods.avid import AVID, AVID_VARIANTS
from avssl.methods.avid_cma import AVIDCMA, CMAWeights
from avssl.methods.barlow_twins import BarlowTwins
from avssl.methods.byol import BYOL
from avssl.methods.image_method import ImageMethod
from avssl.methods.simsiam import SimSiam
from avssl.methods.swav import SwAV

__all__ = ["AVID", "AVIDCMA", "AVID_VARIANTS", "BYOL", "BarlowTwins", "CMAWeights", "ImageMethod", "SimSiam", "SwAV"]
