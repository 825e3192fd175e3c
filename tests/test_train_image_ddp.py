"""SwAV through the trainer on 2 gloo ranks equals one process over the same global batch: the
distributed Sinkhorn, the rank-identical queue (filled from epoch 1, then used), the frozen then
renormalised prototypes and LARC all survive the split. No BatchNorm (per-rank statistics would
differ from the global batch's, and SyncBatchNorm refuses CPU tensors); everything else is real."""

from __future__ import annotations

import torch
from image_train_helpers import image_config
from train_helpers import SaveRankState

from avssl.train.run_training import train

NO_BN = ("model.image_kwargs={out_dim: 16, width: 4, batch_norm: false}", "model.projector.batch_norm=false",
         "method.swav.queue_length=8", "method.swav.queue_start_epoch=1", "method.swav.freeze_prototypes_steps=2",
         "train.max_epochs=3", "train.checkpoint_every_n_steps=null")


def weights_and_queue(method) -> dict:
    return {"weights": {k: v.clone() for k, v in method.state_dict().items() if not k.startswith("queues")},
            "queue": method.queues[0].get()}


def test_swav_on_two_gloo_ranks_matches_one_process(prepared_mixed, tmp_path):
    single_dir, ddp_dir = tmp_path / "single", tmp_path / "ddp"
    single_dir.mkdir(), ddp_dir.mkdir()
    train(image_config(prepared_mixed, tmp_path, "swav", "single", *NO_BN, "data.batch_size=4"),
          [SaveRankState(str(single_dir), weights_and_queue)])
    train(image_config(prepared_mixed, tmp_path, "swav", "ddp", *NO_BN, "data.batch_size=2", "train.devices=2",
                       "train.strategy=ddp_spawn"), [SaveRankState(str(ddp_dir), weights_and_queue)])
    one = torch.load(single_dir / "rank0.pt", weights_only=True)
    ranks = [torch.load(ddp_dir / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert len(one["losses"]) == 12 and len(ranks[0]["losses"]) == 12  # 16 frames / global batch 4, 3 epochs
    assert one["queue"].shape == (8, 16)
    assert torch.equal(ranks[0]["queue"], ranks[1]["queue"]), "the queue differs between ranks"
    torch.testing.assert_close(ranks[0]["queue"], one["queue"], rtol=0, atol=1e-5)
    # Each rank's loss is the mean over its half of the global batch (codes from the shared Sinkhorn).
    torch.testing.assert_close((ranks[0]["losses"] + ranks[1]["losses"]) / 2, one["losses"], rtol=1e-5, atol=0)
    for key, value in one["weights"].items():
        assert torch.equal(ranks[0]["weights"][key], ranks[1]["weights"][key]), f"{key} differs between ranks"
        torch.testing.assert_close(ranks[0]["weights"][key], value, rtol=0, atol=1e-5, msg=key)
