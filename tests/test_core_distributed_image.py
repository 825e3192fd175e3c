"""Two CPU processes on gloo against one process over the global batch: the gathers with gradient,
Barlow Twins (loss and DDP-averaged gradients, not scaled by 1/world_size), Sinkhorn and the SwAV
queue. Ranks hold unequal batches (3 and 5 rows) to catch any hidden "B_local × W"."""

from __future__ import annotations

import datetime
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from test_core_distributed import free_port

from avssl.core import Queue, all_gather_with_grad, all_reduce_sum_with_grad, barlow_twins_loss, sinkhorn

WORLD = 2
SPLIT = 3  # rank 0 holds rows [0, 3), rank 1 rows [3, 8)
N, D_IN, D = 8, 4, 6


def global_data() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"u1": torch.randn(N, D_IN, generator=g, dtype=torch.float64),
            "u2": torch.randn(N, D_IN, generator=g, dtype=torch.float64),
            "weight": torch.randn(D, D_IN, generator=g, dtype=torch.float64),
            "scores": torch.randn(N, 5, generator=g, dtype=torch.float64),
            "queue_pushes": torch.randn(3, N, 5, generator=g, dtype=torch.float64)}


def gather_objective(y: torch.Tensor) -> torch.Tensor:
    """Non-linear in the rows and across rows, so a wrong backward cannot pass by accident."""
    return (y.sum(dim=0) ** 2).sum() + (y**3).sum()


def run_steps(data: dict[str, torch.Tensor], rows: slice) -> dict[str, torch.Tensor]:
    """Everything a rank (or the single process, with rows = all) computes; gradients DDP-averaged."""
    out = {}
    for name, objective in (("gather", lambda z1, z2: gather_objective(all_gather_with_grad(z1))),
                            ("reduce", lambda z1, z2: gather_objective(all_reduce_sum_with_grad(z1.sum(0, True)))),
                            ("barlow", lambda z1, z2: barlow_twins_loss(z1, z2, lambd=0.3))):
        weight = data["weight"].clone().requires_grad_()
        loss = objective(data["u1"][rows] @ weight.T, data["u2"][rows] @ weight.T)
        loss.backward()
        grad = weight.grad.clone()
        if dist.is_initialized():  # what DDP does with parameter gradients: the mean over ranks
            dist.all_reduce(grad)
            grad /= dist.get_world_size()
        out[f"{name}_loss"], out[f"{name}_grad"] = loss.detach(), grad
    out["codes"] = sinkhorn(data["scores"][rows], eps=0.3, iters=4)
    queue = Queue(6, 5)
    queue.rows = queue.rows.double()
    for push in data["queue_pushes"]:
        queue.push(push[rows])
    out["queue"] = queue.get()
    share = queue.local_share()
    out["codes_with_queue"] = sinkhorn(torch.cat([share, data["scores"][rows]]), eps=0.3)[share.shape[0]:]
    return out


def worker(rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD, timeout=datetime.timedelta(seconds=60))
    try:
        rows = slice(0, SPLIT) if rank == 0 else slice(SPLIT, None)
        torch.save(run_steps(global_data(), rows), os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> tuple[list[dict], dict]:
    folder = tmp_path_factory.mktemp("dist_image")
    mp.spawn(worker, args=(free_port(), str(folder)), nprocs=WORLD, join=True)
    ranks = [torch.load(folder / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    return ranks, run_steps(global_data(), slice(None))


@pytest.mark.parametrize("name", ["gather", "reduce", "barlow"])
def test_loss_and_ddp_averaged_gradients_equal_one_process_over_the_global_batch(results, name):
    ranks, single = results
    for rank in ranks:
        torch.testing.assert_close(rank[f"{name}_loss"], single[f"{name}_loss"], rtol=1e-12, atol=0)
        torch.testing.assert_close(rank[f"{name}_grad"], single[f"{name}_grad"], rtol=1e-10, atol=1e-12)
    assert single[f"{name}_grad"].abs().sum() > 0


def test_sinkhorn_codes_of_each_rank_are_its_rows_of_the_global_codes(results):
    ranks, single = results
    torch.testing.assert_close(torch.cat([ranks[0]["codes"], ranks[1]["codes"]]), single["codes"],
                               rtol=1e-12, atol=1e-14)


def test_the_queue_is_identical_on_every_rank_and_its_shares_act_as_one_queue(results):
    ranks, single = results
    assert torch.equal(ranks[0]["queue"], ranks[1]["queue"])
    torch.testing.assert_close(ranks[0]["queue"], single["queue"], rtol=0, atol=0)
    joined = torch.cat([ranks[0]["codes_with_queue"], ranks[1]["codes_with_queue"]])
    torch.testing.assert_close(joined, single["codes_with_queue"], rtol=1e-12, atol=1e-14)
    assert not torch.allclose(single["codes_with_queue"], single["codes"])  # the queue does change the codes
