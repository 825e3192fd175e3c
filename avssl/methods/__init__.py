"""Self-supervised methods: each holds its encoders, heads and one objective built from avssl.core."""

from avssl.methods.avid import AVID, AVID_VARIANTS

__all__ = ["AVID", "AVID_VARIANTS"]
