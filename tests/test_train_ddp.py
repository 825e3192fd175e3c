"""DDP with 2 processes on gloo (CPU) equals one process over the same global batch.

Encoders without BatchNorm: per-rank BN statistics would differ from the global batch's, and
SyncBatchNorm refuses CPU tensors. Everything else is the real thing: Lightning's ddp_spawn,
gloo all-reduce of gradients, gathered memory-bank updates, the all-reduced first-batch Z.
"""

from __future__ import annotations

import pytest
import torch
from train_helpers import SaveRankState, tiny_train_config

from avssl.train.run_training import train

NO_BN = ("model.video_kwargs={width: 8, batch_norm: false}", "model.audio_kwargs={width: 8, batch_norm: false}")


def memory_state(method) -> dict:
    """Banks, Z, encoder weights and positive sets: what must agree across ranks."""
    return {"video": method.banks["video"].memory.clone(), "audio": method.banks["audio"].memory.clone(),
            "z": method.partition.z.clone(), "weights": {k: v.clone() for k, v in method.encoders.state_dict().items()},
            "positives": getattr(method, "positives", torch.empty(0)).clone()}


@pytest.fixture()
def manifest(prepared_mixed):
    return prepared_mixed


def test_two_gloo_ranks_match_one_process_over_the_global_batch(manifest, tmp_path):
    common = (*NO_BN, "train.max_epochs=2", "train.checkpoint_every_n_steps=null")
    single_dir, ddp_dir = tmp_path / "single", tmp_path / "ddp"
    single_dir.mkdir(), ddp_dir.mkdir()
    train(tiny_train_config(manifest, tmp_path, "single", *common, "data.batch_size=4"),
          [SaveRankState(str(single_dir), memory_state)])
    train(tiny_train_config(manifest, tmp_path, "ddp", *common, "data.batch_size=2", "train.devices=2",
                            "train.strategy=ddp_spawn"), [SaveRankState(str(ddp_dir), memory_state)])
    one = torch.load(single_dir / "rank0.pt", weights_only=True)
    ranks = [torch.load(ddp_dir / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert len(one["losses"]) == 6 and len(ranks[0]["losses"]) == 6  # 12 clips / global batch 4, 2 epochs
    for name in ("video", "audio", "z"):
        assert torch.equal(ranks[0][name], ranks[1][name]), f"{name} differs between ranks"
    for name in ("video", "audio"):
        torch.testing.assert_close(ranks[0][name], one[name], rtol=0, atol=1e-5)
    torch.testing.assert_close(ranks[0]["z"], one["z"], rtol=1e-6, atol=0)
    # Each rank's loss is the mean over its half of the global batch: their mean is the global loss.
    # float32 losses near 7 are resolved to ~5e-7, so "within 1e-6" is relative.
    torch.testing.assert_close((ranks[0]["losses"] + ranks[1]["losses"]) / 2, one["losses"], rtol=1e-6, atol=0)
    # Adam divides by sqrt(v): float32 rounding of near-zero gradients (DDP averages two halves)
    # moves a weight by up to ~1e-5 after 6 steps of lr 1e-3.
    for key, value in one["weights"].items():
        torch.testing.assert_close(ranks[0]["weights"][key], value, rtol=0, atol=5e-5)


def test_cma_positive_sets_are_shared_and_training_matches_one_process(manifest, tmp_path):
    """CMA from an AVID checkpoint: the positive sets (rows split over the ranks, then gathered) are
    identical on both ranks and equal to one process's; training then matches as for AVID."""
    avid = train(tiny_train_config(manifest, tmp_path, "avid", *NO_BN, "train.max_epochs=1",
                                   "train.checkpoint_every_n_steps=null"))
    cma = (*NO_BN, "method.name=avid_cma", "method.cma.num_positives=1", "method.cma.num_negatives_within=4",
           f"method.cma.init_from={avid.run_dir / 'checkpoints' / 'last.ckpt'}", "method.cma.resample_every=1",
           "train.max_epochs=2", "train.checkpoint_every_n_steps=null")
    single_dir, ddp_dir = tmp_path / "cma_single", tmp_path / "cma_ddp"
    single_dir.mkdir(), ddp_dir.mkdir()
    train(tiny_train_config(manifest, tmp_path, "cma_single", *cma, "data.batch_size=4"),
          [SaveRankState(str(single_dir), memory_state)])
    train(tiny_train_config(manifest, tmp_path, "cma_ddp", *cma, "data.batch_size=2", "train.devices=2",
                            "train.strategy=ddp_spawn"), [SaveRankState(str(ddp_dir), memory_state)])
    one = torch.load(single_dir / "rank0.pt", weights_only=True)
    ranks = [torch.load(ddp_dir / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert one["positives"].shape == (4, 1) and (one["positives"] >= 0).all()
    assert torch.equal(ranks[0]["positives"], ranks[1]["positives"])
    assert torch.equal(ranks[0]["positives"], one["positives"])
    for name in ("video", "audio", "z"):
        assert torch.equal(ranks[0][name], ranks[1][name]), f"{name} differs between ranks"
    for name in ("video", "audio"):
        torch.testing.assert_close(ranks[0][name], one[name], rtol=0, atol=1e-5)
    torch.testing.assert_close((ranks[0]["losses"] + ranks[1]["losses"]) / 2, one["losses"], rtol=1e-6, atol=0)
