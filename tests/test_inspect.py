"""core.inspect: the numbers behind the window's heatmaps and neuron inspector."""
import numpy as np
import pytest

from core.inspect import (
    first_layer_tiles,
    grid_shape,
    incoming,
    pre_activations,
    projected_weights,
    tile,
    tile_at,
    top_exciting,
)
from core.network import Network


@pytest.mark.parametrize("n,shape", [(20, (4, 5)), (256, (16, 16)), (10, (3, 4)), (1, (1, 1)), (30, (5, 6))])
def test_grid_shape_is_near_square_and_holds_every_tile(n, shape):
    assert grid_shape(n) == shape


def test_tile_places_each_image_and_tile_at_finds_it_again():
    images = np.arange(5, dtype=np.float32)[:, None, None] * np.ones((5, 28, 28), dtype=np.float32)
    grid = tile(images, cols=3)
    assert grid.shape == (2 * 29 - 1, 3 * 29 - 1)
    for k in range(5):
        r, c = divmod(k, 3)
        assert (grid[r * 29:r * 29 + 28, c * 29:c * 29 + 28] == k).all()
        assert tile_at(r * 29 + 14, c * 29 + 3, cols=3, n=5) == k
    assert np.isnan(grid[28, :]).all()  # the gap between rows
    assert tile_at(28, 5, cols=3, n=5) is None  # on a gap
    assert tile_at(40, 70, cols=3, n=5) is None  # where a sixth tile would be
    assert tile_at(-1, 5, cols=3, n=5) is None


def test_first_layer_tiles_are_the_columns_of_W0():
    W0 = np.random.default_rng(0).normal(size=(784, 20)).astype(np.float32)
    tiles = first_layer_tiles(W0)
    assert tiles.shape == (20, 28, 28)
    np.testing.assert_array_equal(tiles[7].ravel(), W0[:, 7])


def test_projection_of_a_deeper_neuron_goes_back_through_the_earlier_weights():
    net = Network.initialised((784, 30, 20, 10), "relu", "softmax", "ce", seed=0)
    np.testing.assert_array_equal(projected_weights(net.W, 1, 4), net.W[0][:, 4])
    np.testing.assert_allclose(projected_weights(net.W, 3, 2), net.W[0] @ (net.W[1] @ net.W[2][:, 2]), rtol=1e-4, atol=1e-6)
    weights, bias = incoming(net.W, net.b, 2, 5)
    np.testing.assert_array_equal(weights, net.W[1][:, 5])
    assert bias == net.b[1][5]
    with pytest.raises(ValueError, match="layer 2 has 20 neurons, got neuron 20"):
        projected_weights(net.W, 2, 20)
    with pytest.raises(ValueError, match="layer must be 1 to 3, got 4"):
        incoming(net.W, net.b, 4, 0)


def zs_of(net, x):
    """Every layer's weighted inputs z[l] = a[l-1] @ W[l-1] + b[l-1], written out here from the
    full forward pass's activations: the oracle for pre_activations."""
    a = net.forward(x)
    return [None] + [a[l - 1].astype(np.float64) @ net.W[l - 1] + net.b[l - 1] for l in range(1, len(a))]


@pytest.mark.parametrize("layer", [1, 2, 3])
def test_top_exciting_ranks_by_z_of_a_full_forward_pass(layer):
    """The k inputs of largest z, largest first, with their z; for the sigmoid layers, the
    same order as their activations' wherever those differ."""
    net = Network.initialised((784, 30, 20, 10), "sigmoid", "softmax", "ce", seed=1)
    x = np.random.default_rng(2).uniform(size=(500, 784)).astype(np.float32)
    best, values = top_exciting(net, x, layer, 3, k=6, chunk=128)
    z = zs_of(net, x)[layer][:, 3]
    np.testing.assert_array_equal(best, np.argsort(-z, kind="stable")[:6])
    np.testing.assert_allclose(values, z[best], rtol=1e-5, atol=1e-5)
    assert (np.diff(values) <= 0).all()
    np.testing.assert_allclose(pre_activations(net, x, layer, 3, chunk=64), z, rtol=1e-5, atol=1e-5)


def test_saturated_sigmoids_are_still_told_apart_by_z():
    """A neuron whose activation is 1.00 to two decimals for all of its top digits: z differs."""
    net = Network.initialised((784, 4, 10), "sigmoid", "softmax", "ce", seed=0)
    net.W[0] *= 20.0  # drives the first layer deep into saturation
    x = np.random.default_rng(3).uniform(size=(200, 784)).astype(np.float32)
    best, z = top_exciting(net, x, 1, 0, k=8)
    a = net.forward(x[best])[1][:, 0]
    assert np.all(np.round(a, 2) == 1.0)
    assert len(np.unique(np.round(z, 1))) == 8
