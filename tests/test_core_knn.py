"""avssl.core.knn against a float64 brute force: exact on both back-ends, across block boundaries,
with ties, duplicates and self-exclusion by index; approximate indices measured for recall."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from knn_reference import clustered_unit_vectors, exact_grid_vectors, recall, reference_top_k

from avssl.core import SearchSpec, knn

BACKENDS = ("faiss", "torch")
TINY_BLOCKS = 1 << 16  # 16,384 scores per block: many query and database blocks at N = 300


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("exclude_self", [False, True])
def test_exact_search_equals_brute_force_with_ties_and_duplicates(backend, exclude_self):
    db = exact_grid_vectors(300, 8, seed=0, duplicates=20)  # 8 dims of 5 levels: many equal scores
    queries = db[:120]
    spec = SearchSpec(backend=backend, block_bytes=TINY_BLOCKS)
    scores, ids = knn(queries, db, 10, exclude_self=exclude_self, spec=spec)
    truth = reference_top_k(queries.double().numpy() @ db.double().numpy().T, 10, exclude_self)
    assert ids.dtype == torch.int64 and ids.shape == (120, 10)
    np.testing.assert_array_equal(ids.numpy(), truth)
    np.testing.assert_allclose(scores.numpy(), np.take_along_axis(queries.numpy() @ db.numpy().T, truth, 1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_self_is_excluded_by_index_not_by_rank(backend):
    db = exact_grid_vectors(50, 6, seed=1)
    db[7] = db[3]  # row 7 duplicates row 3: for query 3 it is the best neighbour, self is not
    _, ids = knn(db, db, 3, exclude_self=True, spec=SearchSpec(backend=backend))
    assert not (ids == torch.arange(50).unsqueeze(1)).any()
    assert ids[3, 0] == 7 and ids[7, 0] == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_equal_scores_pick_the_smallest_indices(backend):
    db = torch.ones(40, 4)
    _, ids = knn(db[:5], db, 6, exclude_self=True, spec=SearchSpec(backend=backend, block_bytes=TINY_BLOCKS))
    for q in range(5):
        assert ids[q].tolist() == [i for i in range(40) if i != q][:6]


def test_query_offset_searches_a_slice_of_the_rows():
    db = exact_grid_vectors(80, 8, seed=2)
    whole = knn(db, db, 5, exclude_self=True)[1]
    part = knn(db[30:55], db, 5, exclude_self=True, query_offset=30)[1]
    assert torch.equal(part, whole[30:55])


@pytest.mark.parametrize("index", ["ivf", "hnsw"])
def test_approximate_indices_on_clustered_vectors(index):
    db = clustered_unit_vectors(3000, 32, clusters=30, spread=0.3, seed=3)
    truth = reference_top_k(db.double().numpy() @ db.double().numpy().T, 10, exclude_self=True)
    spec = SearchSpec(index=index, ivf_nprobe=8, hnsw_ef_search=64)
    scores, ids = knn(db, db, 10, exclude_self=True, spec=spec)
    assert not (ids == torch.arange(3000).unsqueeze(1)).any()
    assert recall(ids, truth) > 0.9
    assert (scores[:, :-1] >= scores[:, 1:]).all()


def test_bad_requests_name_the_problem():
    db = torch.randn(10, 4)
    with pytest.raises(ValueError, match="k=10"):
        knn(db, db, 10, exclude_self=True)
    with pytest.raises(ValueError, match="same D"):
        knn(torch.randn(3, 5), db, 2)
    with pytest.raises(ValueError, match="backend=faiss or auto"):
        SearchSpec(backend="torch", index="hnsw")
    with pytest.raises(ValueError, match="index='lsh'"):
        SearchSpec(index="lsh")
