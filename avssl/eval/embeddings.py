"""Video-level embeddings of a labelled set: the mean of N uniformly spaced clips' embeddings."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm


@torch.no_grad()
def video_level_embeddings(model, dataset, batch_size: int = 64, num_workers: int = 0,
                           progress: bool = True, desc: str = "embedding") -> dict[str, torch.Tensor]:
    """{"video": (N, D), "audio": (N, D), "label": (N,)} for the N videos of `dataset` (an
    evaluation AVClipDataset: clips_per_video uniform clips each). `model.embed(batch)` returns
    per-clip embeddings keyed by modality; clip embeddings are averaged per instance index and
    L2-normalised again, so cosine retrieval works on the result."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers, shuffle=False)
    sums: dict[str, torch.Tensor] = {}
    counts = torch.zeros(len(dataset.manifest))
    labels = torch.full((len(dataset.manifest),), -1, dtype=torch.long)
    for batch in tqdm(loader, desc=desc, unit="batch", disable=not progress):
        index = batch["index"]
        embeddings = model.embed({k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()})
        for modality, value in embeddings.items():
            if modality not in sums:
                sums[modality] = torch.zeros(len(dataset.manifest), value.shape[1])
            sums[modality].index_add_(0, index, value.float().cpu())
        counts.index_add_(0, index, torch.ones(len(index)))
        if "label" in batch:
            labels[index] = batch["label"]
    model.train(was_training)
    out = {m: torch.nn.functional.normalize(s / counts.clamp(min=1).unsqueeze(1), dim=1) for m, s in sums.items()}
    out["label"] = labels
    return out
