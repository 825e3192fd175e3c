"""`chance_recall` (the recall@k of a random ranking) against a direct computation: the average over
every ordering of a small database."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from avssl.eval.retrieval import chance_recall

DB_LABELS = ["a", "a", "b", "b", "b", "c", "d"]  # 7 items: 5040 orderings
QUERY_LABELS = ["a", "b", "c", "d", "e", "b"]  # "e" is not in the database: chance 0
KS = (1, 2, 3, 5, 7, 50)


def exhaustive_recall(queries: list[str], database: list[str], k: int) -> Fraction:
    """Mean over queries and over all N! orderings of [some item of the query's class is in the first k]."""
    hits, total = 0, 0
    for order in itertools.permutations(database):
        top = set(order[:k])
        hits += sum(q in top for q in queries)
        total += len(queries)
    return Fraction(hits, total)


@pytest.mark.parametrize("k", KS)
def test_chance_recall_is_the_average_over_all_rankings(k):
    expected = exhaustive_recall(QUERY_LABELS, DB_LABELS, k)
    assert chance_recall(QUERY_LABELS, DB_LABELS, [k])[k] == pytest.approx(float(expected), abs=1e-12)


def test_chance_recall_of_integer_labels_and_every_k_at_once():
    codes = {name: i for i, name in enumerate("abcde")}
    result = chance_recall(np.array([codes[q] for q in QUERY_LABELS]), np.array([codes[d] for d in DB_LABELS]), KS)
    assert list(result) == list(KS)
    assert result[1] == pytest.approx((2 + 3 + 1 + 1 + 0 + 3) / 7 / 6)  # k = 1: n_c / N, averaged over queries
    assert result[7] == result[50] == pytest.approx(5 / 6)  # the whole database: every query but "e"
