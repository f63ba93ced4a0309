"""The loss along the way: the cost on the line between two networks' weights."""
import numpy as np
import pytest

from core.config import TrainConfig
from core.data import one_hot
from core.landscape import ALPHAS, along
from core.network import Network
from core.train import Trainer


@pytest.fixture(scope="module")
def ends(small_mnist):
    trainer = Trainer(small_mnist, TrainConfig(sizes=(784, 32, 10), hidden="relu", output="softmax",
                                               loss="ce", optimizer="adam", lr=1e-3, batch_size=64,
                                               epochs=2))
    start = trainer.net.copy()
    for _ in trainer.run():
        pass
    x, y = small_mnist.x_test[:500], one_hot(small_mnist.y_test[:500])
    return start, trainer.net, x, y


def test_the_ends_of_the_line_are_the_two_networks(ends):
    start, end, x, y = ends
    costs = along(start, end, x, y, np.array([0.0, 1.0]))
    assert costs[0] == pytest.approx(start.cost(x, y), rel=1e-5)
    assert costs[1] == pytest.approx(end.cost(x, y), rel=1e-5)


def test_half_way_is_the_network_of_the_averaged_weights(ends):
    """An independent oracle: the network built by hand from the mean of the two weights."""
    start, end, x, y = ends
    mid = Network(end.sizes, "relu", "softmax", "ce", [(a + b) / 2 for a, b in zip(start.W, end.W)],
                  [(a + b) / 2 for a, b in zip(start.b, end.b)])
    assert along(start, end, x, y, np.array([0.5]))[0] == pytest.approx(mid.cost(x, y), rel=1e-5)


def test_for_these_networks_the_line_falls_smoothly_from_the_start_to_the_end(ends):
    """As Goodfellow, Vinyals and Saxe found: no bump between the start and the end."""
    start, end, x, y = ends
    costs = along(start, end, x, y)
    i0, i1 = int(np.argmin(np.abs(ALPHAS))), int(np.argmin(np.abs(ALPHAS - 1)))
    assert ALPHAS[i0] == 0 and ALPHAS[i1] == 1 and ALPHAS[0] < 0 and ALPHAS[-1] > 1
    assert np.all(np.diff(costs[i0:i1 + 1]) < 0) and costs[i1] < costs[i0] / 2


def test_networks_of_different_shapes_are_refused(ends):
    start, _, x, y = ends
    other = Network.initialised((784, 16, 10), "relu", "softmax", "ce")
    with pytest.raises(ValueError, match="differ"):
        along(start, other, x, y)
