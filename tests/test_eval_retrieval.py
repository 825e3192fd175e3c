"""Retrieval recall@k and cosine top-k, checked against a brute force written here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import avssl.eval
from avssl.eval import retrieval_recall, top_k_neighbours

KS = (1, 5, 10, 20, 50)


def brute_force_recall(q, q_labels, db, db_labels, ks):
    """float64 numpy reference: full sort by (-cosine, index), hit if any top-k label matches."""
    q = np.asarray(q, dtype=np.float64)
    db = np.asarray(db, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    db = db / np.linalg.norm(db, axis=1, keepdims=True)
    sims = q @ db.T
    result = {}
    for k in ks:
        hits = 0
        for i in range(len(q)):
            order = sorted(range(len(db)), key=lambda j: (-sims[i, j], j))[: min(k, len(db))]
            hits += any(db_labels[j] == q_labels[i] for j in order)
        result[k] = hits / len(q)
    return result


def random_set(seed, n_q=40, n_db=120, dim=16, n_classes=6):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n_q, dim)),
        rng.integers(0, n_classes, n_q),
        rng.standard_normal((n_db, dim)),
        rng.integers(0, n_classes, n_db),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recall_matches_brute_force_on_random_features(seed):
    q, ql, db, dbl = random_set(seed)
    expected = brute_force_recall(q, ql, db, dbl, KS)
    got = retrieval_recall(
        torch.from_numpy(q), torch.from_numpy(ql), torch.from_numpy(db), torch.from_numpy(dbl)
    )
    assert list(got) == list(KS)
    for k in KS:
        assert got[k] == pytest.approx(expected[k], abs=1e-12)
    # The random labels leave room between ks; a constant recall would mean the test is blind.
    assert len(set(expected.values())) > 1


def test_numpy_float32_inputs_match_brute_force():
    q, ql, db, dbl = random_set(3)
    expected = brute_force_recall(q, ql, db, dbl, KS)
    got = retrieval_recall(q.astype(np.float32), ql, db.astype(np.float32), dbl)
    assert got == pytest.approx(expected, abs=1.0 / len(q) + 1e-12)


def test_planted_duplicates_give_recall_at_1_of_one():
    rng = np.random.default_rng(4)
    n_q, dim = 25, 32
    q = rng.standard_normal((n_q, dim)).astype(np.float32)
    q_labels = np.arange(n_q)
    distractors = rng.standard_normal((200, dim)).astype(np.float32)
    db = np.concatenate([distractors, 3.0 * q])  # scaled copies: cosine 1 exactly
    db_labels = np.concatenate([np.full(200, -1), q_labels])  # no distractor shares a label
    perm = rng.permutation(len(db))
    recall = retrieval_recall(q, q_labels, db[perm], db_labels[perm], ks=(1, 5))
    assert recall == {1: 1.0, 5: 1.0}


def test_hand_computed_example():
    # 2-D unit directions; cosines worked out by hand.
    db = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.6, 0.8]])
    db_labels = np.array([0, 1, 2, 1])
    q = np.array([[2.0, 0.0], [0.0, -1.0], [0.8, 0.6]])
    q_labels = np.array([1, 2, 2])
    # q0 = (1,0): cos = 1, 0, -1, 0.6 -> ranks 0, 3, 1, 2 -> labels 0, 1, 1, 2: first hit at rank 2.
    # q1 = (0,-1): cos = 0, -1, 0, -0.8 -> ranks 0, 2, 3, 1 (tie 0/2 by index) -> labels 0, 2: rank 2.
    # q2 = (0.8,0.6): cos = 0.8, 0.6, -0.8, 0.96 -> ranks 3, 0, 1, 2 -> labels 1, 0, 1, 2: rank 4.
    recall = retrieval_recall(q, q_labels, db, db_labels, ks=(1, 2, 3, 4))
    assert recall == pytest.approx({1: 0.0, 2: 2 / 3, 3: 2 / 3, 4: 1.0})
    scores, indices = top_k_neighbours(q, db, k=4)
    assert indices.tolist() == [[0, 3, 1, 2], [0, 2, 3, 1], [3, 0, 1, 2]]
    assert scores[2].tolist() == pytest.approx([0.96, 0.8, 0.6, -0.8])


def test_k_larger_than_database_is_clipped():
    q, ql, db, dbl = random_set(5, n_q=10, n_db=7)
    recall = retrieval_recall(q, ql, db, dbl, ks=(1, 7, 50, 1000))
    every_label_present = np.mean([label in set(dbl) for label in ql])
    assert recall[50] == recall[1000] == recall[7] == pytest.approx(every_label_present)
    scores, indices = top_k_neighbours(q, db, k=50)
    assert scores.shape == indices.shape == (10, 7)
    assert sorted(indices[0].tolist()) == list(range(7))


def test_ties_are_broken_towards_the_lower_database_index():
    db = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [1.0, 0.0], [5.0, 0.0]], dtype=np.float32)
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    _, indices = top_k_neighbours(q, db, k=2)
    assert indices.tolist() == [[1, 2]]  # four items tie at cosine 1; the first two by index win
    _, indices = top_k_neighbours(q, db, k=5)
    assert indices.tolist() == [[1, 2, 3, 4, 0]]
    # Only the higher-index duplicate carries the query's label, so it is out of the top-1.
    labels = np.array([0, 1, 1, 1, 2])
    assert retrieval_recall(q, np.array([2]), db, labels, ks=(1, 3, 4)) == {1: 0.0, 3: 0.0, 4: 1.0}


def test_ties_do_not_depend_on_the_position_of_equal_items():
    # Many exact ties scattered among distinct scores: topk alone gives no order guarantee here.
    rng = np.random.default_rng(6)
    db = rng.standard_normal((300, 8))
    target = rng.standard_normal(8)
    tied = rng.choice(300, size=60, replace=False)
    db[tied] = target * rng.choice([0.5, 1.0, 2.0, 4.0], size=(60, 1))  # powers of 2: same unit vector
    q = np.stack([target, -target, rng.standard_normal(8)])
    _, indices = top_k_neighbours(torch.from_numpy(q), torch.from_numpy(db), k=70)
    assert indices[0, :60].tolist() == sorted(tied.tolist())  # tie at the top, cut by k=70
    _, indices = top_k_neighbours(torch.from_numpy(q), torch.from_numpy(db), k=300)
    assert indices[1, -60:].tolist() == sorted(tied.tolist())  # tie at the bottom of a full ranking
    _, indices = top_k_neighbours(torch.from_numpy(q), torch.from_numpy(db), k=45)
    assert indices[0].tolist() == sorted(tied.tolist())[:45]  # k falls inside the tied group


@pytest.mark.parametrize("chunk_size", [1, 2, 7])
def test_chunking_gives_identical_results(chunk_size):
    q, ql, db, dbl = random_set(7, n_q=23, n_db=60)
    db[10] = db[3]  # plant ties too
    q[4] = db[3]
    whole = retrieval_recall(q, ql, db, dbl, chunk_size=10_000)
    assert retrieval_recall(q, ql, db, dbl, chunk_size=chunk_size) == whole
    s_all, i_all = top_k_neighbours(q, db, k=9, chunk_size=10_000)
    s_chunk, i_chunk = top_k_neighbours(q, db, k=9, chunk_size=chunk_size)
    assert torch.equal(i_all, i_chunk)
    torch.testing.assert_close(s_all, s_chunk, rtol=0, atol=1e-12)


def test_top_k_scores_are_cosines_in_descending_order():
    q, _, db, _ = random_set(8)
    scores, indices = top_k_neighbours(q, db, k=12)
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    dbn = db / np.linalg.norm(db, axis=1, keepdims=True)
    expected = np.take_along_axis(qn @ dbn.T, indices.numpy(), axis=1)
    np.testing.assert_allclose(scores.numpy(), expected, atol=1e-12)
    assert (scores[:, :-1] >= scores[:, 1:]).all()
    assert scores.dtype == torch.float64 and indices.dtype == torch.int64


def test_string_labels_are_supported():
    q, ql, db, dbl = random_set(9)
    names = np.array(["brushing", "diving", "fencing", "golf", "juggling", "rowing"])
    assert retrieval_recall(q, names[ql], db, names[dbl]) == retrieval_recall(q, ql, db, dbl)


def test_package_exports_retrieval_recall():
    assert avssl.eval.retrieval_recall is retrieval_recall


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ks": (0, 5)}, "positive integer"),
        ({"ks": ()}, "ks is empty"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    q, ql, db, dbl = random_set(10)
    with pytest.raises(ValueError, match=message):
        retrieval_recall(q, ql, db, dbl, **kwargs)


def test_mismatched_shapes_are_rejected_with_their_sizes():
    q, ql, db, dbl = random_set(11)
    with pytest.raises(ValueError, match="dimension 16 but the database has 8"):
        retrieval_recall(q, ql, db[:, :8], dbl)
    with pytest.raises(ValueError, match=r"query labels must have shape \(40,\)"):
        retrieval_recall(q, ql[:5], db, dbl)
    q[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        retrieval_recall(q, ql, db, dbl)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    q, ql, db, dbl = random_set(12, n_q=200, n_db=500)
    db[7] = db[100]
    cpu = retrieval_recall(q, ql, db, dbl)
    cuda = retrieval_recall(
        torch.from_numpy(q).cuda(), ql, torch.from_numpy(db).cuda(), torch.from_numpy(dbl).cuda()
    )
    assert cuda == cpu
    _, i_cpu = top_k_neighbours(q, db, k=20)
    _, i_cuda = top_k_neighbours(torch.from_numpy(q).cuda(), torch.from_numpy(db).cuda(), k=20)
    assert torch.equal(i_cpu, i_cuda.cpu())
