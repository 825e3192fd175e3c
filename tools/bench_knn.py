"""Benchmark: CMA positive sets (consensus, k = 32, D = 128) by avssl vs plain brute force.

For each N and each kind of memories, in one run:
  - brute force: what the official code does, on this device: chunked matmul of both modalities,
    elementwise min, self masked, torch.topk (the baseline);
  - avssl exact: `cma_positives(..., SearchSpec())` (checked equal to the baseline);
  - avssl approximate (opt-in): HNSW and IVF indices over the joint [v, a] rows propose
    candidate_factor·k candidates, re-scored exactly; recall@k against the exact sets. Index
    build (and IVF's k-means) time is included.

Memories: "clustered" mimic a trained model's banks (1,000 semantic clusters shared by both
modalities, each instance = its cluster's centre in that modality + noise, unit norm: cosine to
the centre ≈ 0.7); "unstructured" are uniform on the sphere (the worst case for indices).

Exact search is linear in the number of queries, so `--queries Q` times the two exact methods on
the first Q instances against all N and scales the time by N / Q (printed as such); recall is
measured on those Q rows. Approximate methods always run on all N (their cost is not linear).

    python tools/bench_knn.py --n 100000                       # full all-vs-all
    python tools/bench_knn.py --n 300000 --queries 30000       # exact times scaled from 30k queries
    python tools/bench_knn.py --n 1800000 --queries 20000 --kinds clustered   # AudioSet scale (GPU)
"""

from __future__ import annotations

import argparse
import math
import resource
import time
from functools import partial

import numpy as np
import torch

from avssl.core import SearchSpec, cma_positives


def clustered(n: int, dim: int, seed: int, clusters: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    label = rng.integers(0, clusters, n)
    out = []
    for _ in range(2):
        centres = rng.standard_normal((clusters, dim)).astype(np.float32)
        x = centres[label] + rng.standard_normal((n, dim)).astype(np.float32)
        out.append(torch.nn.functional.normalize(torch.from_numpy(x), dim=1))
    return out[0], out[1]


def unstructured(n: int, dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return tuple(torch.nn.functional.normalize(torch.randn(n, dim, generator=gen), dim=1) for _ in range(2))


def brute_force(video: torch.Tensor, audio: torch.Tensor, k: int, queries: int, chunk: int = 1024) -> torch.Tensor:
    """The baseline: per chunk of queries, min of both similarity matrices, self masked, topk."""
    out = []
    for q0 in range(0, queries, chunk):
        q1 = min(q0 + chunk, queries)
        sim = torch.minimum(video[q0:q1] @ video.T, audio[q0:q1] @ audio.T)
        sim[torch.arange(q1 - q0), torch.arange(q0, q1)] = float("-inf")
        out.append(torch.topk(sim, k, dim=1).indices)
    return torch.cat(out).sort(dim=1).values


def recall(found: torch.Tensor, truth: torch.Tensor) -> float:
    hits = (found.unsqueeze(2) == truth.unsqueeze(1)).any(2).sum()
    return float(hits) / truth.numel()


def timed(fn, scale: float = 1.0):
    """(result, (wall s, CPU s) × scale). CPU seconds of this process are reported too: the
    machine is shared, and wall time alone charges other jobs' load to whichever method ran then."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, ((time.perf_counter() - started) * scale, (time.process_time() - cpu) * scale)


def row(n: int, kind: str, method: str, times: tuple[float, float], brute: tuple[float, float], recall_text: str) -> None:
    print(f"| {n:,} | {kind} | {method} | {times[0]:.1f} | {times[1]:.1f} | {brute[0] / times[0]:.2f}× | "
          f"{brute[1] / times[1]:.2f}× | {recall_text} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=None, help="time exact methods on this many queries")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--k", type=int, default=32)
    parser.add_argument("--kinds", nargs="+", default=["clustered", "unstructured"])
    parser.add_argument("--hnsw-ef", type=int, default=128)
    parser.add_argument("--ivf", nargs="+", default=["4:16", "1:4"], metavar="C:P",
                        help="IVF settings: nlist = C·√N cells, nprobe P (default: avssl's 4:16, and 1:4)")
    parser.add_argument("--candidates", type=int, default=4, help="approximate: candidate_factor")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, k={args.k}, D={args.dim}, consensus")
    print("| N | memories | method | wall s | CPU s | speed-up (wall) | speed-up (CPU) | recall@k |")
    print("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for n in args.n:
        q = min(args.queries or n, n)
        scale = n / q
        note = "" if q == n else f" (×{scale:.0f} from {q:,} queries)"
        for kind in args.kinds:
            video, audio = (clustered if kind == "clustered" else unstructured)(n, args.dim, seed=0)
            truth, t_brute = timed(partial(brute_force, video, audio, args.k, q), scale)
            row(n, kind, f"brute force (torch topk){note}", t_brute, t_brute, "exact")
            exact, t_exact = timed(partial(cma_positives, video, audio, args.k, "consensus", rows=(0, q)), scale)
            row(n, kind, f"avssl exact{note}", t_exact, t_brute, f"{recall(exact, truth):.4f}")
            approximate = [(f"avssl HNSW (M 32, efSearch {args.hnsw_ef}, {args.candidates}k candidates)",
                            SearchSpec(index="hnsw", hnsw_ef_search=args.hnsw_ef, candidate_factor=args.candidates))]
            for setting in args.ivf:
                cells, nprobe = (float(x) for x in setting.split(":"))
                nlist = round(cells * math.sqrt(n))
                label = f"avssl IVF (nlist {cells:g}√N = {nlist}, nprobe {nprobe:g}, {args.candidates}k candidates)"
                approximate.append((label, SearchSpec(index="ivf", ivf_nlist=nlist, ivf_nprobe=int(nprobe),
                                                      candidate_factor=args.candidates)))
            for label, spec in approximate:
                found, t = timed(partial(cma_positives, video, audio, args.k, "consensus", spec))
                row(n, kind, label, t, t_brute, f"{recall(found[:q], exact):.4f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
