"""core.diagram: which neurons of a wide layer the diagram shows, and its strongest edges. The
oracles are hand-computed contributions and a brute-force ranking of every (source, target)
pair in plain Python, not the vectorised code."""
import numpy as np
import pytest

from core import diagram

# A hand-made layer: four incoming neurons (one inactive), three outgoing.
A_IN = np.array([1.0, 0.5, 0.0, 2.0], dtype=np.float32)
W = np.array([[0.1, -0.9, 0.3],
              [1.0, 0.2, -0.4],
              [5.0, 5.0, 5.0],  # huge weights from an inactive neuron: they contribute nothing
              [-0.2, 0.05, 0.1]], dtype=np.float32)
# Contributions a_i W_ij, by hand:   target 0     target 1     target 2
#                        source 0     0.1         -0.9          0.3
#                        source 1     0.5          0.1         -0.2
#                        source 2     0            0            0
#                        source 3    -0.4          0.1          0.2
# (0.5 x 0.2 and 2 x 0.05 are both exactly float32(0.1): a tie, as are the two 0.2s.)


def as_tuples(edges):
    return [(int(i), int(j), pytest.approx(float(c), abs=1e-6))
            for i, j, c in zip(edges.source, edges.target, edges.contribution)]


def test_strongest_two_per_neuron_of_a_hand_made_layer():
    edges = diagram.strongest_edges(A_IN, W, np.arange(4), np.arange(3), 2)
    assert as_tuples(edges) == [(1, 0, 0.5), (3, 0, -0.4),  # strongest first, sign kept
                                (0, 1, -0.9), (1, 1, 0.1),  # tie 0.1: the smaller source
                                (0, 2, 0.3), (1, 2, -0.2)]  # tie 0.2: the smaller source


def test_an_inactive_neuron_sends_no_edges_whatever_its_weights():
    edges = diagram.strongest_edges(A_IN, W, np.arange(4), np.arange(3), 4)
    assert 2 not in edges.source
    assert len(edges) == 9  # the three others to each of the three targets


def test_only_the_shown_sources_and_targets():
    edges = diagram.strongest_edges(A_IN, W, np.array([0, 3]), np.array([2]), 5)
    assert as_tuples(edges) == [(0, 2, 0.3), (3, 2, 0.2)]


def test_nan_contributions_are_never_drawn():
    a = A_IN.copy()
    a[0] = np.nan
    edges = diagram.strongest_edges(a, W, np.arange(4), np.arange(3), 4)
    assert 0 not in edges.source and np.isfinite(edges.contribution).all()


def brute_force(a_in, W, sources, targets, k):
    """Every pair ranked by (-|a_i W_ij|, i), in Python: the oracle."""
    out = []
    for j in targets:
        pairs = sorted((-abs(float(a_in[i]) * float(W[i, j])), int(i)) for i in sources)
        out += [(i, int(j)) for size, i in pairs[:k] if size < 0]
    return out


@pytest.mark.parametrize("seed", range(5))
def test_strongest_edges_match_a_brute_force_ranking(seed):
    rng = np.random.default_rng(seed)
    a_in = np.maximum(rng.normal(size=60), 0.0)  # ReLU-like: about half inactive
    W = rng.normal(size=(60, 30))
    sources = np.sort(rng.choice(60, 25, replace=False))
    targets = np.sort(rng.choice(30, 12, replace=False))
    edges = diagram.strongest_edges(a_in, W, sources, targets, 4)
    assert list(zip(edges.source.tolist(), edges.target.tolist())) == brute_force(a_in, W, sources, targets, 4)
    np.testing.assert_allclose(edges.contribution, a_in[edges.source] * W[edges.source, edges.target])


def test_most_active_in_index_order_keeping_the_selected():
    a = np.array([0.1, 0.9, 0.0, 0.5, 0.9])
    assert diagram.most_active(a, 3).tolist() == [1, 3, 4]
    assert diagram.most_active(a, 3, keep=2).tolist() == [1, 2, 4]  # in place of 3, the least
    assert diagram.most_active(a, 3, keep=4).tolist() == [1, 3, 4]  # already among them
    assert diagram.most_active(a, 2).tolist() == [1, 4]  # the tie at 0.9: both
    assert diagram.most_active(np.array([0.0, 0.0, 0.0]), 2).tolist() == [0, 1]  # ties: smaller
    assert diagram.most_active(a, 9).tolist() == [0, 1, 2, 3, 4]
    assert diagram.most_active(np.array([np.nan, 0.2, 0.1]), 1).tolist() == [1]


def test_outgoing_edges_of_a_neuron():
    edges = diagram.outgoing(2.0, np.array([0.5, 0.0, -1.0, 3.0]), 7, np.array([0, 1, 2]))
    assert as_tuples(edges) == [(7, 0, 1.0), (7, 2, -2.0)]  # the zero one left out
    assert len(diagram.outgoing(0.0, np.ones(4), 7, np.arange(4))) == 0  # inactive: none
