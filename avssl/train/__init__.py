"""Training: Lightning module, resumable data order, atomic checkpoints, the `avssl train` job."""
