"""Two CPU processes on gloo: memory-bank replicas and the partition function agree across ranks
and with one process that sees the whole global batch."""

from __future__ import annotations

import datetime
import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from avssl.core import MemoryBank, PartitionFunction

WORLD = 2
SIZE, DIM = 12, 8


def global_steps() -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    """(index, emb, rows on rank 0) per step; duplicates within and across ranks; last step uneven."""
    gen = torch.Generator().manual_seed(0)
    steps = []
    for split in (4, 4, 4, 4, 3):
        index = torch.randint(0, SIZE, (8,), generator=gen)
        index[5] = index[1]  # a duplicate across the two ranks' halves
        steps.append((index, torch.randn(8, DIM, generator=gen), split))
    return steps


def global_negative_scores() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return torch.randn(6, 10, generator=gen), torch.randn(6, 10, generator=gen) + 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker(rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD, timeout=datetime.timedelta(seconds=60))
    try:
        bank = MemoryBank(SIZE, DIM, momentum=0.5, seed=3)
        for index, emb, split in global_steps():
            rows = slice(0, split) if rank == 0 else slice(split, None)
            bank.update(index[rows], emb[rows])
        pf = PartitionFunction("first_batch")
        first, later = global_negative_scores()
        half = slice(0, 3) if rank == 0 else slice(3, None)
        log_z_first = pf(first[half])
        log_z_later = pf(later[half])
        torch.save(
            {"memory": bank.memory, "log_z_first": log_z_first, "log_z_later": log_z_later},
            os.path.join(out_dir, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


def test_two_ranks_agree_with_each_other_and_with_one_process(tmp_path):
    mp.spawn(worker, args=(free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    results = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]

    single = MemoryBank(SIZE, DIM, momentum=0.5, seed=3)
    for index, emb, _ in global_steps():
        single.update(index, emb)
    first, _ = global_negative_scores()
    single_pf = PartitionFunction("first_batch")
    single_log_z = single_pf(first)

    assert torch.equal(results[0]["memory"], results[1]["memory"])
    torch.testing.assert_close(results[0]["memory"], single.memory, rtol=0, atol=1e-6)
    assert not torch.equal(single.memory, MemoryBank(SIZE, DIM, momentum=0.5, seed=3).memory)

    assert torch.equal(results[0]["log_z_first"], results[1]["log_z_first"])
    torch.testing.assert_close(results[0]["log_z_first"], single_log_z, rtol=1e-12, atol=0)
    torch.testing.assert_close(single_log_z.exp(), first.double().exp().mean(), rtol=1e-12, atol=0)
    for result in results:
        assert torch.equal(result["log_z_later"], result["log_z_first"])
