"""Nearest-neighbour retrieval by cosine similarity and recall@k.

The protocol of the AVID-CMA paper's retrieval tables (and of Xu et al., CVPR 2019): features of
the test split are queries, features of the train split are the database, and a query counts as a
hit at k when any of its k most similar database items shares its class label. Queries and
database are different sets, so nothing is excluded from the database.

Ties are broken towards the lower database index. Similarities are always computed in float64:
a float32 GEMM gives results that move by several ulps with the block shape (measured: 2e-6 on
16-d random features between 1-row and 23-row blocks), enough to reorder near-equal neighbours
between chunk sizes or devices; in float64 the drift (~1e-15) is far below any real difference.
Scores are returned in float64 when either input is float64, otherwise in float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from avssl.eval.class_labels import as_label_array, encode_labels

# Elements of one (queries x database) similarity block: ~64 MiB of float64 scores per chunk
# (plus the same again for a sort, which only rows with boundary ties need).
_BLOCK_ELEMENTS = 1 << 23


def _as_tensor(x, name: str) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(x).__name__}")


def _prepare_features(q, db) -> tuple[torch.Tensor, torch.Tensor, torch.dtype]:
    """Both sides as 2-D float64 L2-normalised tensors on one device, and the output dtype."""
    q_t, db_t = _as_tensor(q, "queries"), _as_tensor(db, "database")
    for t, name in ((q_t, "queries"), (db_t, "database")):
        if t.ndim != 2:
            raise ValueError(f"{name} features must be 2-D (N, D), got shape {tuple(t.shape)}")
        if not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64)):
            raise TypeError(f"{name} features must be floating point, got {t.dtype}")
    if q_t.shape[1] != db_t.shape[1]:
        raise ValueError(
            f"queries have dimension {q_t.shape[1]} but the database has {db_t.shape[1]}; "
            "extract both with the same model and head"
        )
    if q_t.shape[0] == 0 or db_t.shape[0] == 0:
        raise ValueError(f"empty retrieval set: {q_t.shape[0]} queries, {db_t.shape[0]} database items")
    out_dtype = torch.float64 if torch.float64 in (q_t.dtype, db_t.dtype) else torch.float32
    device = q_t.device if q_t.device.type != "cpu" else db_t.device
    q_t, db_t = q_t.to(device=device, dtype=torch.float64), db_t.to(device=device, dtype=torch.float64)
    for t, name in ((q_t, "queries"), (db_t, "database")):
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} features contain NaN or inf; check the extraction run")
    return F.normalize(q_t, dim=1), F.normalize(db_t, dim=1), out_dtype


def _default_chunk(n_db: int) -> int:
    return max(1, _BLOCK_ELEMENTS // n_db)


def _top_k_block(sims: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-k of each row, ordered by (score descending, index ascending).

    `torch.topk` is fast but leaves the order among equal scores unspecified, both inside the
    top-k and at its boundary. Inside, a two-pass stable sort restores (score, index) order. A
    row whose k-th score is shared by an item outside the top-k may have picked the wrong one;
    such rows (rare with real features) are redone with a full stable sort.
    """
    vals, idx = torch.topk(sims, k, dim=1, largest=True, sorted=True)
    order = torch.argsort(idx, dim=1, stable=True)
    vals, idx = vals.gather(1, order), idx.gather(1, order)
    order = torch.argsort(vals, dim=1, descending=True, stable=True)
    vals, idx = vals.gather(1, order), idx.gather(1, order)

    kth = vals[:, -1:]
    boundary_ties = (sims >= kth).sum(dim=1) > k
    if boundary_ties.any():
        rows = boundary_ties.nonzero(as_tuple=True)[0]
        full_vals, full_idx = torch.sort(sims[rows], dim=1, descending=True, stable=True)
        vals[rows], idx[rows] = full_vals[:, :k], full_idx[:, :k]
    return vals, idx


def top_k_neighbours(q, db, k: int, chunk_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine top-k of every query row of `q` among the rows of `db`.

    Returns `(scores, indices)`, both (Q, min(k, N)) torch tensors on the compute device (CUDA if
    either input is on CUDA): cosine similarities, descending (float64 if either input is float64,
    else float32), and int64 database indices; equal scores are ordered by ascending index.
    No self-exclusion: `q` and `db` are different sets. `chunk_size` queries are scored at a
    time (default: keeps one block of scores under ~8M elements, 64 MiB).
    """
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    q_n, db_n, out_dtype = _prepare_features(q, db)
    k = min(int(k), db_n.shape[0])
    chunk = _default_chunk(db_n.shape[0]) if chunk_size is None else int(chunk_size)
    if chunk < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    scores, indices = [], []
    for start in range(0, q_n.shape[0], chunk):
        vals, idx = _top_k_block(q_n[start : start + chunk] @ db_n.T, k)
        scores.append(vals)
        indices.append(idx)
    return torch.cat(scores).to(out_dtype), torch.cat(indices)


def _label_codes(q_labels, db_labels, n_q: int, n_db: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels of both sides as int64 codes over one shared vocabulary (labels may be strings)."""
    (q_codes, db_codes), _ = encode_labels(as_label_array(q_labels, "query labels", n_q),
                                           as_label_array(db_labels, "database labels", n_db))
    return q_codes, db_codes


def retrieval_recall(
    q_feats,
    q_labels,
    db_feats,
    db_labels,
    ks: Iterable[int] = (1, 5, 10, 20, 50),
    chunk_size: int | None = None,
) -> dict[int, float]:
    """Recall@k: the fraction of queries whose top-k database items (cosine) hold their label.

    Features are (Q, D) and (N, D) tensors or arrays (float32/64, CPU or CUDA); labels are (Q,)
    and (N,) (integers or strings). A k larger than the database counts as N. Returns
    `{k: recall}` for each requested k, in the order given.
    """
    ks = list(ks)
    if not ks:
        raise ValueError("ks is empty; ask for at least one k, e.g. ks=(1, 5)")
    for k in ks:
        if isinstance(k, bool) or int(k) != k or k < 1:
            raise ValueError(f"every k must be a positive integer, got {k!r} in ks={ks}")
    q_n, db_n, _ = _prepare_features(q_feats, db_feats)
    n_q, n_db = q_n.shape[0], db_n.shape[0]
    q_codes, db_codes = _label_codes(q_labels, db_labels, n_q, n_db)
    q_codes, db_codes = q_codes.to(q_n.device), db_codes.to(q_n.device)

    k_max = min(max(int(k) for k in ks), n_db)
    chunk = _default_chunk(n_db) if chunk_size is None else int(chunk_size)
    if chunk < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    hits = {int(k): 0 for k in ks}
    for start in range(0, n_q, chunk):
        _, idx = _top_k_block(q_n[start : start + chunk] @ db_n.T, k_max)
        same = db_codes[idx] == q_codes[start : start + chunk, None]
        # first_hit[i] = rank of the first same-label neighbour, or k_max when none is in the top-k.
        first_hit = torch.where(same.any(dim=1), same.int().argmax(dim=1), k_max)
        for k in hits:
            hits[k] += int((first_hit < min(k, n_db)).sum())
    return {k: hits[k] / n_q for k in hits}


def chance_recall(q_labels, db_labels, ks: Iterable[int] = (1, 5, 10, 20, 50)) -> dict[int, float]:
    """Expected recall@k of a random ranking: per query 1 − C(N − n_c, k) / C(N, k) (n_c database
    items share its class), averaged over queries. The floor every trained model must clear."""
    q_l = as_label_array(q_labels, "query labels")
    db_l = as_label_array(db_labels, "database labels")
    n = len(db_l)
    classes, counts = np.unique(db_l, return_counts=True)
    same = dict(zip(classes.tolist(), counts.tolist()))
    out = {}
    for k in ks:
        k_eff = min(int(k), n)
        out[int(k)] = float(np.mean([1.0 - math.comb(n - same.get(label, 0), k_eff) / math.comb(n, k_eff)
                                     for label in q_l.tolist()]))
    return out
