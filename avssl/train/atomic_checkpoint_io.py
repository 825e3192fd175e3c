"""Checkpoints written atomically in place: temp file beside the target, fsync, rename.

Lightning's default writer goes through an fsspec transaction whose temporary file lives in the
system temp folder; when that is another filesystem (tmpfs /tmp, checkpoints on a network disk)
the final move is a copy, and a kill during it leaves a truncated checkpoint under the real name.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from avssl.atomic_io import atomic_path


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError("AtomicCheckpointIO takes no storage_options")
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)
