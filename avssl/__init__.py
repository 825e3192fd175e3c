"""avssl: audio-visual self-supervised learning (AVID+CMA) and image SSL methods on one core."""

__version__ = "0.1.0.dev0"
