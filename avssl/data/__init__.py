"""Everything between raw media files and a batch of training clips. Never imports models."""
