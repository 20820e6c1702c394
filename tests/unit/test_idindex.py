"""IdIndex: positions of ids by binary search, and rankings that cross processes as arrays."""

import pickle

import numpy as np

from aldesk.core.idindex import IdIndex
from aldesk.services.ranking import Ranking


def test_finds_every_position_and_nothing_else():
    rng = np.random.default_rng(0)
    ids = rng.permutation(np.arange(0, 30_000, 3))  # unique, unordered, with gaps
    index = IdIndex(ids)
    assert len(index) == len(ids)
    for pos in (0, 1, 57, len(ids) - 1):
        assert index.get(int(ids[pos])) == pos
    assert index.get(1) is None and index.get(-3) is None and index.get(30_000) is None
    assert IdIndex([]).get(0) is None


def test_ranking_lookups_survive_pickling_without_their_indexes():
    ranking = Ranking(model_version=3, strategy="auto", queue=np.array([42, 7, 19]),
                      scores=np.array([0.9, 0.5, 0.1]), class_ids=(1, 2),
                      predicted_ids=np.array([7, 19, 42, 5]),
                      probs=np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5], [1.0, 0.0]]),
                      votes=np.array([[1, 9], [6, 4], [5, 5], [10, 0]]), members=10)
    assert ranking.rank_of(19) == (2, 0.1)
    probs, votes = ranking.prediction(7)
    assert probs.tolist() == [0.2, 0.8] and votes.tolist() == [1, 9]
    blob = pickle.dumps(ranking)
    assert b"IdIndex" not in blob  # the lookups are rebuilt where they are used
    again = pickle.loads(blob)
    assert again.rank_of(42) == (0, 0.9) and again.rank_of(5) is None
    assert again.prediction(5)[1].tolist() == [10, 0] and again.prediction(8) is None
